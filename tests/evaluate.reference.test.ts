// Every benchmark's own reference solutions pass our executor: the CI gate of design/execution.md §7.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBenchmark } from '../datasets/registry.ts';
import { assembleProgram, jobFor, type Task } from '../datasets/task.ts';
import { Executor } from '../pipeline/sandbox/executor.ts';
import type { ExecResult } from '../pipeline/sandbox/job.ts';
import { sharedDatasets } from './helpers/tmp.ts';

let ex: Executor;
beforeAll(() => {
  ex = new Executor({ workers: 2 });
});
afterAll(async () => {
  await ex.close();
});

/**
 * Runs every reference; a reference that timed out is run once more on its own, because wall-clock limits are
 * load-sensitive (evalplus/evalplus#5) and test files run side by side. Anything else must pass the first time.
 */
async function failingReferences(tasks: Task[]): Promise<Array<{ id: string; result: string }>> {
  const run = (t: Task): Promise<ExecResult> => ex.run(jobFor(t, assembleProgram(t, { solution: t.reference }), 'hidden'));
  const results = await Promise.all(tasks.map(run));
  const failing: Array<{ id: string; result: string }> = [];
  for (const [i, r] of results.entries()) {
    const t = tasks[i] as Task;
    if (r.passed) continue;
    const again = r.status === 'timeout' ? await run(t) : r;
    if (!again.passed) failing.push({ id: t.id, result: again.result });
  }
  return failing;
}

describe('reference solutions pass', () => {
  it.each([
    ['humaneval', 164],
    ['mbpp', 974],
    ['mbpp-sanitized', 427],
    ['mbpp-plus', 378],
    ['humaneval-plus', 164],
  ] as const)('%s: all %i', async (name, count) => {
    const tasks = await loadBenchmark(name, { dataDir: sharedDatasets });
    expect(tasks).toHaveLength(count);
    expect(await failingReferences(tasks)).toEqual([]);
  }, 600_000);
});
