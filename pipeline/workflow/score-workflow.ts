// Scores a workflow on a task: K independent executions, each one's solution judged on the public or hidden tests.
import { jobFor, type Task } from '../../datasets/task.ts';
import type { ExecResult } from '../sandbox/job.ts';
import { runWorkflow, type RunWorkflowOptions, type WorkflowDefinition } from './runtime/run-workflow.ts';
import type { WorkflowRunResult } from './runtime/run-types.ts';

export interface ScoredRun {
  run: WorkflowRunResult;
  /** The judged solution; null when the run produced none (its pass rate is then 0, never a silent None). */
  exec: ExecResult | null;
  passRate: number;
}

export interface WorkflowScore {
  /** Mean pass rate over the runs (FlowReasoner: fraction of the split's tests passed, 1.0 iff all pass). */
  score: number;
  runs: ScoredRun[];
  tests: 'public' | 'hidden';
}

/** Fraction of tests passed: 1 when all pass, the per-test share where a benchmark has separate tests, else 0. */
export function passRate(r: ExecResult | null): number {
  if (r === null) return 0;
  if (r.passed) return 1;
  const tests = r.tests ?? [];
  // EvalPlus stops each group at its first failure, so its per-input list is not a share of all inputs.
  if (tests.length === 0 || r.base !== undefined) return 0;
  return tests.filter((t) => t.passed).length / tests.length;
}

export async function scoreWorkflow(
  def: WorkflowDefinition,
  task: Task,
  opts: RunWorkflowOptions & { runs?: number; tests?: 'public' | 'hidden' },
): Promise<WorkflowScore> {
  const k = Math.max(1, opts.runs ?? 3);
  const which = opts.tests ?? 'public';
  const runs = await Promise.all(
    Array.from({ length: k }, async (_, i): Promise<ScoredRun> => {
      const run = await runWorkflow(def, task, { ...opts, runKey: `${opts.runKey ?? 'run'}/${i}` });
      if (run.status !== 'ok' || run.solution.trim() === '') return { run, exec: null, passRate: 0 };
      const exec = await opts.executor.run(jobFor(task, run.solution, which));
      return { run, exec, passRate: passRate(exec) };
    }),
  );
  return { score: runs.reduce((s, r) => s + r.passRate, 0) / k, runs, tests: which };
}
