// eval on the simulator: every method on held-out tasks, the table's statistics recomputed from the samples, kill -9 and
// resume, shards merged into the unsharded table, BigCodeBench tasks without their libraries excluded, config errors.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { partitionOf } from '../datasets/partition.ts';
import { readAll } from '../pipeline/store/journal.ts';
import { EvalResultsSchema, EvalSampleSchema, type EvalExclusion, type EvalResults, type EvalSample } from '../eval/results-schema.ts';
import { comparePaired, wilsonInterval } from '../eval/statistics.ts';
import { checkReply } from '../pipeline/workflow/check.ts';
import { OPERATOR_NAMES } from '../pipeline/workflow/operators/registry.ts';
import { evalRun } from './helpers/eval-run.ts';
import { runCli } from './helpers/cli.ts';
import { demoRun } from './helpers/trainer-python.ts';
import { repoRoot, sharedDatasets, tmpDir } from './helpers/tmp.ts';

const PARTITION_SEED = 'flowreasoner-partition-v1';

async function results(dir: string): Promise<EvalResults> {
  return EvalResultsSchema.parse(JSON.parse(await readFile(path.join(dir, 'eval', 'results.json'), 'utf8')));
}

async function samples(dir: string): Promise<EvalSample[]> {
  return (await readAll<unknown>(path.join(dir, 'eval', 'samples.jsonl'))).map((s) => EvalSampleSchema.parse(s));
}

/** A config extending eval-sim.yaml with the given eval section lines. */
async function configWith(dir: string, lines: string[]): Promise<string> {
  const file = path.join(dir, 'eval.yaml');
  await writeFile(file, [`extends: ${path.join(repoRoot, 'configs', 'eval-sim.yaml')}`, ...lines, ''].join('\n'));
  return file;
}

