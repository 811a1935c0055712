// A full disk at any point of a distill run: status `disk-full` in run.json (never left `running`), the disk-full exit code, one clear message, no stack trace.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PipelineError } from '../pipeline/errors.ts';
import { exitCodeFor } from '../pipeline/cli/exit-codes.ts';
import { RunStore } from '../pipeline/store/run-dir.ts';
import { repoRoot, sharedDatasets, tmpDir } from './helpers/tmp.ts';

const mounted: string[] = [];

/** A private tmpfs of `size`: a real ENOSPC at a chosen fill level without touching the host's disks. */
async function smallDisk(size: string): Promise<string> {
  const dir = path.join(await tmpDir('fr-diskfull-'), 'disk');
  await mkdir(dir);
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`cannot mount a ${size} tmpfs at ${dir} (uid ${process.getuid?.() ?? '?'}; this test needs root): ${r.error?.message ?? r.stderr.trim()}`);
  }
  mounted.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of mounted.splice(0)) spawnSync('umount', [dir]);
});

/** Writes zeros until the disk refuses, so that the next allocation fails. */
async function fill(dir: string): Promise<void> {
  const fh = await open(path.join(dir, 'filler'), 'w');
  const block = Buffer.alloc(4096);
  try {
    for (;;) await fh.write(block);
  } catch (e) {
    expect((e as NodeJS.ErrnoException).code).toBe('ENOSPC');
  } finally {
    await fh.close();
  }
}

function distill(disk: string, cache: boolean): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const args = ['--import', 'tsx', 'pipeline/cli/main.ts', 'distill', '--config', 'configs/demo.yaml', '--out', path.join(disk, 'run'), '--set', `cache.dir=${path.join(disk, 'cache')}`];
  args.push('--set', 'distill.maxQueries=2', '--set', 'distill.maxRounds=1', ...(cache ? [] : ['--no-cache']));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: repoRoot, env: { ...process.env, FLOWREASONER_DATA_DIR: sharedDatasets }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const DISK_FULL_EXIT = exitCodeFor(new PipelineError('disk-full', 'x'));

describe('distill on a full disk', () => {
  // The whole run needs about 112 KiB here. 4k: not even config.yaml; 8k: no room for run.json; then the log and
  // calls.jsonl, rounds (48k), traces (100k), and at 108k only distill/summary.json is refused.
  const levels: Array<[string, boolean]> = [
    ['4k', false],
    ['8k', false],
    ['12k', false],
    ['24k', true],
    ['48k', false],
    ['100k', false],
    ['108k', false],
  ];
  for (const [size, cache] of levels) {
    it(`stops with disk-full on a ${size} disk${cache ? ' holding the response cache' : ''}`, async () => {
      const disk = await smallDisk(size);
      const r = await distill(disk, cache);
      expect(r.stderr, r.stderr).not.toMatch(/^ {4}at /m);
      expect(r.code, r.stderr).toBe(DISK_FULL_EXIT);
      expect(r.stderr).toMatch(/^error \[disk-full\]: no space left .*$/m);
      const runJson = path.join(disk, 'run', 'run.json');
      if (existsSync(runJson)) {
        const meta = JSON.parse(await readFile(runJson, 'utf8')) as { status: string; error?: { code: string } };
        expect(meta.status).toBe('disk-full');
        expect(meta.error?.code).toBe('disk-full');
      } else {
        expect(r.stderr).toContain('run.json could not be written');
      }
    });
  }
});

describe('run.json on a full disk', () => {
  it('records the final status in place when there is no room for a temp copy, dropping the summary if it must', async () => {
    const disk = await smallDisk('64k');
    const store = await RunStore.create({ outRoot: disk, command: 'distill', name: 't', dir: path.join(disk, 'run'), frozenConfig: { a: 1 }, source: { files: [], overrides: [] } });
    await fill(disk);
    await store.finish('disk-full', { note: 'x'.repeat(100) }, { code: 'disk-full', message: 'no space left' });
    type Meta = { status: string; summary?: { note: string } };
    let meta = JSON.parse(await readFile(store.path('run.json'), 'utf8')) as Meta;
    expect(meta.status).toBe('disk-full');
    expect(meta.summary?.note).toHaveLength(100);
    // A summary bigger than the page run.json holds cannot be written in place; the status still is.
    await store.finish('failed', { note: 'y'.repeat(20_000) });
    meta = JSON.parse(await readFile(store.path('run.json'), 'utf8')) as Meta;
    expect(meta.status).toBe('failed');
    expect(meta.summary).toBeUndefined();
  });
});
