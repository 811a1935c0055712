// The simulated worker's pass rate depends on the workflow only through what the workflow does: more drafts give a
// majority vote more chances to agree on the right program, Test calls run the public tests and redraw what fails,
// and every extra call is paid for in tokens. Measured with `flowreasoner eval` on held-out tasks, judged on the
// hidden tests, at a weak worker (accuracy 0.3).
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EvalResults } from '../eval/results-schema.ts';
import { repoRoot, sharedDatasets, tmpDir } from './helpers/tmp.ts';
import { runProcess } from './helpers/trainer-python.ts';

let results: EvalResults;

beforeAll(async () => {
  const dir = await tmpDir('fr-workflow-value-');
  const config = path.join(dir, 'eval.yaml');
  await writeFile(
    config,
    [
      `extends: ${path.join(repoRoot, 'configs', 'eval-sim.yaml')}`,
      'sim: { worker: { accuracy: 0.3 }, faults: { malformedWorkflow: { p: 0 } } }',
      'eval:',
      '  datasets:',
      '    - { name: humaneval, maxTasks: 20 }',
      '    - { name: mbpp, split: test, maxTasks: 20 }',
      '  methods:',
      '    - { name: direct, kind: direct }',
      `    - { name: self-consistency, kind: workflow, file: ${path.join(repoRoot, 'configs/eval/workflows/self-consistency.txt')} }`,
      `    - { name: aflow-ensemble-test, kind: workflow, file: ${path.join(repoRoot, 'configs/eval/workflows/aflow-ensemble-test.txt')} }`,
      '',
    ].join('\n'),
  );
  const out = path.join(dir, 'run');
  const r = await runProcess(process.execPath, ['--import', 'tsx', 'pipeline/cli/main.ts', 'eval', '--config', config, '--out', out, '--no-cache'], {
    env: { FLOWREASONER_DATA_DIR: process.env.FLOWREASONER_DATA_DIR ?? sharedDatasets },
    timeoutMs: 240_000,
  });
  expect(r.code, r.stderr.slice(-3000)).toBe(0);
  results = JSON.parse(await readFile(path.join(out, 'eval', 'results.json'), 'utf8')) as EvalResults;
}, 260_000);

const pass = (method: string): number => results.cells.find((c) => c.method === method && c.dataset === 'overall')!.passAt1!;
const tokensPerSample = (method: string): number => {
  const m = results.methods.find((x) => x.method === method)!;
  return (m.promptTokens + m.completionTokens) / m.samples;
};

describe('the simulated worker rewards what a workflow does, and charges for it', () => {
  it('an ensemble with tests passes significantly more hidden tests than one call', () => {
    expect(results.cells.find((c) => c.method === 'direct' && c.dataset === 'overall')!.tasks).toBe(40);
    expect(pass('direct')).toBeLessThan(0.45);
    expect(pass('aflow-ensemble-test')).toBeGreaterThan(pass('direct') + 0.25);
    const vsDirect = results.comparisons.find((c) => c.method === 'aflow-ensemble-test' && c.role === 'vs-direct' && c.dataset === 'overall')!;
    expect(vsDirect.significant).toBe(true);
  });

  it('a vote without tests helps far less: the selector is a majority vote, not an oracle', () => {
    expect(pass('self-consistency')).toBeLessThan(pass('aflow-ensemble-test'));
  });

  it('and each of them costs several times the tokens of one call', () => {
    expect(tokensPerSample('self-consistency')).toBeGreaterThan(3 * tokensPerSample('direct'));
    expect(tokensPerSample('aflow-ensemble-test')).toBeGreaterThan(3 * tokensPerSample('direct'));
  });
});
