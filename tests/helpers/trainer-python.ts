// The trainers' Python (scripts/trainers/setup-venv.sh), the demo run their checks read, and a runner for Python scripts.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import path from 'node:path';
import { repoRoot, sharedDatasets, tmpDir } from './tmp.ts';
import { oncePerVitestRun } from './shared-run.ts';

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

/**
 * Runs `flowreasoner demo` once per vitest run and argument list, and returns its directory (distill/, sft/,
 * exchange/, grpo/, report.html). Shared by every test file of the run (tests/helpers/shared-run.ts): readers must
 * not write into it (copy it first with privateCopy).
 */
export async function demoRun(extraArgs: readonly string[] = []): Promise<string> {
  return oncePerVitestRun('fr-demo-cache-', JSON.stringify(extraArgs), async (dir) => {
    const r = await runProcess(process.execPath, ['--import', 'tsx', 'pipeline/cli/main.ts', 'demo', '--out', dir, '--no-cache', ...extraArgs], {
      env: { FLOWREASONER_DATA_DIR: process.env.FLOWREASONER_DATA_DIR ?? sharedDatasets },
      timeoutMs: 240_000,
    });
    if (r.code !== 0) throw new Error(`demo failed (exit ${r.code}):\n${r.stderr.slice(-4000)}`);
  });
}

/** A private copy of a shared demo run, for a test that writes into it (acks, policy versions, extra files). */
export async function privateCopy(dir: string): Promise<string> {
  const copy = path.join(await tmpDir('fr-demo-copy-'), 'run');
  await cp(dir, copy, { recursive: true });
  return copy;
}
