// distill on the simulator: a 20-query run, kill -9 and resume, shards merged, faults survived, and no hidden test ever shown to the teacher.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readAll } from '../pipeline/store/journal.ts';
import type { RoundRecord, TraceRecord } from '../distill/records.ts';
import { TraceRecordSchema } from '../distill/records.ts';
import { loadBenchmark } from '../datasets/registry.ts';
import { repoRoot, sharedDatasets, tmpDir } from './helpers/tmp.ts';

const FAST = ['--set', 'sim.latency.fixedMs=2', '--set', 'sim.latency.perTokenMs=0', '--set', 'distill.finalRuns=1'];

function distill(args: string[]): { done: Promise<{ code: number | null; stdout: string; stderr: string }>; kill: () => void } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'pipeline/cli/main.ts', 'distill', '--config', 'configs/demo.yaml', ...FAST, ...args], {
    cwd: repoRoot,
    env: { ...process.env, FLOWREASONER_DATA_DIR: sharedDatasets },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
  return { done, kill: () => child.kill('SIGKILL') };
}

/** A trace without the facts that legitimately differ between runs (timings, cache hits). */
function stable(t: TraceRecord): unknown {
  const strip = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(strip);
    if (x !== null && typeof x === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(x)) if (!['timing', 'latencyMs', 'startedMs', 'cacheHits'].includes(k)) out[k] = strip(v);
      return out;
    }
    return x;
  };
  return strip(t);
}

async function tracesOf(dir: string): Promise<Map<string, unknown>> {
  const recs = await readAll<TraceRecord>(path.join(dir, 'distill', 'traces.jsonl'));
  return new Map(recs.map((t) => [t.queryId, stable(t)]));
}

