// The records distill keeps (rounds.jsonl, traces.jsonl): zod schemas, documented, exported to JSON Schema for readers.
import { z } from 'zod';

const Message = z.strictObject({ role: z.enum(['system', 'user', 'assistant']), content: z.string() });

/** One call to the teacher within a round (a round may need several: malformed or repeated replies are retried). */
export const TeacherAttemptSchema = z.strictObject({
  attempt: z.int().min(0),
  messages: z.array(Message).describe('Exactly what was sent.'),
  reasoning: z.string().nullable().describe('The reasoning channel (reasoning_content / reasoning / <think>), whole.'),
  reply: z.string().describe('The raw reply content, whole.'),
  outcome: z.enum(['accepted', 'malformed', 'repeated', 'call-failed']),
  failures: z.array(z.strictObject({ code: z.string(), message: z.string(), line: z.int().optional() })).default([]),
  promptTokens: z.int().min(0),
  completionTokens: z.int().min(0),
  cost: z.number().min(0),
});

/** One execution of the round's workflow on the public tests. */
export const RoundRunSchema = z.strictObject({
  status: z.string().describe('ok, workflow-raised, load-failed, no-solution, timeout, limit-…'),
  passRate: z.number().min(0).max(1),
  result: z.string().nullable().describe('The executor verdict of the solution on the public tests.'),
  error: z.string().nullable(),
  solution: z.string(),
  operatorCalls: z.int().min(0),
  workerCalls: z.int().min(0),
  promptTokens: z.int().min(0),
  completionTokens: z.int().min(0),
  cost: z.number().min(0),
  trace: z.array(z.record(z.string(), z.unknown())).describe('Operator trace: op, arguments and outputs (truncated), tokens, cost.'),
});

export const RoundRecordSchema = z.strictObject({
  kind: z.literal('round'),
  queryId: z.string(),
  round: z.int().min(1),
  parent: z.int().min(1).nullable().describe('The round this one modified (null for the seed round).'),
  valid: z.boolean(),
  invalidReason: z.string().nullable(),
  attempts: z.array(TeacherAttemptSchema),
  modification: z.string(),
  graph: z.string(),
  prompt: z.string(),
  codeHash: z.string(),
  metrics: z.record(z.string(), z.unknown()).nullable(),
  runs: z.array(RoundRunSchema),
  score: z.number().min(0).max(1).nullable().describe('Mean public pass rate over the runs; null for an invalid round.'),
  feedback: z.array(z.string()).describe('Public-test failures of this round, as later rounds show them to the teacher.'),
  promptTokens: z.int().min(0),
  completionTokens: z.int().min(0),
  cost: z.number().min(0),
  /** Volatile facts (differ between a run and its resumed twin); kept apart so records compare equal otherwise. */
  timing: z.strictObject({ latencyMs: z.number().min(0), finishedAt: z.string(), cacheHits: z.int().min(0) }),
});

export const TraceRecordSchema = z.strictObject({
  kind: z.literal('trace'),
  queryId: z.string(),
  dataset: z.string(),
  taskId: z.string(),
  query: z.string().describe('The task prompt shown to the teacher.'),
  entryPoint: z.string(),
  rounds: z.array(RoundRecordSchema),
  bestRound: z.int().min(1),
  seedScore: z.number().min(0).max(1),
  bestScore: z.number().min(0).max(1),
  hiddenScore: z.number().min(0).max(1).describe('Mean pass rate of the best round on the hidden tests.'),
  hiddenRuns: z.array(RoundRunSchema),
  stopReason: z.enum(['max-rounds', 'converged', 'budget-exceeded', 'query-budget-exceeded']),
  promptTokens: z.int().min(0),
  completionTokens: z.int().min(0),
  cost: z.number().min(0),
  costByRole: z.record(z.string(), z.number()),
  timing: z.strictObject({ latencyMs: z.number().min(0), finishedAt: z.string() }),
});

export type TeacherAttempt = z.infer<typeof TeacherAttemptSchema>;
export type RoundRun = z.infer<typeof RoundRunSchema>;
export type RoundRecord = z.infer<typeof RoundRecordSchema>;
export type TraceRecord = z.infer<typeof TraceRecordSchema>;
