// The reader side of the distill contract: the trace fields sft uses (distill's writer schema lives in distill/records.ts).
import { z } from 'zod';

/*
 * A stage never imports another stage, so sft restates only what it reads from `distill/traces.jsonl`.
 * `z.object` accepts and drops every key not named here: distill may add fields (or carry ones sft must
 * never export, such as hidden-test runs) without breaking or leaking into this reader. A named field
 * that is missing or has the wrong type is a broken contract and fails the export with file and line.
 */

const AttemptInput = z.object({
  outcome: z.string().describe('accepted, malformed, repeated or call-failed: only the accepted reply is a demonstration.'),
  reasoning: z.string().nullable().describe('The teacher reasoning channel, when the endpoint returned one.'),
  reply: z.string().describe('The raw reply; its <think> block is the reasoning when the channel was empty.'),
});

export const RoundInputSchema = z.object({
  round: z.int().min(1),
  parent: z.int().min(1).nullable(),
  valid: z.boolean(),
  attempts: z.array(AttemptInput),
  modification: z.string(),
  graph: z.string(),
  prompt: z.string(),
  score: z.number().min(0).max(1).nullable().describe('Mean public pass rate; null for an invalid round.'),
  feedback: z.array(z.string()).describe('Public-test failures of this round (never hidden tests).'),
});

export const TraceInputSchema = z.object({
  kind: z.literal('trace'),
  queryId: z.string().min(1),
  dataset: z.string().min(1),
  taskId: z.string().min(1),
  query: z.string(),
  entryPoint: z.string(),
  rounds: z.array(RoundInputSchema).min(1),
  bestRound: z.int().min(1),
  seedScore: z.number().min(0).max(1),
  bestScore: z.number().min(0).max(1),
  hiddenScore: z.number().min(0).max(1).describe('Only the number is read; hidden test runs are never read.'),
});

export type RoundInput = z.infer<typeof RoundInputSchema>;
export type TraceInput = z.infer<typeof TraceInputSchema>;
