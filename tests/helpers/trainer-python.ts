// The trainers' Python (scripts/trainers/setup-venv.sh), the demo run their checks read, and a runner for Python scripts.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { repoRoot, sharedDatasets, tmpDir } from './tmp.ts';

/**
 * The virtual environment with pyarrow, datasets, transformers, trl and CPU torch. A missing one fails the test with
 * the command that builds it: these checks are the point of the test, so they never skip.
 */
export function trainerPython(): string {
  const py = process.env.FR_TRAINER_PYTHON ?? path.join(repoRoot, '.venv', 'bin', 'python');
  if (!existsSync(py)) {
    throw new Error(
      `no trainer Python at ${py}: run \`bash scripts/trainers/setup-venv.sh\` (it installs pyarrow, datasets, transformers, trl and CPU torch from the machine's local package mirror; .ci/run does this)`,
    );
  }
  return py;
}

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runProcess(cmd: string, args: readonly string[], opts: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd ?? repoRoot, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 300_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs `python script args…` with the trainer venv; HF libraries stay offline (no hub, no telemetry). */
export function runTrainerPython(args: readonly string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<Ran> {
  return runProcess(trainerPython(), args, {
    ...opts,
    env: { HF_HUB_OFFLINE: '1', HF_DATASETS_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1', HF_HUB_DISABLE_TELEMETRY: '1', TOKENIZERS_PARALLELISM: 'false', ...opts.env },
  });
}

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
 * Runs `flowreasoner demo` once per vitest run and argument list, and returns its directory (distill/, sft/,
 * exchange/, grpo/). Test files run in worker processes of one vitest process (pool: forks), so the cache is keyed by
 * that parent's pid: the first worker to create the directory makes the run, the others wait for its marker. Readers
 * must not write into it (copy it first). Caches of vitest processes that are gone are removed.
 */
export async function demoRun(extraArgs: readonly string[] = []): Promise<string> {
  const key = createHash('sha256').update(JSON.stringify(extraArgs)).digest('hex').slice(0, 12);
  const prefix = 'fr-demo-cache-';
  for (const name of await readdir(os.tmpdir()).catch(() => [] as string[])) {
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    if (name.startsWith(prefix) && Number.isSafeInteger(pid) && pid !== process.ppid && !alive(pid)) await rm(path.join(os.tmpdir(), name), { recursive: true, force: true });
  }
  const base = path.join(os.tmpdir(), `${prefix}${process.ppid}-${key}`);
  const dir = path.join(base, 'run');
  try {
    await mkdir(base);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    for (let waited = 0; waited < 300_000; waited += 250) {
      if (existsSync(path.join(base, 'done'))) return dir;
      if (existsSync(path.join(base, 'failed'))) throw new Error(await readFile(path.join(base, 'failed'), 'utf8'));
      await sleep(250);
    }
    throw new Error(`timed out waiting for another worker's demo run in ${base}`);
  }
  const r = await runProcess(process.execPath, ['--import', 'tsx', 'pipeline/cli/main.ts', 'demo', '--out', dir, '--no-cache', ...extraArgs], {
    env: { FLOWREASONER_DATA_DIR: process.env.FLOWREASONER_DATA_DIR ?? sharedDatasets },
    timeoutMs: 240_000,
  });
  if (r.code !== 0) {
    const msg = `demo failed (exit ${r.code}):\n${r.stderr.slice(-4000)}`;
    await writeFile(path.join(base, 'failed'), msg);
    throw new Error(msg);
  }
  await writeFile(path.join(base, 'done'), '');
  return dir;
}

/** A private copy of a shared demo run, for a test that writes into it (acks, policy versions, extra files). */
export async function privateCopy(dir: string): Promise<string> {
  const copy = path.join(await tmpDir('fr-demo-copy-'), 'run');
  await cp(dir, copy, { recursive: true });
  return copy;
}
