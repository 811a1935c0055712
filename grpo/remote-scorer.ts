// Scores one meta-agent reply for trainers that call us (verl compute_score shim, OpenRLHF remote reward): parse, run, reward.
import type { Gateway } from '../pipeline/gateway/gateway.ts';
import type { Executor } from '../pipeline/sandbox/executor.ts';
import type { ReplyChecker } from '../pipeline/workflow/check-reply.ts';
import { scoreWorkflow } from '../pipeline/workflow/score-workflow.ts';
import type { WorkflowFailureCode } from '../pipeline/workflow/failures.ts';
import type { WorkflowMetrics } from '../pipeline/workflow/metrics.ts';
import { scoreSample } from '../rewards/combine.ts';
import type { RewardConfig } from '../rewards/config-schema.ts';
import type { StepQuery } from './run-step.ts';

export interface RemoteScoreDeps {
  gateway: Gateway;
  executor: Executor;
  checkReply: ReplyChecker;
  rewards: RewardConfig;
  workerRole: string;
  hiddenRuns: number;
  /** Prompts by uid (`<dataset>:<task id>`). */
  prompts: ReadonlyMap<string, StepQuery>;
}

/** ground_truth is what our prompt dataset stores: JSON naming the task, never its tests. */
export function taskUidOf(groundTruth: string, dataSource: string): string {
  try {
    const g = JSON.parse(groundTruth) as Record<string, unknown>;
    if (typeof g.prompt_uid === 'string') return g.prompt_uid;
    const id = g.task_id ?? g.taskId;
    const ds = g.dataset ?? dataSource;
    if (typeof id === 'string' && typeof ds === 'string') return `${ds}:${id}`;
  } catch {
    // Not JSON: a bare task id.
  }
  return groundTruth.includes(':') ? groundTruth : `${dataSource}:${groundTruth}`;
}

export async function scoreReply(reply: string, uid: string, deps: RemoteScoreDeps, signal?: AbortSignal): Promise<{ score: number; components: Record<string, number>; reason: string | null }> {
  const q = deps.prompts.get(uid);
  if (q === undefined) throw new Error(`unknown task ${uid}`);
  const checked = await deps.checkReply(reply);
  if (!checked.ok) {
    const s = scoreSample({ failures: checked.failures.map((f) => f.code as WorkflowFailureCode), metrics: null, graph: '', runs: [] }, deps.rewards);
    return { score: s.reward ?? 0, components: s.components, reason: s.reason };
  }
  const hidden = await scoreWorkflow({ graph: checked.graph, prompt: checked.prompt }, q.task, {
    gateway: deps.gateway,
    executor: deps.executor,
    workerRole: deps.workerRole,
    runs: deps.hiddenRuns,
    tests: 'hidden',
    runKey: `remote/${uid}`,
    callContext: { stage: 'grpo-score', queryId: uid },
    ...(signal !== undefined ? { signal } : {}),
  });
  const s = scoreSample(
    {
      failures: [],
      metrics: checked.metrics as unknown as WorkflowMetrics,
      graph: checked.graph,
      runs: hidden.runs.map((r) => ({ passRate: r.run.status === 'ok' ? r.passRate : null, status: r.run.status, totals: r.run.totals })),
    },
    deps.rewards,
  );
  return { score: s.reward ?? 0, components: s.components, reason: s.reason };
}
