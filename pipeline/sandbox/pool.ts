// A pool of warm sandbox workers: jobs wait FIFO for a free worker; each job still runs in a freshly forked child.
import path from 'node:path';
import { sourceDirOf } from '../source-dir.ts';
import { findBwrap } from './bwrap.ts';
import { checkHostUidExposure } from './host-uid-guard.ts';
import { SandboxSchema, type SandboxConfig, type SandboxConfigInput } from './sandbox-config.ts';
import { SandboxWorker, type WorkerAnswer } from './worker.ts';
import type { ExecJob } from './job.ts';

export const RUNNER_DIR = path.join(sourceDirOf(import.meta.url), 'py');

export interface PoolInfo {
  mode: 'bwrap' | 'process';
  workers: number;
  /** Set when bwrap was wanted or expected but is not usable. */
  warning: string | null;
}

export function resolveMode(config: SandboxConfig): PoolInfo {
  const bwrap = findBwrap();
  if (config.mode === 'process') return { mode: 'process', workers: config.workers, warning: null };
  if (bwrap !== null) return { mode: 'bwrap', workers: config.workers, warning: null };
  const warning =
    'bubblewrap (bwrap) is not usable here: candidate code runs as plain processes with the same limits, but WITHOUT filesystem, network and process isolation. Install it (apt-get install bubblewrap) for real isolation.';
  if (config.mode === 'bwrap') return { mode: 'process', workers: config.workers, warning: `${warning} (sandbox.mode is bwrap; falling back)` };
  return { mode: 'process', workers: config.workers, warning };
}

export class SandboxPool {
  readonly config: SandboxConfig;
  readonly info: PoolInfo;
  private readonly idle: SandboxWorker[] = [];
  private readonly all: SandboxWorker[] = [];
  private readonly waiters: Array<(w: SandboxWorker) => void> = [];
  private closed = false;

  /** opts.keyEnvNames: the variables the config reads keys from (models.*.apiKeyEnv), for the host-uid check. */
  constructor(input: SandboxConfigInput = {}, opts: { keyEnvNames?: readonly string[] } = {}) {
    this.config = SandboxSchema.parse(input);
    this.info = resolveMode(this.config);
    // In process mode without root, candidate code would run as our uid and could read our environment's keys.
    const unsafe = checkHostUidExposure({
      mode: this.info.mode,
      uid: typeof process.getuid === 'function' ? process.getuid() : null,
      env: process.env,
      keyEnvNames: opts.keyEnvNames ?? [],
      allowHostUid: this.config.allowHostUid,
    });
    if (unsafe !== null) throw unsafe;
    for (let i = 0; i < this.config.workers; i++) {
      const w = new SandboxWorker({ config: this.config, mode: this.info.mode, bwrapPath: findBwrap(), runnerDir: RUNNER_DIR });
      this.all.push(w);
      this.idle.push(w);
    }
  }

  /** Starts every worker now (otherwise each starts on its first job). */
  async warmup(): Promise<void> {
    await Promise.all(this.all.map((w) => w.start()));
  }

  /** Modules of sandbox.preload that the interpreter could not import. */
  get preloadMissing(): string[] {
    return [...new Set(this.all.flatMap((w) => w.preloadMissing))];
  }

  get restarts(): number {
    return this.all.reduce((s, w) => s + w.restarts, 0);
  }

  private acquire(): Promise<SandboxWorker> {
    const w = this.idle.pop();
    if (w !== undefined) return Promise.resolve(w);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private release(w: SandboxWorker): void {
    const next = this.waiters.shift();
    if (next !== undefined) next(w);
    else this.idle.push(w);
  }

  async run(job: ExecJob): Promise<WorkerAnswer> {
    if (this.closed) throw new Error('SandboxPool is closed');
    const w = await this.acquire();
    try {
      return await w.run(job);
    } finally {
      this.release(w);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.all.map((w) => w.dispose()));
  }
}
