// zod schemas and types of every grpo-exchange/v1 document: run.json, rollout rows, _MANIFEST.json, acks, policy, HTTP bodies.
// The contract is trainer-contract.md §10; Arrow types of the row columns are in rollout-parquet.ts and noted here per field.
import { z } from 'zod';

export const EXCHANGE_SCHEMA = 'grpo-exchange/v1';

/** The reward components of a rollout row, one float64 struct field each (§10.3), in file order. */
export const REWARD_COMPONENT_FIELDS = ['performance', 'complexity', 'efficiency', 'diversity', 'format'] as const;
export type RewardComponentField = (typeof REWARD_COMPONENT_FIELDS)[number];

// JS numbers carry int64 columns: safe integers only (steps and policy versions never get near 2^53).
const int64 = z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);
const int32 = z.number().int().min(-2147483648).max(2147483647);
const int16 = z.number().int().min(-32768).max(32767);
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits');
const isoTime = z.iso.datetime({ offset: true });

/** Consumer ids become part of a file name (`acks/step=N.<consumer>.json`), so no dots, slashes or spaces. */
export const ConsumerIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'consumer id: 1-64 of [A-Za-z0-9_-], starting with a letter or digit');

/**
 * run.json `advantage` (§10.1), copied into every manifest. `singleton` is our extension: how a group with one scored sample
 * was handled (verl: μ := 0, σ := 1; zero: TRL/ART; reject: never emitted). Absent means "not stated".
 */
/** The advantage settings as run.json and every manifest record them (the config's own schema is grpo/advantage-config.ts). */
export const AdvantageRecordSchema = z.strictObject({
  estimator: z.enum(['grpo', 'dr_grpo', 'rloo']),
  std: z.enum(['unbiased', 'population']),
  eps: z.number().min(0),
  scale: z.enum(['group', 'batch', 'none']),
  filter: z.enum(['dapo_nonzero_std', 'none']),
  singleton: z.enum(['zero', 'verl', 'reject']).optional(),
});
export type AdvantageRecord = z.infer<typeof AdvantageRecordSchema>;

/** `<run_root>/run.json`: written once, never changed (§10.1). */
export const RunManifestSchema = z.strictObject({
  schema: z.literal(EXCHANGE_SCHEMA),
  run_id: z.string().min(1),
  base_model: z.string().min(1),
  /** null when the config names no tokenizer revision and none can be read from its path. */
  tokenizer_revision: z.string().min(1).nullable(),
  /** sha256 of the chat template the config's tokenizer applies; null when no tokenizer was given. */
  chat_template_sha256: sha256Hex.nullable(),
  group_size: z.number().int().min(1).max(2147483647),
  advantage: AdvantageRecordSchema,
  created_at: isoTime,
});
export type RunManifest = z.infer<typeof RunManifestSchema>;

function isJsonText(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}
const jsonText = z.string().refine(isJsonText, 'expected a JSON document in a string');

/** Columns of one rollout row (§10.3), in file order. Arrow types are fixed by rollout-parquet.ts. */
const rowShape = {
  /** string */
  run_id: z.string().min(1),
  /** int64; equals the step of the directory that holds the row */
  step: int64.min(0),
  /** string; one id per (prompt, step) */
  group_id: z.string().min(1),
  /** int32; G */
  group_size: int32.min(1),
  /** int32; 0..G−1 */
  sample_idx: int32.min(0),
  /** int16; > 0 only when a multi-turn sample was not append-only */
  segment_idx: int16.min(0),
  /** string */
  prompt_uid: z.string(),
  /** string */
  data_source: z.string(),
  /** list<int32>; exactly as the server returned them */
  input_ids: z.array(int32),
  /** list<int8>; 1 = sampled by the policy */
  loss_mask: z.array(z.number().int().min(0).max(1)),
  /** list<float32>; 0.0 where the mask is 0, never NaN */
  logprobs: z.array(z.number()),
  /** int32; index of the first sampled token */
  prompt_len: int32.min(0),
  /** float64, nullable; null = unscorable */
  reward: z.number().nullable(),
  /** struct<performance, complexity, efficiency, diversity, format: float64> */
  reward_components: z.strictObject(Object.fromEntries(REWARD_COMPONENT_FIELDS.map((n) => [n, z.number()])) as Record<RewardComponentField, z.ZodNumber>),
  /** float64 */
  advantage: z.number(),
  /** int64 */
  policy_version_start: int64,
  /** int64 */
  policy_version_end: int64,
  /** string */
  served_model: z.string(),
  /** string; stop / length / tool_calls / abort (kept open: servers add reasons) */
  finish_reason: z.string(),
  /** bool */
  truncated: z.boolean(),
  /** int32 */
  num_turns: int32.min(0),
  /** string (JSON) */
  messages_json: jsonText,
  /** string (JSON), nullable */
  tools_json: jsonText.nullable(),
  /** string (JSON) */
  sampling_json: jsonText,
  /** string (JSON) */
  metrics_json: jsonText,
};

