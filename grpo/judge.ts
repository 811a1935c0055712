// Judges a policy reply's final workflow on the hidden tests: the one path every GRPO reward takes, in-run or over HTTP.
import type { Gateway } from '../pipeline/gateway/gateway.ts';
import type { CallContext } from '../pipeline/gateway/types.ts';
import type { CodeExecutor } from '../pipeline/sandbox/create-executor.ts';
import type { ReplyChecker } from '../pipeline/workflow/check-reply.ts';
import { scoreWorkflow } from '../pipeline/workflow/score-workflow.ts';
import type { RunLimits, RunStatus, RunTotals } from '../pipeline/workflow/runtime/run-types.ts';
import type { Task } from '../datasets/task.ts';

export interface JudgeDeps {
  gateway: Gateway;
  executor: CodeExecutor;
  workerRole: string;
  /** The run limits of grpo.runLimits: a workflow scored over HTTP gets no more time or calls than one scored in-run. */
  runLimits: Partial<RunLimits>;
  hiddenRuns: number;
}

export interface HiddenRun {
  passRate: number | null;
  status: RunStatus;
  totals: RunTotals;
}

/** What the reward needs to know about one sample's final reply (grpo/reward-hooks.ts turns it into a reward). */
export interface JudgedReply {
  status: 'ok' | 'invalid-format' | 'no-solution' | 'sampling-failed' | 'timeout';
  formatFailures: string[];
  metrics: Record<string, unknown> | null;
  workflow: { graph: string; prompt: string } | null;
  hiddenRuns: HiddenRun[];
}

export interface HiddenJudgement {
  hiddenRuns: HiddenRun[];
  passRates: number[];
  totals: { workerTokens: number; costUsd: number; wallS: number };
  anySolution: boolean;
}

/** K executions of a valid workflow on the hidden tests, under the run limits. */
export async function judgeWorkflow(
  workflow: { graph: string; prompt: string },
  task: Task,
  deps: JudgeDeps,
  call: { runKey: string; context: CallContext; signal?: AbortSignal },
): Promise<HiddenJudgement> {
  const hidden = await scoreWorkflow(workflow, task, {
    gateway: deps.gateway,
    executor: deps.executor,
    workerRole: deps.workerRole,
    limits: deps.runLimits,
    runs: deps.hiddenRuns,
    tests: 'hidden',
    runKey: call.runKey,
    callContext: call.context,
    ...(call.signal !== undefined ? { signal: call.signal } : {}),
  });
  const totals = { workerTokens: 0, costUsd: 0, wallS: 0 };
  for (const r of hidden.runs) {
    totals.workerTokens += r.run.totals.promptTokens + r.run.totals.completionTokens;
    totals.costUsd += r.run.totals.cost;
    totals.wallS = Math.max(totals.wallS, r.run.totals.wallMs / 1000);
  }
  return {
    hiddenRuns: hidden.runs.map((r) => ({ passRate: r.run.status === 'ok' ? r.passRate : null, status: r.run.status, totals: r.run.totals })),
    passRates: hidden.runs.map((r) => r.passRate),
    totals,
    anySolution: hidden.runs.some((r) => r.run.status === 'ok'),
  };
}

/** A reply that arrived whole but was not written by our sampler (a trainer's rollout): check it, then judge it. */
export async function judgeReply(
  reply: string,
  task: Task,
  deps: JudgeDeps & { checkReply: ReplyChecker },
  call: { runKey: string; context: CallContext; signal?: AbortSignal },
): Promise<JudgedReply & { passRates: number[] }> {
  const checked = await deps.checkReply(reply);
  if (!checked.ok) return { status: 'invalid-format', formatFailures: checked.failures.map((f) => f.code), metrics: null, workflow: null, hiddenRuns: [], passRates: [] };
  const workflow = { graph: checked.graph, prompt: checked.prompt };
  const j = await judgeWorkflow(workflow, task, deps, call);
  return { status: j.anySolution ? 'ok' : 'no-solution', formatFailures: [], metrics: checked.metrics, workflow, hiddenRuns: j.hiddenRuns, passRates: j.passRates };
}
