// The root configuration schema: the single source of truth for every YAML file in configs/.
import { z } from 'zod';
import { EndpointSchema } from './endpoint-schema.ts';
import { SimOptionsSchema } from '../sim/options.ts';
import { SandboxSchema } from '../sandbox/sandbox-config.ts';
import { DistillSchema } from '../../distill/config-schema.ts';
import { GrpoSchema } from '../../grpo/config-schema.ts';
import { SftSchema } from '../../sft/config-schema.ts';

export const RunSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9._-]+$/).default('run').describe('Used in the run id.'),
  outDir: z.string().default('runs').describe('Parent directory of run directories.'),
  seed: z.int().default(0).describe('Seed of every sampling choice of the run.'),
  logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
});

export const DataSchema = z.strictObject({
  dir: z.string().default('data').describe('Benchmark files; FLOWREASONER_DATA_DIR overrides it.'),
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

export const ConfigSchema = z.strictObject({
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
  distill: DistillSchema.prefault({}).describe('The distillation stage (npm run distill).'),
  grpo: GrpoSchema.prefault({}).describe('The GRPO stage (npm run grpo).'),
  sft: SftSchema.prefault({}).describe('The SFT export stage (npm run sft).'),
});

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;