/** Rules that span several columns of one row. */
function checkRow(row: z.infer<z.ZodObject<typeof rowShape>>, ctx: z.RefinementCtx): void {
  const n = row.input_ids.length;
  if (row.loss_mask.length !== n || row.logprobs.length !== n) {
    ctx.addIssue({ code: 'custom', message: `input_ids, loss_mask and logprobs differ in length (${n}, ${row.loss_mask.length}, ${row.logprobs.length})` });
    return;
  }
  for (let i = 0; i < n; i++) {
    if (row.loss_mask[i] === 0 && row.logprobs[i] !== 0) {
      ctx.addIssue({ code: 'custom', path: ['logprobs', i], message: 'logprob must be 0.0 where loss_mask is 0' });
      return;
    }
  }
  if (row.prompt_len > n) ctx.addIssue({ code: 'custom', path: ['prompt_len'], message: `prompt_len ${row.prompt_len} is past the sequence (${n} tokens)` });
  if (row.sample_idx >= row.group_size) ctx.addIssue({ code: 'custom', path: ['sample_idx'], message: `sample_idx ${row.sample_idx} is not below group_size ${row.group_size}` });
  if (row.reward === null && row.advantage !== 0) ctx.addIssue({ code: 'custom', path: ['advantage'], message: 'an unscorable sample (reward null) must have advantage 0' });
  if (row.policy_version_end < row.policy_version_start) ctx.addIssue({ code: 'custom', path: ['policy_version_end'], message: 'policy_version_end is below policy_version_start' });
}

export const RolloutRowSchema = z.strictObject(rowShape).superRefine(checkRow);
export type RolloutRow = z.infer<typeof RolloutRowSchema>;

/** What a producer hands to writeStep: run_id and step may be left out and are then filled from the step being written. */
export const RolloutRowInputSchema = z
  .strictObject({ ...rowShape, run_id: rowShape.run_id.optional(), step: rowShape.step.optional() })
  .superRefine((r, ctx) => checkRow({ ...r, run_id: r.run_id ?? '-', step: r.step ?? 0 }, ctx));
export type RolloutRowInput = z.input<typeof RolloutRowInputSchema>;

export const ManifestFileSchema = z.strictObject({
  name: z.string().regex(/^part-\d{5}\.parquet$/),
  rows: count,
  bytes: count,
  sha256: sha256Hex,
});
export type ManifestFile = z.infer<typeof ManifestFileSchema>;

/** Drop counters are open-ended (a producer may add e.g. stale_samples); these two are always present (§10.3). */
export const DroppedSchema = z.object({ all_equal_groups: count, unscorable_samples: count }).catchall(count);
export type Dropped = z.infer<typeof DroppedSchema>;

export const ProducerSchema = z.strictObject({ name: z.string().min(1), version: z.string().min(1) });
export type Producer = z.infer<typeof ProducerSchema>;

/** `rollouts/step=N/_MANIFEST.json`; its `files` list is authoritative (§10.4). */
export const StepManifestSchema = z.strictObject({
  schema: z.literal(EXCHANGE_SCHEMA),
  run_id: z.string().min(1),
  step: int64.min(0),
  created_at: isoTime,
  files: z.array(ManifestFileSchema).min(1),
  num_groups: count,
  /** distinct (group_id, sample_idx) */
  num_samples: count,
  /** rows, segments included */
  num_rows: count,
  group_size: z.number().int().min(1),
  /** lowest policy_version_start in the step */
  policy_version_min: int64,
  /** highest policy_version_end in the step */
  policy_version_max: int64,
  advantage: AdvantageRecordSchema,
  /** over samples (one value per sample, segments share it), population std */
  advantage_stats: z.strictObject({ mean: z.number(), std: z.number().min(0) }),
  dropped: DroppedSchema,
  producer: ProducerSchema,
});
export type StepManifest = z.infer<typeof StepManifestSchema>;

