// Shapes of a workflow run: its limits, its operator trace, its typed outcome.
import { z } from 'zod';

export const RunLimitsSchema = z.strictObject({
  maxOperatorCalls: z.int().positive().default(40),
  maxWorkerTokens: z.int().positive().default(200_000),
  maxCostUsd: z.number().positive().default(1),
  wallClockS: z.number().positive().default(300),
  /** Reflect-and-fix rounds of the Test operator. */
  testFixRounds: z.int().min(0).max(10).default(3),
  memoryMb: z.int().min(0).default(2048),
});
export type RunLimits = z.infer<typeof RunLimitsSchema>;

export type RunStatus =
  | 'ok'
  | 'invalid-workflow'
  | 'load-failed'
  | 'workflow-raised'
  | 'no-solution'
  | 'bad-solution-type'
  | 'limit-operator-calls'
  | 'limit-tokens'
  | 'limit-cost'
  | 'timeout'
  | 'sandbox-error'
  /** The runtime sent the host a line the protocol does not allow (not a JSON message object, or over the line cap). */
  | 'protocol-error';

export interface TraceEntry {
  seq: number;
  op: string;
  ok: boolean;
  /** Arguments and result, each string cut to a readable length. */
  args: Record<string, unknown>;
  output: Record<string, unknown> | null;
  error?: string;
  /** The error's class (a PipelineError code such as `endpoint-unreachable`, else the error's name): tells a failed model call from a bad argument. */
  errorClass?: string;
  workerCalls: number;
  promptTokens: number;
  completionTokens: number;
  cost: number;
  cacheHits: number;
  latencyMs: number;
  startedMs: number;
}

export interface RunTotals {
  operatorCalls: number;
  workerCalls: number;
  promptTokens: number;
  completionTokens: number;
  cost: number;
  cacheHits: number;
  wallMs: number;
}

export interface WorkflowRunResult {
  status: RunStatus;
  /** The final solution code; '' when the run produced none. */
  solution: string;
  /** For failures: what went wrong, with the Python traceback where there is one (feedback for the meta-agent). */
  error?: { message: string; traceback?: string };
  trace: TraceEntry[];
  totals: RunTotals;
  /** sha256 of the graph and prompt module that ran. */
  codeHash: string;
  /** What the workflow printed (truncated). */
  output?: string;
}
