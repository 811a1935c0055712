// The `distill` section of a config: which queries, how many rounds and runs, parent selection, retries, concurrency.
import { z } from 'zod';
import { RunLimitsSchema } from '../pipeline/workflow/runtime/run-types.ts';
import { FLOWREASONER_SELECTION } from './parent-selection.ts';

export const DistillDatasetSchema = z.strictObject({
  name: z.string().min(1).describe('A benchmark name (humaneval, mbpp, mbpp-plus, bigcodebench, …) or custom:FILE.'),
  split: z.string().optional().describe('MBPP family: the official split (train, validation, test, prompt, all).'),
  version: z.string().optional(),
});

export const DistillSchema = z.strictObject({
  datasets: z.array(DistillDatasetSchema).min(1).default([{ name: 'mbpp' }]),
  partition: z.enum(['train', 'validation', 'test', 'all']).default('train').describe('Which part of data.partition distill works on (it trains on train).'),
  maxQueries: z.int().positive().optional().describe('Take at most this many queries (after partitioning, in a seeded order).'),
  queryIds: z.array(z.string()).optional().describe('Exactly these task ids.'),
  maxRounds: z.int().min(1).max(100).default(10).describe('Generated rounds after the seed round.'),
  runsPerRound: z.int().min(1).max(20).default(3).describe('Independent executions per round (K; FlowReasoner: 3).'),
  finalRuns: z.int().min(1).max(20).default(3).describe('Executions of the best round on the hidden tests.'),
  stopAfterPerfectRounds: z.int().min(1).default(2).describe('Stop early once the best public pass rate has been 1.0 for this many rounds.'),
  selection: z
    .strictObject({
      // The paper's settings are the defaults (flowreasoner.md §2).
      candidates: z.int().min(1).default(FLOWREASONER_SELECTION.candidates),
      uniformWeight: z.number().min(0).max(1).default(FLOWREASONER_SELECTION.uniformWeight),
      alpha: z.number().positive().default(FLOWREASONER_SELECTION.alpha),
    })
    .prefault({}),
  maxReplyRetries: z.int().min(0).max(20).default(3).describe('Teacher retries for a malformed reply or a repeated modification, per round.'),
  concurrency: z.int().min(1).max(256).default(4).describe('Queries in flight at once (the gateway limits still apply).'),
  teacherRole: z.string().default('teacher'),
  workerRole: z.string().default('worker'),
  runLimits: RunLimitsSchema.prefault({}),
  feedbackItems: z.int().min(0).max(20).default(3).describe('Public-test failures of the parent shown to the teacher.'),
});

export type DistillConfig = z.infer<typeof DistillSchema>;
