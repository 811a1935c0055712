// The `grpo` section of a config: prompts, batch and group sizes, rollout mode, rewards, advantages, policy versions, the exchange.
import { z } from 'zod';
import { RunLimitsSchema } from '../pipeline/workflow/runtime/run-types.ts';
import { RewardSchema } from '../rewards/config-schema.ts';
import { AdvantageSettingsSchema } from './advantage-config.ts';

export const GrpoDatasetSchema = z.strictObject({
  name: z.string().min(1),
  split: z.string().optional(),
  version: z.string().optional(),
});

export const GrpoSchema = z.strictObject({
  policyRole: z.string().default('policy'),
  workerRole: z.string().default('worker'),
  baseModel: z.string().default('').describe('Recorded in run.json for the trainer (e.g. the HF id of the student).'),
  tokenizer: z
    .string()
    .optional()
    .describe("The policy's tokenizer directory (or its tokenizer_config.json), read locally: run.json records the sha256 of its chat template. Without it run.json says null."),
  tokenizerRevision: z.string().min(1).optional().describe('The tokenizer revision (a Hub commit or tag) for run.json; read from a Hugging Face cache path (snapshots/<commit>/) when not given.'),
  datasets: z.array(GrpoDatasetSchema).min(1).default([{ name: 'mbpp' }]),
  partition: z.enum(['train', 'validation', 'test', 'all']).default('train'),
  maxPrompts: z.int().positive().optional(),
  steps: z.int().positive().default(100),
  batchSize: z.int().positive().default(8).describe('Prompts per step (B).'),
  groupSize: z.int().min(1).default(8).describe('Samples per prompt (G).'),
  mode: z.enum(['single', 'refine']).default('single').describe('single: one workflow per sample; refine: an m-round conversation with public-test feedback, rewarded on the final round.'),
  refineRounds: z.int().min(1).max(8).default(2),
  hiddenRuns: z.int().min(1).max(10).default(1).describe('Executions of each sample\'s final workflow on the hidden tests (performance reward = mean pass rate).'),
  sampleConcurrency: z.int().positive().default(32),
  sampleDeadlineS: z.number().positive().default(900).describe('No step waits longer than this for a sample; late ones get a timeout status.'),
  maxRefills: z.int().min(0).default(3).describe('DAPO filter: extra sampling rounds to fill the batch after dropping all-equal groups.'),
  rewards: RewardSchema.prefault({}),
  advantage: AdvantageSettingsSchema.prefault({}),
  runLimits: RunLimitsSchema.prefault({}),
  policy: z
    .strictObject({
      mode: z.enum(['on-policy', 'async']).default('on-policy').describe('on-policy: wait for the trainer\'s new version before the next step; async: run ahead up to maxStaleness steps.'),
      maxStaleness: z.int().min(0).default(1),
      waitTimeoutS: z.number().positive().default(3600),
      loraHotLoad: z.boolean().default(false).describe('Load each published LoRA adapter into vLLM (/v1/load_lora_adapter) and sample from policy@<version>.'),
    })
    .prefault({}),
  exchange: z
    .strictObject({
      dir: z.string().optional().describe('Exchange root (default: <run dir>/exchange).'),
      host: z.string().default('127.0.0.1'),
      port: z.int().min(0).max(65535).default(0).describe('0 = any free port (printed at start).'),
      tokenEnv: z.string().optional().describe('Environment variable with the bearer token trainers must send.'),
      rowsPerPart: z.int().positive().default(4096),
    })
    .prefault({}),
  trainer: z
    .strictObject({
      referenceConsumer: z.boolean().default(false).describe('Run scripts/trainers/reference_consumer.py as the trainer (demo and tests).'),
      consumer: z
        .string()
        .regex(/^[A-Za-z0-9_.-]{1,64}$/)
        .optional()
        .describe("The trainer's consumer id. The run then keeps the exchange open until that consumer has acked every step (up to policy.waitTimeoutS), so the last step's ack over HTTP is not refused."),
    })
    .prefault({}),
}).superRefine((g, ctx) => {
  // Checked at load time, as TRL's GRPOTrainer checks num_generations at start-up: otherwise the run fails (or learns
  // nothing) only after the first step's sampling has been paid for.
  if (g.groupSize >= 2) return;
  const needsTwo = (why: string): void => {
    ctx.addIssue({ code: 'custom', path: ['groupSize'], input: g.groupSize, message: `must be at least 2 because ${why}` });
  };
  const a = g.advantage;
  if (a.estimator === 'rloo') needsTwo('advantage.estimator rloo takes the mean of the other samples of a group as the baseline (arXiv 2402.14740)');
  if (a.singleton === 'reject') needsTwo('advantage.singleton reject throws on every group of one sample');
  else if (a.singleton === 'zero') needsTwo('advantage.singleton zero gives every sample of a one-sample group advantage 0, so nothing would be learned');
  if (a.filter === 'dapo_nonzero_std') {
    ctx.addIssue({
      code: 'custom',
      path: ['advantage', 'filter'],
      input: a.filter,
      message: `dapo_nonzero_std compares the rewards within a group, so it needs groupSize ≥ 2 (groupSize is ${g.groupSize}); set filter to none or raise groupSize`,
    });
  }
});

export type GrpoConfig = z.infer<typeof GrpoSchema>;
