// Pinned checksums, verification of the staged files, and the download path (temp file, hash, rename) against a local HTTP server.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PINNED_FILES, verifyFile } from '../datasets/checksums.ts';
import { fetchVerified } from '../datasets/download.ts';
import { BENCHMARK_LIST, benchmarkFiles } from '../datasets/registry.ts';
import { DATA_SOURCES } from '../datasets/sources.ts';
import { main } from '../scripts/data-download.ts';
import { tmpDir } from './helpers/tmp.ts';

const repoRoot = path.resolve(import.meta.dirname, '..');
const dataDir = process.env.FLOWREASONER_DATA_DIR ?? path.resolve(repoRoot, '../shared/datasets');

/** The script as a separate process, as `npm run data:download` runs it. */
function runScript(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'scripts/data-download.ts'), ...args], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, FLOWREASONER_DATA_DIR: '' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The script's main() in this process (one spawn per case would cost a second each), with its output captured. */
async function runMain(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const status = await main(['node', 'data-download.ts', ...args]);
    return { status, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('pinned checksums', () => {
  it('every pinned sha256 is the one README.txt gives, and every staged file is pinned', async () => {
    const readme = await readFile(path.join(dataDir, 'README.txt'), 'utf8');
    for (const p of PINNED_FILES) {
      expect(readme, p.file).toContain(p.sha256);
      if (p.rawSha256 !== undefined) expect(readme, p.file).toContain(p.rawSha256);
    }
    const staged = (await readdir(dataDir)).filter((f) => f !== 'README.txt');
    expect(new Set(PINNED_FILES.filter((p) => p.staged).map((p) => p.file))).toEqual(new Set(staged));
  });

  it('every file a loader reads is pinned and has a source or a derivation note', () => {
    const read = new Set(BENCHMARK_LIST.flatMap((b) => (b.versions.length > 0 ? b.versions.flatMap((v) => benchmarkFiles(b.name, v)) : benchmarkFiles(b.name))));
    for (const f of read) {
      expect(PINNED_FILES.some((p) => p.file === f), f).toBe(true);
      const s = DATA_SOURCES.find((x) => x.file === f);
      expect(s?.needed, f).toBe(true);
      expect((s?.urls.length ?? 0) > 0 || s?.derived !== undefined, f).toBe(true);
    }
  });

  it('verifyFile accepts the staged HumanEval and rejects other bytes as checksum-mismatch', async () => {
    const pin = PINNED_FILES.find((p) => p.file === 'HumanEval.jsonl.gz');
    const f = path.join(dataDir, 'HumanEval.jsonl.gz');
    expect(await verifyFile(f, pin?.sha256 ?? '')).toBe(pin?.sha256);
    await expect(verifyFile(f, '0'.repeat(64))).rejects.toMatchObject({ code: 'checksum-mismatch' });
    await expect(verifyFile(path.join(dataDir, 'nope.gz'), '0'.repeat(64))).rejects.toMatchObject({ code: 'data-missing' });
  });
});

describe('npm run data:download', () => {
  it('--verify-only: all staged files match (exit 0)', () => {
    const r = runScript(['--verify-only', '--dir', dataDir]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('12/12 files good');
    expect(r.status).toBe(0);
  });

  it('--verify-only on a corrupted copy: exit 1, naming the file', async () => {
    const d = await tmpDir();
    await copyFile(path.join(dataDir, 'mbpp.jsonl'), path.join(d, 'mbpp.jsonl'));
    const bytes = await readFile(path.join(d, 'mbpp.jsonl'));
    bytes[100] = (bytes[100] ?? 0) ^ 1;
    await writeFile(path.join(d, 'mbpp.jsonl'), bytes);
    await copyFile(path.join(dataDir, 'HumanEval.jsonl.gz'), path.join(d, 'HumanEval.jsonl.gz'));
    const r = await runMain(['--verify-only', '--dir', d, '--only', 'mbpp', 'humaneval']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${path.join(d, 'mbpp.jsonl')}: sha256`);
    expect(r.stdout).toContain('HumanEval.jsonl.gz: ok');
    expect(r.stdout).toContain('1/2 files good; failed: mbpp.jsonl');
  });

  it('--help exits 0 with an example; an unknown --only name is a usage error (2)', async () => {
    const help = await runMain(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('npm run data:download -- --only humaneval mbpp');
    const bad = await runMain(['--only', 'humaneval-pro', '--verify-only']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('humaneval-pro');
  });

  it('a derived file that is missing fails with how it is made', async () => {
    const d = await tmpDir();
    const r = await runMain(['--dir', d, '--only', 'bigcodebench-hard-task-ids.txt']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('Derived, not downloadable');
  });
});

describe('fetchVerified', () => {
  const payload = Buffer.from('{"task_id": "x"}\n'.repeat(1000));
  const sha = createHash('sha256').update(payload).digest('hex');
  let server: Server;
  let base = '';

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/good') res.end(payload);
      else if (req.url === '/other') res.end(Buffer.from('different bytes'));
      else {
        res.statusCode = 404;
        res.end('not found');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('skips a 404 and a wrong-bytes source, keeps the one that matches, leaves no temp file', async () => {
    const d = await tmpDir();
    const lines: string[] = [];
    const got = await fetchVerified({ file: 'x.jsonl', urls: [`${base}/missing`, `${base}/other`, `${base}/good`], sha256: sha, dir: d, onLine: (l) => lines.push(l) });
    expect(got).toEqual({ url: `${base}/good`, bytes: payload.length });
    expect(await readFile(path.join(d, 'x.jsonl'))).toEqual(payload);
    expect(await readdir(d)).toEqual(['x.jsonl']);
    expect(lines.filter((l) => l.includes('fetching'))).toHaveLength(3);
  });

  it('when no source matches: checksum-mismatch, and nothing under the real name', async () => {
    const d = await tmpDir();
    await expect(fetchVerified({ file: 'x.jsonl', urls: [`${base}/other`], sha256: sha, dir: d })).rejects.toMatchObject({
      code: 'checksum-mismatch',
      message: expect.stringContaining(`${base}/other`),
    });
    await expect(fetchVerified({ file: 'x.jsonl', urls: [`${base}/missing`], sha256: sha, dir: d })).rejects.toMatchObject({ code: 'endpoint-unreachable' });
    expect(await readdir(d)).toEqual([]);
  });
});
