// The files `flowreasoner eval` writes, as zod schemas: one record per judged sample (eval/samples.jsonl) and the
// table with its statistics (eval/results.json, also rendered as table.md and table.csv). Readers (the report, a
// notebook) can rely on these fields.
import { z } from 'zod';

export const EVAL_RESULTS_SCHEMA = 'flowreasoner-eval/v1';

export const MethodKindSchema = z.enum(['direct', 'workflow', 'meta-agent']);
export type MethodKind = z.infer<typeof MethodKindSchema>;

const IntervalSchema = z.strictObject({ low: z.number(), high: z.number() });

/** One meta-agent round of a sample: the workflow it wrote and its public score (meta-agent samples only). */
export const EvalRoundSchema = z.strictObject({
  round: z.int().min(1),
  valid: z.boolean(),
  /** Why the round has no workflow (every reply attempt was malformed or failed), else null. */
  invalidReason: z.string().nullable(),
  attempts: z.int().min(0),
  modification: z.string(),
  graph: z.string(),
  prompt: z.string(),
  publicScore: z.number().nullable(),
});
export type EvalRound = z.infer<typeof EvalRoundSchema>;

/** One judged sample: a method's answer to one task, judged once on the hidden tests. */
export const EvalSampleSchema = z.strictObject({
  kind: z.literal('sample'),
  /** `<method>|<dataset>:<task id>|<sample index>`: the resume key. */
  key: z.string(),
  method: z.string(),
  methodKind: MethodKindSchema,
  dataset: z.string(),
  taskId: z.string(),
  sample: z.int().min(0),
  /** The workflow that produced the solution (graph and prompt module); null for direct. */
  workflow: z.strictObject({ graph: z.string(), prompt: z.string() }).nullable(),
  /** Meta-agent rounds, in order; the chosen one is `chosenRound`. Empty for other methods. */
  rounds: z.array(EvalRoundSchema),
  chosenRound: z.int().nullable(),
  solution: z.string(),
  /** The hidden-test verdict in the official vocabulary. */
  passed: z.boolean(),
  status: z.string(),
  result: z.string(),
  /** Why the method produced no judged solution (e.g. `no-valid-workflow`, `workflow:timeout`), else null. */
  failure: z.string().nullable(),
  promptTokens: z.int().min(0),
  completionTokens: z.int().min(0),
  cost: z.number().min(0),
  operatorCalls: z.int().min(0),
  workerCalls: z.int().min(0),
  /** Meta-agent rounds used (0 for other methods). */
  roundsUsed: z.int().min(0),
  latencyMs: z.int().min(0),
  finishedAt: z.string(),
});
export type EvalSample = z.infer<typeof EvalSampleSchema>;

/** A task left out of the table, for every method, and why (a BigCodeBench task whose libraries are missing). */
export const EvalExclusionSchema = z.strictObject({
  kind: z.literal('excluded'),
  dataset: z.string(),
  taskId: z.string(),
  reason: z.string(),
  detail: z.string(),
});
export type EvalExclusion = z.infer<typeof EvalExclusionSchema>;

export const EvalCellSchema = z.strictObject({
  method: z.string(),
  /** A dataset name, or `overall` (every task of every dataset pooled). */
  dataset: z.string(),
  tasks: z.int().min(0),
  samples: z.int().min(0),
  /** Mean over tasks of c/n (the unbiased pass@1); null when no task was judged. */
  passAt1: z.number().nullable(),
  interval: IntervalSchema.nullable(),
  /** wilson with one sample per task; a task-level bootstrap when there are more. */
  intervalMethod: z.enum(['wilson', 'bootstrap']),
  /** pass@k for every configured k that each task has samples for (unbiased estimator). */
  passAtK: z.record(z.string(), z.number()),
});
export type EvalCell = z.infer<typeof EvalCellSchema>;

export const EvalMethodTotalsSchema = z.strictObject({
  method: z.string(),
  kind: MethodKindSchema,
  /** Where the method comes from: the workflow file, or the meta-agent's role and model. */
  source: z.string(),
  samples: z.int().min(0),
  cost: z.number(),
  promptTokens: z.int().min(0),
  completionTokens: z.int().min(0),
  operatorCalls: z.int().min(0),
  workerCalls: z.int().min(0),
  /** Mean meta-agent rounds per sample; null for other methods. */
  meanRounds: z.number().nullable(),
  /** Samples that produced no judged solution, by reason. */
  failures: z.record(z.string(), z.int()),
});
export type EvalMethodTotals = z.infer<typeof EvalMethodTotalsSchema>;

export const EvalComparisonSchema = z.strictObject({
  method: z.string(),
  against: z.string(),
  /** vs-direct or vs-best-baseline. */
  role: z.enum(['vs-direct', 'vs-best-baseline']),
  dataset: z.string(),
  tasks: z.int().min(0),
  /** Tasks only `method` solved / only `against` solved (exact McNemar); null for the bootstrap. */
  onlyMethod: z.int().nullable(),
  onlyAgainst: z.int().nullable(),
  /** pass@1 of method minus pass@1 of against, on the shared tasks. */
  difference: z.number(),
  interval: IntervalSchema.nullable(),
  pValue: z.number(),
  test: z.enum(['mcnemar-exact', 'paired-bootstrap']),
  /** True only when the test rejects equality at alpha. */
  significant: z.boolean(),
});
export type EvalComparison = z.infer<typeof EvalComparisonSchema>;

export const EvalResultsSchema = z.strictObject({
  schema: z.literal(EVAL_RESULTS_SCHEMA),
  createdAt: z.string(),
  partition: z.strictObject({ which: z.string(), seed: z.union([z.int(), z.string()]), fractions: z.record(z.string(), z.number()) }),
  samplesPerTask: z.int().min(1),
  alpha: z.number(),
  /** Level of the pass@1 intervals. */
  confidence: z.number(),
  datasets: z.array(
    z.strictObject({
      name: z.string(),
      label: z.string(),
      /** Tasks in the table (judged for every method). */
      tasks: z.int().min(0),
      excluded: z.int().min(0),
      excludedReasons: z.record(z.string(), z.int()),
    }),
  ),
  methods: z.array(EvalMethodTotalsSchema),
  /** The non-meta-agent method with the highest overall pass@1 (direct included); null with no baseline. */
  bestBaseline: z.string().nullable(),
  cells: z.array(EvalCellSchema),
  comparisons: z.array(EvalComparisonSchema),
  /** Samples the run still owes (errors, a budget stop): the table covers only tasks judged for every method. */
  incomplete: z.strictObject({ missingSamples: z.int().min(0), tasksDropped: z.int().min(0) }),
});
export type EvalResults = z.infer<typeof EvalResultsSchema>;
