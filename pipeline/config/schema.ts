// The root configuration schema: the single source of truth for every YAML file in configs/.
import { z } from 'zod';
import { EndpointSchema } from './endpoint-schema.ts';
import { PartitionSettingsSchema } from '../../datasets/partition.ts';
import { SimOptionsSchema } from '../sim/options.ts';
import { SandboxSchema } from '../sandbox/sandbox-config.ts';

export const RunSchema = z.strictObject({
  // The name becomes part of a directory name (runs/<time>-<command>-<name>-<hex>), which may be at most 255 bytes.
  name: z
    .string()
    .max(64, 'run.name may be at most 64 characters (it becomes part of the run directory name)')
    .regex(/^[A-Za-z0-9._-]+$/, 'run.name may use only letters, digits, ".", "_" and "-" (it becomes part of the run directory name)')
    .default('run')
    .describe('Used in the run id and the run directory name: at most 64 of A-Z a-z 0-9 . _ -.'),
  outDir: z.string().default('runs').describe('Parent directory of run directories.'),
  seed: z.int().default(0).describe('Seed of every sampling choice of the run.'),
  logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
});

export const DataSchema = z.strictObject({
  dir: z.string().default('data').describe('Benchmark files; FLOWREASONER_DATA_DIR overrides it.'),
  partition: PartitionSettingsSchema.prefault({}).describe('Our train/validation/test partition of every benchmark, read by distill, grpo and eval alike.'),
});

export const CacheSchema = z.strictObject({
  enabled: z.boolean().default(true),
  dir: z.string().default('.cache/responses').describe('Shared by all runs on this machine; safe with several processes.'),
});

export const BudgetSchema = z.strictObject({
  maxCostUsd: z.number().positive().optional().describe('Stop the run cleanly once this much has been spent.'),
  maxCostPerQueryUsd: z.number().positive().optional(),
  maxTokens: z.int().positive().optional().describe('Total prompt + completion tokens of the run.'),
});

export const SmokeSchema = z.strictObject({
  calls: z.int().positive().default(40).describe('Gateway smoke run: calls per role.'),
  roles: z.array(z.string()).default([]).describe('Roles to call; empty = every role in models.'),
});

export const RoleNameSchema = z.string().regex(/^[a-z][a-z0-9_-]*$/, 'role names are lower-case words such as teacher, worker, policy, judge');

/**
 * The engine's own sections of a config. The stages' sections (distill, grpo, sft, …) are added by whoever composes
 * the whole schema, the CLI (pipeline/cli/config.ts), so the engine never imports a stage.
 */
export const ENGINE_SECTIONS = {
  $schema: z.string().optional(),
  extends: z.string().optional().describe('Path of a config this one overrides (resolved relative to this file).'),
  run: RunSchema.prefault({}),
  data: DataSchema.prefault({}),
  models: z.record(RoleNameSchema, EndpointSchema).default({}).describe('One endpoint per role.'),
  cache: CacheSchema.prefault({}),
  budget: BudgetSchema.prefault({}),
  sim: SimOptionsSchema.prefault({}).describe('The built-in simulated model server (used by baseUrl: sim and `npm run sim`).'),
  smoke: SmokeSchema.prefault({}),
  sandbox: SandboxSchema.prefault({}).describe('Where candidate code runs: bubblewrap isolation, limits, pool size.'),
};

/** The whole config schema: the engine's sections plus the given stage sections. */
export function composeConfigSchema<S extends z.ZodRawShape>(stages: S) {
  return z.strictObject({ ...ENGINE_SECTIONS, ...stages });
}

/** What the engine reads of any composed config. */
export type EngineConfig = z.infer<ReturnType<typeof composeConfigSchema<Record<never, never>>>>;
