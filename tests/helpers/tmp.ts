// Temporary directories for tests, removed after each file.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

const made: string[] = [];

export async function tmpDir(prefix = 'fr-test-'): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), prefix));
  made.push(d);
  return d;
}

afterAll(async () => {
  for (const d of made.splice(0)) await rm(d, { recursive: true, force: true });
});

export const repoRoot = path.resolve(import.meta.dirname, '..', '..');
export const sharedDatasets = path.resolve(repoRoot, '..', 'shared', 'datasets');