describe('distill', () => {
  it('runs 20 queries end to end, keeping every round and a valid trace per query', async () => {
    const out = path.join(await tmpDir(), 'd20');
    const r = await distill(['--out', out, '--set', 'distill.maxQueries=20', '--set', 'distill.maxRounds=2', '--set', `cache.dir=${path.join(out, '..', 'cache')}`]).done;
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    expect(r.stdout).toContain('== distill');
    const traces = await readAll<TraceRecord>(path.join(out, 'distill', 'traces.jsonl'));
    expect(traces).toHaveLength(20);
    for (const t of traces) {
      TraceRecordSchema.parse(t);
      expect(t.rounds[0]!.round).toBe(1);
      expect(t.rounds.every((x) => x.queryId === t.queryId)).toBe(true);
    }
    const rounds = await readAll<RoundRecord>(path.join(out, 'distill', 'rounds.jsonl'));
    expect(rounds.length).toBe(traces.reduce((s, t) => s + t.rounds.length, 0));
    // Teacher replies keep their reasoning; generated rounds record the teacher's messages.
    const generated = rounds.filter((x) => x.round > 1);
    expect(generated.length).toBeGreaterThan(0);
    expect(generated.flatMap((x) => x.attempts).every((a) => a.messages.length === 1 && a.messages[0]!.content.length > 100)).toBe(true);
    expect(generated.flatMap((x) => x.attempts).some((a) => (a.reasoning ?? '').length > 20)).toBe(true);
    expect(existsSync(path.join(out, 'distill', 'summary.json'))).toBe(true);
  }, 600_000);

  it('gives identical traces after two kill -9s and resumes as an uninterrupted run', async () => {
    const dir = await tmpDir();
    const common = ['--set', 'distill.maxQueries=8', '--set', 'distill.maxRounds=2', '--set', 'distill.concurrency=4'];
    const base = path.join(dir, 'base');
    const ok = await distill(['--out', base, ...common, '--set', `cache.dir=${path.join(dir, 'cache-base')}`]).done;
    expect(ok.code, ok.stderr.slice(-2000)).toBe(0);

    const killed = path.join(dir, 'killed');
    const cache = ['--set', `cache.dir=${path.join(dir, 'cache-killed')}`];
    let p = distill(['--out', killed, ...common, ...cache]);
    for (let k = 0; k < 2; k++) {
      // Wait until some rounds are on disk, then a random extra moment, then kill -9.
      const journal = path.join(killed, 'distill', 'rounds.jsonl');
      for (let i = 0; i < 600 && !(existsSync(journal) && (await readAll(journal)).length > 2 + 4 * k); i++) await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, Math.random() * 1500));
      p.kill();
      await p.done;
      p = distill(['--resume', killed]);
    }
    const final = await p.done;
    expect(final.code, final.stderr.slice(-2000)).toBe(0);
    const a = await tracesOf(base);
    const b = await tracesOf(killed);
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [id, t] of a) expect(b.get(id), id).toEqual(t);
    // No round was recorded twice.
    const rounds = await readAll<RoundRecord>(path.join(killed, 'distill', 'rounds.jsonl'));
    const keys = rounds.map((r) => `${r.queryId}#${r.round}`);
    expect(new Set(keys).size).toBe(keys.length);
  }, 600_000);

  it('merges 4 shards into what the unsharded run gives, and refuses overlapping shards', async () => {
    const dir = await tmpDir();
    const common = ['--set', 'distill.maxQueries=8', '--set', 'distill.maxRounds=1', '--set', `cache.dir=${path.join(dir, 'cache')}`];
    const whole = path.join(dir, 'whole');
    expect((await distill(['--out', whole, ...common]).done).code).toBe(0);
    const shards = [0, 1, 2, 3].map((i) => path.join(dir, `s${i}`));
    const results = await Promise.all(shards.map((s, i) => distill(['--out', s, '--shard', `${i}/4`, ...common]).done));
    for (const r of results) expect(r.code, r.stderr.slice(-1000)).toBe(0);
    const merged = path.join(dir, 'merged');
    const m = await new Promise<number | null>((resolve) => {
      const c = spawn(process.execPath, ['--import', 'tsx', 'pipeline/cli/main.ts', 'distill', 'merge', ...shards, '--out', merged], { cwd: repoRoot, stdio: 'ignore' });
      c.on('exit', resolve);
    });
    expect(m).toBe(0);
    const a = await tracesOf(whole);
    const b = await tracesOf(merged);
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [id, t] of a) expect(b.get(id), id).toEqual(t);
    const dup = await new Promise<number | null>((resolve) => {
      const c = spawn(process.execPath, ['--import', 'tsx', 'pipeline/cli/main.ts', 'distill', 'merge', shards[0] as string, shards[0] as string, '--out', path.join(dir, 'dup')], { cwd: repoRoot, stdio: 'ignore' });
      c.on('exit', resolve);
    });
    expect(dup).toBe(2);
  }, 600_000);

  it('survives malformed teacher replies and 429 storms, and counts them', async () => {
    const out = path.join(await tmpDir(), 'faulty');
    const r = await distill([
      '--out', out,
      '--set', 'distill.maxQueries=4', '--set', 'distill.maxRounds=2',
      '--set', 'sim.faults.malformedWorkflow.p=0.5', '--set', 'sim.faults.rateLimit.p=0.3', '--set', 'sim.faults.rateLimit.retryAfterMs=5',
      '--set', 'models.worker.limits.maxRetries=20', '--set', 'models.teacher.limits.maxRetries=20',
      '--set', `cache.dir=${path.join(out, '..', 'cache')}`,
    ]).done;
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    const summary = JSON.parse(await (await import('node:fs/promises')).readFile(path.join(out, 'distill', 'summary.json'), 'utf8')) as { queriesDone: number; teacherAttempts: Record<string, number>; failures: Record<string, number> };
    expect(summary.queriesDone).toBe(4);
    expect(summary.teacherAttempts.malformed ?? 0).toBeGreaterThan(0);
    expect(summary.failures['gateway:retried:rate-limited'] ?? 0).toBeGreaterThan(0);
  }, 600_000);

  it('stops cleanly at the run budget after finishing the current round, and resumes with a larger one', async () => {
    const dir = await tmpDir();
    const out = path.join(dir, 'budget');
    const common = ['--set', 'distill.maxQueries=4', '--set', 'distill.maxRounds=2', '--set', 'distill.concurrency=1', '--set', `cache.dir=${path.join(dir, 'cache')}`];
    const stopped = await distill(['--out', out, ...common, '--set', 'budget.maxCostUsd=0.004']).done;
    expect(stopped.code).toBe(1);
    expect(stopped.stdout).toMatch(/stopped by\s+run cost/);
    const fs = await import('node:fs/promises');
    const summary = JSON.parse(await fs.readFile(path.join(out, 'distill', 'summary.json'), 'utf8')) as { queriesDone: number; queries: number; stoppedBy: string | null };
    expect(summary.stoppedBy).toMatch(/budget.maxCostUsd/);
    expect(summary.queriesDone).toBeLessThan(4);
    const meta = JSON.parse(await fs.readFile(path.join(out, 'run.json'), 'utf8')) as { status: string };
    expect(meta.status).toBe('budget-exceeded');
    const resumed = await distill(['--resume', out, '--allow-config-change', '--set', 'budget.maxCostUsd=100']).done;
    expect(resumed.code, resumed.stderr.slice(-1500)).toBe(0);
    expect(await readAll(path.join(out, 'distill', 'traces.jsonl'))).toHaveLength(4);
  }, 600_000);

  it('never shows the teacher a hidden test or a reference solution', async () => {
    const out = path.join(await tmpDir(), 'leak');
    const r = await distill(['--out', out, '--set', 'distill.maxQueries=6', '--set', 'distill.maxRounds=2', '--set', 'sim.worker.accuracy=0.3', '--set', `cache.dir=${path.join(out, '..', 'cache')}`]).done;
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    const traces = await readAll<TraceRecord>(path.join(out, 'distill', 'traces.jsonl'));
    const tasks = new Map([...(await loadBenchmark('humaneval', { dataDir: sharedDatasets })), ...(await loadBenchmark('mbpp', { dataDir: sharedDatasets }))].map((t) => [t.id, t]));
    expect(traces.every((t) => t.queryId === `${t.dataset}:${t.taskId}`)).toBe(true);
    let checked = 0;
    for (const t of traces) {
      const task = tasks.get(t.taskId)!;
      const shown = t.rounds.flatMap((r) => r.attempts.flatMap((a) => a.messages.map((m) => m.content))).join('\n');
      const publicCode = [...(task.publicTests.tests ?? []).map((x) => x.code), task.publicTests.test ?? ''].join('\n');
      const hiddenOnly = [...(task.hiddenTests.tests ?? []).map((x) => x.code), ...(task.hiddenTests.test ?? '').split('\n')]
        .map((l) => l.trim())
        .filter((l) => l.startsWith('assert') && !publicCode.includes(l) && !task.prompt.includes(l));
      for (const line of hiddenOnly) expect(shown, `${t.taskId} hidden test shown`).not.toContain(line);
      const refBody = task.reference.split('\n').map((l) => l.trim()).filter((l) => l.length > 25 && !task.prompt.includes(l));
      for (const line of refBody) expect(shown, `${t.taskId} reference shown`).not.toContain(line);
      checked += shown.length > 0 ? 1 : 0;
    }
    expect(checked).toBeGreaterThan(0);
  }, 600_000);
});
