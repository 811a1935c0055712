// Append-only journals: whole records only, torn tails dropped on reopen, kill -9 safe, disk-full reported without damage.
import { spawn, spawnSync } from 'node:child_process';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Journal, readAll, readJournal } from '../pipeline/store/journal.ts';
import { RunStore } from '../pipeline/store/run-dir.ts';
import { repoRoot, tmpDir } from './helpers/tmp.ts';

const writer = path.join(repoRoot, 'tests/helpers/journal-writer.ts');

describe('journal', () => {
  it('keeps every concurrent append exactly once, in whole lines', async () => {
    const f = path.join(await tmpDir(), 'j.jsonl');
    const { journal } = await Journal.open<{ i: number }>(f);
    await Promise.all(Array.from({ length: 500 }, (_, i) => journal.append({ i })));
    await journal.close();
    const recs = await readAll<{ i: number }>(f);
    expect(recs.map((r) => r.i).sort((a, b) => a - b)).toEqual(Array.from({ length: 500 }, (_, i) => i));
  });

  it('drops a torn last line on reopen and appends cleanly after it', async () => {
    const f = path.join(await tmpDir(), 'j.jsonl');
    const { journal } = await Journal.open<{ i: number }>(f);
    for (let i = 0; i < 3; i++) await journal.append({ i });
    await journal.close();
    await appendFile(f, '{"i": 3, "half');
    let torn = 0;
    const seen: unknown[] = [];
    for await (const r of readJournal(f, (b) => (torn = b))) seen.push(r);
    expect(seen).toHaveLength(3);
    expect(torn).toBeGreaterThan(0);

    const { journal: j2, repair } = await Journal.open<{ i: number }>(f);
    expect(repair?.droppedBytes).toBe(Buffer.byteLength('{"i": 3, "half'));
    await j2.append({ i: 99 });
    await j2.close();
    expect((await readAll<{ i: number }>(f)).map((r) => r.i)).toEqual([0, 1, 2, 99]);
  });

  it('drops a terminated line of garbage at the tail (zero-filled blocks after a crash)', async () => {
    const f = path.join(await tmpDir(), 'j.jsonl');
    await writeFile(f, '{"i":0}\n\u0000\u0000\u0000\n');
    const { journal, repair } = await Journal.open(f);
    await journal.close();
    expect(repair).not.toBeNull();
    expect(await readFile(f, 'utf8')).toBe('{"i":0}\n');
  });

  it('refuses to read a damaged line in the middle instead of guessing', async () => {
    const f = path.join(await tmpDir(), 'j.jsonl');
    await writeFile(f, '{"i":0}\nnot json\n{"i":2}\n');
    await expect(readAll(f)).rejects.toMatchObject({ code: 'journal-corrupt' });
  });

  it('survives kill -9 at a random moment: every line whole, sequence contiguous', async () => {
    const dir = await tmpDir();
    for (let round = 0; round < 3; round++) {
      const f = path.join(dir, `k${round}.jsonl`);
      const child = spawn(process.execPath, ['--import', 'tsx', writer, f], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
      let acknowledged = 0;
      child.stdout.on('data', (d: Buffer) => {
        const last = d.toString().trim().split('\n').at(-1);
        if (last !== undefined && /^\d+$/.test(last)) acknowledged = Number(last);
      });
      // Wait until it is writing, then a random extra moment.
      while (acknowledged < 16) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 150));
      const exited = new Promise((r) => child.on('exit', r));
      child.kill('SIGKILL');
      await exited;
      const { journal, repair } = await Journal.open<{ seq: number }>(f);
      await journal.close();
      const recs = await readAll<{ seq: number }>(f);
      // Everything acknowledged as durable is there, in order, with nothing torn.
      expect(recs.length).toBeGreaterThanOrEqual(acknowledged);
      expect(recs.map((r) => r.seq)).toEqual(Array.from({ length: recs.length }, (_, i) => i));
      expect(repair === null || repair.droppedBytes > 0).toBe(true);
    }
  });

  it('reports a full disk as disk-full and leaves only whole records', () => {
    // A private mount namespace with a 64 KiB tmpfs: a real ENOSPC without touching the host's disks.
    const script = [
      'set -e',
      'd=$(mktemp -d)',
      'mount -t tmpfs -o size=64k tmpfs "$d"',
      `out=$("${process.execPath}" --import tsx "${writer}" "$d/j.jsonl" 100000 300 | tail -n 1)`,
      `count=$("${process.execPath}" -e "const fs=require('fs');const t=fs.readFileSync('$d/j.jsonl','utf8');const l=t.split('\\n');const last=l.pop();let ok=0;for(const x of l){JSON.parse(x);ok++};console.log(JSON.stringify({ok,tail:last.length}))")`,
      'echo "$out"',
      'echo "$count"',
    ].join('\n');
    const r = spawnSync('unshare', ['-rm', 'bash', '-c', script], { cwd: repoRoot, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const [outLine, countLine] = r.stdout.trim().split('\n').slice(-2);
    const out = JSON.parse(outLine!) as { done: boolean; written: number; code: string };
    const count = JSON.parse(countLine!) as { ok: number; tail: number };
    expect(out.done).toBe(false);
    expect(out.code).toBe('disk-full');
    expect(count.tail).toBe(0); // no torn line
    expect(count.ok).toBeGreaterThanOrEqual(out.written); // every acknowledged record is there
  });
});

describe('run directory', () => {
  it('creates a run, refuses to overwrite it, and resumes it with its journals', async () => {
    const out = path.join(await tmpDir(), 'run-a');
    const store = await RunStore.create({ outRoot: 'unused', command: 'demo', name: 'demo', dir: out, frozenConfig: { run: { seed: 1 } }, source: { files: [], overrides: [] } });
    const j = await store.journal<{ n: number }>('events.jsonl');
    await j.append({ n: 1 });
    await store.finish('interrupted');
    await expect(RunStore.create({ outRoot: 'unused', command: 'demo', name: 'demo', dir: out, frozenConfig: {}, source: { files: [], overrides: [] } })).rejects.toMatchObject({ code: 'usage' });

    await appendFile(path.join(out, 'events.jsonl'), '{"n": 2, "tor');
    const again = await RunStore.resume(out);
    expect(again.info.resumes).toHaveLength(1);
    const j2 = await again.journal<{ n: number }>('events.jsonl');
    expect(again.repairs.get('events.jsonl')?.droppedBytes).toBeGreaterThan(0);
    await j2.append({ n: 2 });
    await again.finish('completed', { ok: true });
    expect(await readAll(path.join(out, 'events.jsonl'))).toEqual([{ n: 1 }, { n: 2 }]);
    const meta = JSON.parse(await readFile(path.join(out, 'run.json'), 'utf8')) as { status: string };
    expect(meta.status).toBe('completed');
    expect(await readFile(path.join(out, 'config.yaml'), 'utf8')).toContain('seed: 1');
    await expect(RunStore.resume(path.join(out, 'nope'))).rejects.toMatchObject({ code: 'run-not-found' });
  });
});
