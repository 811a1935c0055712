// The command line as a user meets it: --help everywhere, exit codes 0/1/2, the demo run directory, resume.
import { spawn } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readAll } from '../pipeline/store/journal.ts';
import type { CallRecord } from '../pipeline/gateway/types.ts';
import { repoRoot, tmpDir } from './helpers/tmp.ts';

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'pipeline/cli/main.ts', ...args], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('cli', () => {
  it('has --help with an example on every subcommand', async () => {
    const top = await cli(['--help']);
    expect(top.code).toBe(0);
    const names = ['distill', 'sft', 'grpo', 'eval', 'evaluate', 'sim', 'demo', 'smoke', 'bench'];
    for (const n of names) expect(top.stdout).toContain(n);
    const helps = await Promise.all(names.map((n) => cli([n, '--help'])));
    helps.forEach((h, i) => {
      expect(h.code, names[i]).toBe(0);
      expect(h.stdout, names[i]).toContain('Example');
    });
  });

  it('exits 2 with the key path for a bad config or override', async () => {
    const r = await cli(['smoke', '--config', 'configs/demo.yaml', '--set', 'models.worker.limits.concurency=3', '--out', path.join(await tmpDir(), 'x')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('models.worker.limits.concurency');
    expect(r.stderr).toContain('did you mean "concurrency"');
  });

  it('serves the simulator with `sim` until interrupted', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'pipeline/cli/main.ts', 'sim', '--port', '0'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        const m = /listening on (http:\/\/\S+)/.exec(stdout);
        if (m?.[1] !== undefined) resolve(m[1]);
      });
      child.on('exit', () => reject(new Error(`sim exited early: ${stdout}`)));
    });
    const models = (await (await fetch(`${url}/models`)).json()) as { data: Array<{ id: string }> };
    expect(models.data.map((m) => m.id)).toContain('sim-worker');
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(stdout).toContain('== sim');
  });

  it('runs a smoke run into a run directory, then a resumed run repeats no call', async () => {
    const dir = await tmpDir();
    const out = path.join(dir, 'demo');
    const cache = path.join(dir, 'cache');
    const r = await cli(['smoke', '--config', 'configs/demo.yaml', '--out', out, '--calls', '6', '--set', `cache.dir=${cache}`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('== smoke run');
    const files = await readdir(out);
    expect(files).toEqual(expect.arrayContaining(['run.json', 'config.yaml', 'calls.jsonl', 'log.jsonl', 'smoke.json']));
    const meta = JSON.parse(await readFile(path.join(out, 'run.json'), 'utf8')) as { status: string };
    expect(meta.status).toBe('completed');
    const calls = await readAll<CallRecord>(path.join(out, 'calls.jsonl'));
    expect(calls).toHaveLength(18); // 3 roles x 6 calls
    expect(calls.filter((c) => c.role === 'teacher').every((c) => c.ok)).toBe(true);

    const again = await cli(['smoke', '--resume', out, '--set', `cache.dir=${cache}`]);
    expect(again.code, again.stderr).toBe(0);
    const after = await readAll<CallRecord>(path.join(out, 'calls.jsonl'));
    expect(after).toHaveLength(36);
    expect(after.slice(18).every((c) => c.cacheHit)).toBe(true);
  });
});
