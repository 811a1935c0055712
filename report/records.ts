// What the report reads from a run directory: zod schemas with only the fields it shows, lenient to any others
// (a stage may add fields without breaking its report). Writers' schemas: distill/records.ts, sft/stats.ts,
// grpo/ metrics, eval/results-schema.ts; the report imports none of them (stages meet through files).
import { z } from 'zod';

const num = z.number();
const optNum = z.number().nullable().optional();
const counts = z.record(z.string(), z.number());

export const RunJsonSchema = z.object({
  id: z.string().optional(),
  command: z.string().optional(),
  status: z.string().optional(),
  createdAt: z.string().optional(),
  updatedAt: z.string().optional(),
  resumes: z.array(z.string()).optional(),
  host: z.string().optional(),
  nodeVersion: z.string().optional(),
  source: z.object({ files: z.array(z.object({ path: z.string() })).optional(), overrides: z.array(z.string()).optional() }).optional(),
  summary: z.record(z.string(), z.unknown()).nullable().optional(),
});
export type RunJson = z.infer<typeof RunJsonSchema>;

/** One line of distill/rounds.jsonl: the score and the teacher's attempts. */
export const RoundLineSchema = z.object({
  queryId: z.string(),
  round: z.number().int().min(1),
  valid: z.boolean(),
  score: z.number().nullable(),
  attempts: z.array(z.object({ outcome: z.string() })),
  cost: num.optional(),
});
export type RoundLine = z.infer<typeof RoundLineSchema>;

const TraceRoundSchema = z.object({
  round: z.number().int(),
  modification: z.string().optional(),
  graph: z.string(),
  prompt: z.string(),
  score: z.number().nullable().optional(),
});

/** One line of distill/traces.jsonl: scores of the query and its rounds (for the best workflow). */
export const TraceLineSchema = z.object({
  queryId: z.string(),
  dataset: z.string().optional(),
  taskId: z.string().optional(),
  rounds: z.array(TraceRoundSchema),
  bestRound: z.number().int(),
  seedScore: num,
  bestScore: num,
  hiddenScore: num,
  stopReason: z.string().optional(),
  cost: num.optional(),
});
export type TraceLine = z.infer<typeof TraceLineSchema>;

export const DistillSummarySchema = z.object({
  queries: optNum,
  queriesDone: optNum,
  queriesSkipped: optNum,
  rounds: optNum,
  generatedRounds: optNum,
  validRounds: optNum,
  validReplyRate: optNum,
  meanSeedScore: optNum,
  meanBestScore: optNum,
  meanHiddenScore: optNum,
  stopReasons: counts.optional(),
  teacherAttempts: counts.optional(),
  costByRole: counts.optional(),
  failures: counts.optional(),
  stoppedBy: z.string().nullable().optional(),
});
export type DistillSummary = z.infer<typeof DistillSummarySchema>;

/** One line of calls.jsonl (pipeline/gateway/types.ts CallRecord): who was called, at what cost. */
export const CallLineSchema = z.object({
  role: z.string(),
  stage: z.string().nullable().optional(),
  cost: num,
  ok: z.boolean().optional(),
  cacheHit: z.boolean().optional(),
});
export type CallLine = z.infer<typeof CallLineSchema>;

const SftShapeSchema = z.object({ train: optNum, validation: optNum, droppedTooLong: optNum });

export const SftStatsSchema = z.object({
  config: z.object({ charsPerToken: z.number().positive().optional() }).optional(),
  tokenCounter: z.string().optional(),
  traces: optNum,
  queries: z.object({ kept: num, dropped: counts }).optional(),
  rounds: z.object({ total: optNum, invalid: optNum, onKeptPaths: optNum, offPath: optNum }).optional(),
  singleTurn: SftShapeSchema.optional(),
  multiTurn: SftShapeSchema.optional(),
  rl: z.object({ train: optNum, validation: optNum }).optional(),
  files: z.array(z.object({ path: z.string(), shape: z.string().optional(), split: z.string().nullable().optional(), rows: optNum })).optional(),
  skipped: z.array(z.unknown()).optional(),
  warnings: z.array(z.string()).optional(),
});
export type SftStats = z.infer<typeof SftStatsSchema>;

/** One line of an SFT `messages` file: only the texts, to count their tokens. */
export const SftSampleSchema = z.object({
  messages: z.array(z.object({ content: z.string(), reasoning_content: z.string().optional() })),
});
export type SftSample = z.infer<typeof SftSampleSchema>;

const Components = z.object({ performance: optNum, complexity: optNum, efficiency: optNum, diversity: optNum, format: optNum });

/** One line of grpo/metrics.jsonl: one step. */
export const GrpoMetricsSchema = z.object({
  step: z.number().int().min(0),
  rewardMean: optNum,
  rewardStd: optNum,
  components: Components.optional(),
  passRate: optNum,
  validFormat: optNum,
  operatorCallSites: optNum,
  policyTokens: optNum,
  workerTokens: optNum,
  filteredGroups: optNum,
  staleness: optNum,
  samplingS: optNum,
  executionS: optNum,
  writeS: optNum,
  wallS: optNum,
});
export type GrpoMetrics = z.infer<typeof GrpoMetricsSchema>;

const Interval = z.object({ low: num, high: num });

/** eval/results.json (eval/results-schema.ts, flowreasoner-eval/v1): the table, totals and paired comparisons. */
export const EvalResultsSchema = z.object({
  schema: z.string().optional(),
  createdAt: z.string().optional(),
  samplesPerTask: optNum,
  alpha: optNum,
  confidence: optNum,
  partition: z.object({ which: z.string().optional() }).optional(),
  datasets: z.array(z.object({ name: z.string(), label: z.string().optional(), tasks: num, excluded: optNum, excludedReasons: counts.optional() })),
  methods: z.array(
    z.object({
      method: z.string(),
      kind: z.string().optional(),
      source: z.string().optional(),
      samples: optNum,
      cost: optNum,
      promptTokens: optNum,
      completionTokens: optNum,
      operatorCalls: optNum,
      workerCalls: optNum,
      meanRounds: optNum,
      failures: counts.optional(),
    }),
  ),
  bestBaseline: z.string().nullable().optional(),
  cells: z.array(
    z.object({ method: z.string(), dataset: z.string(), tasks: num, samples: optNum, passAt1: z.number().nullable(), interval: Interval.nullable().optional(), intervalMethod: z.string().optional() }),
  ),
  comparisons: z.array(
    z.object({
      method: z.string(),
      against: z.string(),
      role: z.string().optional(),
      dataset: z.string(),
      tasks: num,
      difference: num,
      interval: Interval.nullable().optional(),
      pValue: num,
      test: z.string().optional(),
      significant: z.boolean(),
    }),
  ),
  incomplete: z.object({ missingSamples: num, tasksDropped: num }).optional(),
});
export type EvalResults = z.infer<typeof EvalResultsSchema>;
