// The project's whole config: the engine's sections plus each stage's, composed here at the edge so pipeline/ below
// the CLI never imports a stage. Everything that loads a config for a command goes through loadConfig here.
import type { z } from 'zod';
import { DistillSchema } from '../../distill/config-schema.ts';
import { EvalSchema } from '../../eval/config-schema.ts';
import { GrpoSchema } from '../../grpo/config-schema.ts';
import { SftSchema } from '../../sft/config-schema.ts';
import { jsonSchemaOf } from '../config/json-schema.ts';
import { loadConfigWith, type LoadConfigOptions, type LoadedConfig as LoadedConfigOf } from '../config/load.ts';
import { composeConfigSchema } from '../config/schema.ts';

export const ConfigSchema = composeConfigSchema({
  distill: DistillSchema.prefault({}).describe('The distillation stage (npm run distill).'),
  grpo: GrpoSchema.prefault({}).describe('The GRPO stage (npm run grpo).'),
  sft: SftSchema.prefault({}).describe('The SFT export stage (npm run sft).'),
  eval: EvalSchema.prefault({}).describe('The evaluation stage (npm run eval): methods compared on held-out tasks.'),
});

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;
export type LoadedConfig = LoadedConfigOf<Config>;

export function loadConfig(opts: LoadConfigOptions = {}): Promise<LoadedConfig> {
  return loadConfigWith(ConfigSchema, opts);
}

export function configJsonSchema(): Record<string, unknown> {
  return jsonSchemaOf(ConfigSchema);
}
