// A small eval run on the simulator (every method of configs/eval-sim.yaml, a few held-out HumanEval and MBPP tasks),
// made once per vitest run and shared by the test files that read it (the eval tests, the report's browser test).
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { repoRoot, sharedDatasets } from './tmp.ts';
import { oncePerVitestRun } from './shared-run.ts';
import { runProcess } from './trainer-python.ts';

/** The config of the shared eval run: configs/eval-sim.yaml with fewer tasks. */
export function smallEvalConfig(tasksPerDataset: number): string {
  return [
    `extends: ${path.join(repoRoot, 'configs', 'eval-sim.yaml')}`,
    'eval:',
    '  datasets:',
    `    - { name: humaneval, maxTasks: ${tasksPerDataset} }`,
    `    - { name: mbpp, split: test, maxTasks: ${tasksPerDataset} }`,
    '',
  ].join('\n');
}

/** Runs `flowreasoner eval` once per vitest run and returns its directory; readers must not write into it. */
export async function evalRun(): Promise<string> {
  return oncePerVitestRun('fr-eval-cache-', 'small-eval-v1', async (dir) => {
    const config = path.join(path.dirname(dir), 'eval.yaml');
    await writeFile(config, smallEvalConfig(4));
    const r = await runProcess(process.execPath, ['--import', 'tsx', 'pipeline/cli/main.ts', 'eval', '--config', config, '--out', dir, '--no-cache'], {
      env: { FLOWREASONER_DATA_DIR: process.env.FLOWREASONER_DATA_DIR ?? sharedDatasets },
      timeoutMs: 240_000,
    });
    if (r.code !== 0) throw new Error(`eval failed (exit ${r.code}):\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-4000)}`);
  });
}