describe('eval on the simulator, every method', () => {
  it('judges only held-out tasks and writes the table with intervals and paired tests that the samples reproduce', async () => {
    const dir = await evalRun();
    const r = await results(dir);
    const all = await samples(dir);
    const cfgMethods = ['direct', 'self-consistency', 'self-refine', 'multi-persona-debate', 'aflow-ensemble-test', 'meta-base', 'meta-sft', 'meta-grpo'];
    expect(r.methods.map((m) => m.method)).toEqual(cfgMethods);
    expect(r.datasets.map((d) => [d.name, d.label, d.tasks])).toEqual([
      ['humaneval', 'HumanEval', 4],
      ['mbpp[test]', 'MBPP', 4],
    ]);
    expect(all).toHaveLength(8 * 8);
    expect(new Set(all.map((s) => s.key)).size).toBe(all.length);
    // Held out: every task is in the test partition, none in train (where distill and grpo draw from).
    for (const s of all) expect(partitionOf(s.taskId, PARTITION_SEED)).toBe('test');

    for (const m of cfgMethods) {
      for (const col of ['humaneval', 'mbpp[test]', 'overall']) {
        const cell = r.cells.find((c) => c.method === m && c.dataset === col);
        const mine = all.filter((s) => s.method === m && (col === 'overall' || s.dataset === col));
        const passed = mine.filter((s) => s.passed).length;
        expect(cell?.tasks).toBe(mine.length);
        expect(cell?.passAt1).toBeCloseTo(passed / mine.length, 12);
        const wilson = wilsonInterval(passed, mine.length);
        expect(cell?.interval?.low).toBeCloseTo(wilson.low, 8);
        expect(cell?.interval?.high).toBeCloseTo(wilson.high, 8);
        expect(cell?.passAtK['pass@1']).toBeCloseTo(passed / mine.length, 12);
      }
    }
    // Each method against direct, on the same tasks, by exact McNemar; significant exactly when p < alpha.
    const byTask = (m: string): boolean[] =>
      all
        .filter((s) => s.method === m)
        .sort((a, b) => `${a.dataset}:${a.taskId}`.localeCompare(`${b.dataset}:${b.taskId}`))
        .map((s) => s.passed);
    for (const m of cfgMethods.slice(1)) {
      const cmp = r.comparisons.find((c) => c.method === m && c.against === 'direct' && c.dataset === 'overall');
      const expected = comparePaired(byTask(m), byTask('direct'));
      expect(cmp).toMatchObject({ role: 'vs-direct', tasks: 8, onlyMethod: expected.onlyA, onlyAgainst: expected.onlyB, test: 'mcnemar-exact' });
      expect(cmp?.pValue).toBeCloseTo(expected.pValue, 12);
      expect(cmp?.significant).toBe((cmp?.pValue ?? 1) < r.alpha);
    }
    // The best baseline is the highest overall pass@1 without a meta-agent, and the others are tested against it too.
    const overall = (m: string): number => r.cells.find((c) => c.method === m && c.dataset === 'overall')?.passAt1 ?? -1;
    const best = cfgMethods.slice(0, 5).reduce((a, b) => (overall(b) > overall(a) ? b : a));
    expect(r.bestBaseline).toBe(best);
    if (best !== 'direct') expect(r.comparisons.filter((c) => c.role === 'vs-best-baseline' && c.dataset === 'overall').map((c) => c.method)).toEqual(cfgMethods.filter((m) => m !== best));

    // The audit trail: each sample has the workflow that ran, the solution and the verdict.
    for (const s of all) {
      expect(typeof s.solution).toBe('string');
      expect(['pass', 'fail', 'timeout', 'no-solution']).toContain(s.status);
      if (s.methodKind === 'direct') expect(s.workflow).toBeNull();
      if (s.methodKind === 'workflow') {
        const file = await readFile(path.join(repoRoot, 'configs', 'eval', 'workflows', `${s.method}.txt`), 'utf8');
        const parsed = await checkReply(file, { knownOperators: OPERATOR_NAMES });
        expect(parsed.ok && s.workflow?.graph === parsed.graph).toBe(true);
      }
      if (s.methodKind === 'meta-agent') {
        expect(s.rounds.length).toBeGreaterThanOrEqual(1);
        expect(s.roundsUsed).toBe(s.rounds.length);
        if (s.chosenRound !== null) expect(s.workflow?.graph).toBe(s.rounds.find((x) => x.round === s.chosenRound)?.graph);
        else expect(s.failure).toBe('no-valid-workflow');
      }
      if (s.passed) expect(s.result).toBe('passed');
    }
    const meta = r.methods.find((m) => m.method === 'meta-sft');
    expect(meta?.meanRounds).toBeGreaterThanOrEqual(1);
    expect(meta?.cost).toBeGreaterThan(0);
    expect(r.methods.find((m) => m.method === 'direct')?.workerCalls).toBe(8);

    const md = await readFile(path.join(dir, 'eval', 'table.md'), 'utf8');
    for (const m of cfgMethods) expect(md).toContain(`| ${m} |`);
    expect(md).toContain('| Method | HumanEval (n=4) | MBPP (n=4) | Overall (n=8) |');
    const csv = (await readFile(path.join(dir, 'eval', 'table.csv'), 'utf8')).trim().split('\n');
    expect(csv).toHaveLength(1 + cfgMethods.length * 3);
    expect(csv[0]?.split(',').slice(0, 8)).toEqual(['method', 'kind', 'dataset', 'tasks', 'samples', 'pass_at_1', 'ci_low', 'ci_high']);
    const run = JSON.parse(await readFile(path.join(dir, 'run.json'), 'utf8')) as { status: string };
    expect(run.status).toBe('completed');
  });
});

function evalProcess(args: string[]): { done: Promise<{ code: number | null; stdout: string; stderr: string }>; kill: () => void } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'pipeline/cli/main.ts', 'eval', ...args], {
    cwd: repoRoot,
    env: { ...process.env, FLOWREASONER_DATA_DIR: sharedDatasets },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
  // The whole group, as a scheduler's kill does: the sandbox workers go with it.
  return { done, kill: () => process.kill(-(child.pid as number), 'SIGKILL') };
}

