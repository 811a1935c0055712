// A run that several test files read (the demo, an eval run), made once per vitest run instead of once per file.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Test files run in worker processes of one vitest process (pool: forks), so the cache is keyed by that parent's pid
 * and the key: the first worker to create the directory makes the run (`produce` writes it into `<base>/run`), the
 * others wait for its marker. Caches of vitest processes that are gone are removed. Returns the run directory.
 */
export async function oncePerVitestRun(prefix: string, key: string, produce: (dir: string) => Promise<void>, waitMs = 300_000): Promise<string> {
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 12);
  for (const name of await readdir(os.tmpdir()).catch(() => [] as string[])) {
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    if (name.startsWith(prefix) && Number.isSafeInteger(pid) && pid !== process.ppid && !alive(pid)) await rm(path.join(os.tmpdir(), name), { recursive: true, force: true });
  }
  const base = path.join(os.tmpdir(), `${prefix}${process.ppid}-${hash}`);
  const dir = path.join(base, 'run');
  try {
    await mkdir(base);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    for (let waited = 0; waited < waitMs; waited += 250) {
      if (existsSync(path.join(base, 'done'))) return dir;
      if (existsSync(path.join(base, 'failed'))) throw new Error(await readFile(path.join(base, 'failed'), 'utf8'));
      await sleep(250);
    }
    throw new Error(`timed out waiting for another worker's run in ${base}`);
  }
  try {
    await produce(dir);
  } catch (e) {
    await writeFile(path.join(base, 'failed'), e instanceof Error ? e.message : String(e));
    throw e;
  }
  await writeFile(path.join(base, 'done'), '');
  return dir;
}
