// The work loop of a long stage: items run `concurrency` at a time, and none starts once the run's budget is spent, the
// run is cancelled, or an item asked to stop; items already running finish. A resumed run picks up what never started.
import pLimit from 'p-limit';
import { isPipelineError } from './errors.ts';

export interface PoolLimits {
  concurrency: number;
  /** The run budget's verdict: a reason to stop, or null (Gateway.accounting.exceeded). */
  exceeded: () => string | null;
  signal?: AbortSignal;
}

/**
 * Runs `work` on each item; an item returns a reason to stop the pool (or nothing), and a budget-exceeded error from
 * it stops the pool too. Other errors propagate. Returns why the pool stopped early, or null when every item ran.
 */
export async function forEachWithinBudget<T>(items: readonly T[], limits: PoolLimits, work: (item: T) => Promise<string | null | undefined | void>): Promise<string | null> {
  let stoppedBy: string | null = null;
  const limit = pLimit(limits.concurrency);
  await Promise.all(
    items.map((item) =>
      limit(async () => {
        if (stoppedBy !== null || limits.signal?.aborted) return;
        const over = limits.exceeded();
        if (over !== null) {
          stoppedBy = over;
          return;
        }
        try {
          const stop = await work(item);
          if (typeof stop === 'string') stoppedBy ??= stop;
        } catch (e) {
          if (!isPipelineError(e, 'budget-exceeded')) throw e;
          stoppedBy ??= limits.exceeded() ?? 'budget exceeded';
        }
      }),
    ),
  );
  return stoppedBy;
}