describe('eval: resume, shards, exclusions, bad input', () => {
  it('resumes after kill -9 without judging any sample twice', async () => {
    const dir = await tmpDir('fr-eval-kill-');
    const config = await configWith(dir, [
      'eval:',
      '  datasets: [{ name: humaneval, maxTasks: 6 }, { name: mbpp, split: test, maxTasks: 6 }]',
      '  methods:',
      '    - { name: direct, kind: direct }',
      '    - { name: self-refine, kind: workflow, file: configs/eval/workflows/self-refine.txt }',
      '    - { name: meta-sft, kind: meta-agent, role: sft, rounds: 2 }',
      '  concurrency: 2',
    ]);
    const out = path.join(dir, 'run');
    const journal = path.join(out, 'eval', 'samples.jsonl');
    const p = evalProcess(['--config', config, '--out', out, '--no-cache']);
    for (let i = 0; i < 600; i++) {
      if (existsSync(journal) && (await readFile(journal, 'utf8')).split('\n').length > 6) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    p.kill();
    await p.done;
    const before = (await readFile(journal, 'utf8')).split('\n').filter((l) => l.endsWith('}'));
    expect(before.length).toBeGreaterThan(0);
    expect(before.length).toBeLessThan(36);
    const r = await runCli(['eval', '--resume', out, '--no-cache']);
    expect(r.code, r.stderr).toBe(0);
    const after = await samples(out);
    expect(after).toHaveLength(36);
    expect(new Set(after.map((s) => s.key)).size).toBe(36);
    // What was judged before the kill is kept as it was, not judged again.
    const text = (await readFile(journal, 'utf8')).split('\n');
    expect(text.slice(0, before.length)).toEqual(before);
    const res = await results(out);
    expect(res.incomplete).toEqual({ missingSamples: 0, tasksDropped: 0 });
    expect(res.cells.find((c) => c.method === 'meta-sft' && c.dataset === 'overall')?.tasks).toBe(12);
  });

  it('counts samples a dead endpoint could not answer, writes none of them, and judges them on --resume', async () => {
    const dir = await tmpDir('fr-eval-dead-');
    const config = await configWith(dir, ['eval:', '  datasets: [{ name: humaneval, maxTasks: 3 }]', '  methods: [{ name: direct, kind: direct }, { name: self-refine, kind: workflow, file: configs/eval/workflows/self-refine.txt }]']);
    const out = path.join(dir, 'run');
    // Every call answered 500, no retries: the worker is down for the whole run.
    const dead = ['--set', 'sim.faults.serverError.p=1', '--set', 'models.worker.limits.maxRetries=0'];
    const first = await runCli(['eval', '--config', config, '--out', out, '--no-cache', ...dead]);
    expect(first.code, first.stderr).toBe(1);
    expect(first.stdout).toMatch(/not judged\s+worker:server-error: 6 \(our side failed; --resume/);
    expect(existsSync(path.join(out, 'eval', 'samples.jsonl')) ? await samples(out) : []).toHaveLength(0);
    const partial = await results(out);
    expect(partial.incomplete).toEqual({ missingSamples: 6, tasksDropped: 3 });
    expect(partial.cells.every((c) => c.tasks === 0 && c.passAt1 === null)).toBe(true);
    const run = JSON.parse(await readFile(path.join(out, 'run.json'), 'utf8')) as { status: string };
    expect(run.status).toBe('failed');
    const second = await runCli(['eval', '--resume', out, '--allow-config-change', '--set', 'sim.faults.serverError.p=0', '--no-cache']);
    expect(second.code, second.stderr).toBe(0);
    expect(await samples(out)).toHaveLength(6);
    expect((await results(out)).incomplete).toEqual({ missingSamples: 0, tasksDropped: 0 });
  });

  it('merges shards into exactly the table of the unsharded run', async () => {
    const dir = await tmpDir('fr-eval-shards-');
    const config = await configWith(dir, [
      'eval:',
      '  datasets: [{ name: humaneval, maxTasks: 3 }, { name: mbpp, split: test, maxTasks: 3 }]',
      '  methods:',
      '    - { name: direct, kind: direct }',
      '    - { name: self-consistency, kind: workflow, file: configs/eval/workflows/self-consistency.txt }',
      '    - { name: meta-grpo, kind: meta-agent, role: grpo, rounds: 2 }',
    ]);
    const runs = await Promise.all([
      runCli(['eval', '--config', config, '--out', path.join(dir, 'whole'), '--no-cache']),
      runCli(['eval', '--config', config, '--out', path.join(dir, 's0'), '--shard', '0/2', '--no-cache']),
      runCli(['eval', '--config', config, '--out', path.join(dir, 's1'), '--shard', '1/2', '--no-cache']),
    ]);
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const merged = await runCli(['eval', 'merge', path.join(dir, 's0'), path.join(dir, 's1'), '--out', path.join(dir, 'merged')]);
    expect(merged.code, merged.stderr).toBe(0);
    const whole = await results(path.join(dir, 'whole'));
    const joined = await results(path.join(dir, 'merged'));
    const shard0 = await samples(path.join(dir, 's0'));
    const shard1 = await samples(path.join(dir, 's1'));
    expect(shard0.length).toBeGreaterThan(0);
    expect(shard1.length).toBeGreaterThan(0);
    // A task's samples of every method stay in one shard.
    const tasks0 = new Set(shard0.map((s) => `${s.dataset}:${s.taskId}`));
    for (const s of shard1) expect(tasks0.has(`${s.dataset}:${s.taskId}`)).toBe(false);
    const { createdAt: _a, ...w } = whole;
    const { createdAt: _b, ...j } = joined;
    expect(j).toEqual(w);
    const verdicts = (list: EvalSample[]): Record<string, boolean> => Object.fromEntries(list.map((s) => [s.key, s.passed]));
    expect(verdicts([...shard0, ...shard1])).toEqual(verdicts(await samples(path.join(dir, 'whole'))));
    // Shards of different configurations are refused.
    const other = await configWith(await tmpDir('fr-eval-other-'), ['eval:', '  samples: 2']);
    const odd = await runCli(['eval', '--config', other, '--out', path.join(dir, 'odd'), '--set', 'eval.datasets=[{name: humaneval, maxTasks: 1}]', '--set', 'eval.methods=[{name: direct, kind: direct}]', '--no-cache']);
    expect(odd.code, odd.stderr).toBe(0);
    const refused = await runCli(['eval', 'merge', path.join(dir, 's0'), path.join(dir, 'odd'), '--out', path.join(dir, 'bad')]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('different configuration');
  });

  it('excludes BigCodeBench tasks whose libraries are missing and counts them, never as failures', async () => {
    const dir = await tmpDir('fr-eval-bcb-');
    // 418 and 419 need tensorflow, which no Debian 12 package provides; 2 and 5 need only the standard library.
    const config = await configWith(dir, ['eval:', '  datasets: [{ name: bigcodebench, taskIds: [BigCodeBench/418, BigCodeBench/419, BigCodeBench/2, BigCodeBench/5] }]', '  methods: [{ name: direct, kind: direct }]']);
    const out = path.join(dir, 'run');
    const r = await runCli(['eval', '--config', config, '--out', out, '--no-cache']);
    expect(r.code, r.stderr).toBe(0);
    const excluded = await readAll<EvalExclusion>(path.join(out, 'eval', 'excluded.jsonl'));
    expect(excluded.map((e) => e.taskId).sort()).toEqual(['BigCodeBench/418', 'BigCodeBench/419']);
    for (const e of excluded) {
      expect(e.reason).toBe('missing-library');
      expect(e.detail).toContain('tensorflow');
    }
    const res = await results(out);
    expect(res.datasets[0]).toMatchObject({ name: 'bigcodebench', label: 'BigCodeBench', tasks: 2, excluded: 2, excludedReasons: { 'missing-library': 2 } });
    expect((await samples(out)).map((s) => s.taskId).sort()).toEqual(['BigCodeBench/2', 'BigCodeBench/5']);
    expect(await readFile(path.join(out, 'eval', 'table.md'), 'utf8')).toContain('Excluded tasks: BigCodeBench 2 (missing-library: 2)');
    expect(r.stdout).toContain('2 judged, 2 excluded');
  });

  it('refuses a task outside the held-out partition, an undefined role and a broken workflow file (exit 2)', async () => {
    const dir = await tmpDir('fr-eval-bad-');
    // HumanEval/0 is in train under the default partition: eval must never judge it.
    expect(partitionOf('HumanEval/0', PARTITION_SEED)).toBe('train');
    const trained = await runCli(['eval', '--config', await configWith(dir, ['eval:', '  datasets: [{ name: humaneval, taskIds: [HumanEval/0] }]']), '--out', path.join(dir, 'a')]);
    expect(trained.code).toBe(2);
    expect(trained.stderr).toContain('HumanEval/0 is in the train partition, not test');
    const broken = path.join(dir, 'broken.txt');
    await writeFile(broken, '<modification>x</modification>\n<graph>\nclass Workflow:\n    pass\n</graph>\n<prompt>\n</prompt>\n');
    const bad = await runCli(['eval', '--config', await configWith(await tmpDir(), ['eval:', '  methods:', `    - { name: mine, kind: workflow, file: ${broken} }`]), '--out', path.join(dir, 'b')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${broken} is not a valid workflow`);
    const role = await runCli(['eval', '--config', await configWith(await tmpDir(), ['eval:', '  methods: [{ name: m, kind: meta-agent, role: nowhere }]']), '--out', path.join(dir, 'c')]);
    expect(role.code).toBe(2);
    expect(role.stderr).toContain('eval needs models.nowhere');
    // The demo distils and trains on every partition: a meta-agent from it has seen the held-out tasks.
    const demo = await demoRun();
    const leaked = await runCli(['eval', '--config', await configWith(await tmpDir(), ['eval:', `  trainedOn: [${demo}]`]), '--out', path.join(dir, 'e')]);
    expect(leaked.code).toBe(2);
    expect(leaked.stderr).toContain(`eval.trainedOn: ${demo} ran distill on the "all" partition`);
    const twice = await runCli(['eval', '--config', await configWith(await tmpDir(), ['eval:', '  methods: [{ name: d, kind: direct }, { name: d, kind: direct }]']), '--out', path.join(dir, 'd')]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('method name "d" is used twice');
  });
});