/** `acks/step=N.<consumer>.json` (§10.4), also what `POST /v1/rollouts/{step}/ack` stores. */
export const AckSchema = z.strictObject({
  consumer: ConsumerIdSchema,
  step: int64.min(0),
  status: z.enum(['trained', 'dropped']),
  consumed_at: isoTime,
  trained_policy_version: int64.nullable(),
  rows_used: count,
  rows_dropped: count,
  metrics: z.record(z.string(), z.json()),
});
export type Ack = z.infer<typeof AckSchema>;

export const PolicySourceSchema = z.enum(['nccl', 'lora', 'disk']);

/** `policy/current.json` (§10.1). */
export const PolicySchema = z.strictObject({
  version: int64.min(0),
  served_model: z.string().min(1),
  updated_at: isoTime,
  source: PolicySourceSchema,
  path: z.string().min(1).optional(),
});
export type Policy = z.infer<typeof PolicySchema>;

/** One line of `policy/history.jsonl`: the policy plus when the trainer says it synced. */
export const PolicyHistoryRecordSchema = PolicySchema.extend({ synced_at: isoTime.optional() });
export type PolicyHistoryRecord = z.infer<typeof PolicyHistoryRecordSchema>;

/** One group as served over HTTP: the parquet rows of the group, in sample then segment order (§10.6). */
export const StepGroupSchema = z.strictObject({
  group_id: z.string(),
  group_size: z.number().int().min(1),
  prompt_uid: z.string(),
  data_source: z.string(),
  samples: z.array(RolloutRowSchema),
});
export type StepGroup = z.infer<typeof StepGroupSchema>;

/** `GET /v1/rollouts/next` 200 body: the JSON mirror of a committed step. */
export const StepPayloadSchema = z.strictObject({
  step: int64.min(0),
  manifest: StepManifestSchema,
  groups: z.array(StepGroupSchema),
});
export type StepPayload = z.infer<typeof StepPayloadSchema>;

// ---- HTTP request and response bodies (§10.6) ----

export const AckRequestSchema = z.strictObject({
  consumer: ConsumerIdSchema,
  status: z.enum(['trained', 'dropped']),
  trained_policy_version: int64.nullable().optional(),
  metrics: z.record(z.string(), z.json()).optional(),
  /** Default: every row of the step when trained, none when dropped. */
  rows_used: count.optional(),
  rows_dropped: count.optional(),
});
export type AckRequest = z.infer<typeof AckRequestSchema>;

export const PolicyRequestSchema = z.strictObject({
  version: int64.min(0),
  /** Default: `policy@<version>` for LoRA; otherwise the current served model (NCCL keeps the name), else run.json base_model. */
  served_model: z.string().min(1).optional(),
  source: PolicySourceSchema,
  path: z.string().min(1).optional(),
  synced_at: isoTime,
});
export type PolicyRequest = z.infer<typeof PolicyRequestSchema>;

/** verl `compute_score(data_source, solution_str, ground_truth, extra_info)` as JSON. Loose: verl may add keyword args. */
export const ScoreRequestSchema = z.looseObject({
  data_source: z.string(),
  solution_str: z.string(),
  ground_truth: z.string(),
  extra_info: z.record(z.string(), z.json()).nullable().optional(),
});
export type ScoreRequest = z.infer<typeof ScoreRequestSchema>;

/** verl logs (averages) every key besides `score` and fails on null: numbers and strings only. */
export const ScoreResultSchema = z.object({ score: z.number().finite() }).catchall(z.union([z.number().finite(), z.string()]));
export type ScoreResult = z.infer<typeof ScoreResultSchema>;

/** OpenRLHF remote reward (§2): one query per call today, but lists by contract. Loose: newer versions may add fields. */
export const OpenRlhfRequestSchema = z
  .looseObject({ query: z.array(z.string()), prompts: z.array(z.string()), labels: z.array(z.string()) })
  .refine((r) => r.prompts.length === r.query.length && r.labels.length === r.query.length, 'query, prompts and labels must have the same length');
export type OpenRlhfRequest = z.infer<typeof OpenRlhfRequestSchema>;

export const OpenRlhfResultSchema = z.strictObject({
  rewards: z.array(z.number()),
  /** Feeds OpenRLHF's dynamic filtering; defaults to rewards. */
  scores: z.array(z.number()).optional(),
  extra_logs: z.record(z.string(), z.array(z.number())).optional(),
});
export type OpenRlhfResult = z.infer<typeof OpenRlhfResultSchema>;
