// Settings of the simulated model server: one strict zod schema, every field defaulted so `{}` is a valid config.
import { z } from 'zod';

const Probability = z.number().min(0).max(1);

/** A fault that fires with probability p on a request (decided per body and occurrence, see faults.ts). */
const FaultRate = z.strictObject({ p: Probability.default(0) });

export const ReasoningFormatSchema = z.enum(['reasoning_content', 'reasoning', 'think-tags', 'none']);
export type ReasoningFormat = z.infer<typeof ReasoningFormatSchema>;

export const RoleSchema = z.enum(['meta-agent', 'worker']);
export type Role = z.infer<typeof RoleSchema>;

export const ModelSpecSchema = z.strictObject({
  role: RoleSchema,
  /** Left out: meta-agents answer with `reasoning_content` (as DeepSeek-R1 does), workers with none. */
  reasoningFormat: ReasoningFormatSchema.optional(),
});
export type ModelSpec = z.infer<typeof ModelSpecSchema>;

export const SimOptionsSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  /** 0 asks the OS for a free port, which tests use so they can run side by side. */
  port: z.int().min(0).max(65535).default(8399),
  seed: z.int().default(0),
  latency: z
    .strictObject({
      fixedMs: z.number().min(0).default(0),
      perTokenMs: z.number().min(0).default(0),
      jitterMs: z.number().min(0).default(0),
    })
    .prefault({}),
  /** Requests beyond this wait in FIFO order, like vLLM's max-num-seqs. */
  maxConcurrency: z.int().min(1).default(256),
  /** How often a waiting reply writes a keep-alive (blank line or SSE comment); 0 turns it off. */
  keepAliveMs: z.int().min(0).default(15_000),
  worker: z.strictObject({ accuracy: Probability.default(0.8) }).prefault({}),
  models: z.record(z.string().min(1), ModelSpecSchema).default({}),
  faults: z
    .strictObject({
      rateLimit: z.strictObject({ p: Probability.default(0), retryAfterMs: z.int().min(0).default(200) }).prefault({}),
      serverError: FaultRate.prefault({}),
      hang: FaultRate.prefault({}),
      truncate: FaultRate.prefault({}),
      empty: FaultRate.prefault({}),
      malformedWorkflow: FaultRate.prefault({}),
    })
    .prefault({}),
  /** Folder holding HumanEval.jsonl.gz / mbpp.jsonl, so the worker can recognise benchmark tasks. */
  dataDir: z.string().min(1).optional(),
});

export type SimOptions = z.infer<typeof SimOptionsSchema>;
export type SimOptionsInput = z.input<typeof SimOptionsSchema>;
