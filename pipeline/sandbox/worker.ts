// One warm sandbox interpreter: spawned once (under bwrap or as a plain process), fed one job at a time over fd 3, answering on fd 4.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { PipelineError } from '../errors.ts';
import { pythonCommand } from './python-command.ts';
import { createPidsSlot, type PidsSlot } from './cgroup.ts';
import type { SandboxConfig } from './sandbox-config.ts';
import type { ExecJob } from './job.ts';

/** What the Python worker answers for one job. */
export interface WorkerAnswer {
  id: number;
  verdict: Record<string, unknown> | null;
  killed: boolean;
  output: string;
  outputBytes: number;
  durationMs: number;
  workerError?: string;
  /** Set by the host when the worker itself died or stopped answering. */
  lost?: string;
}

export interface WorkerSpec {
  config: SandboxConfig;
  mode: 'bwrap' | 'process';
  bwrapPath: string | null;
  runnerDir: string;
}

/** Extra seconds the host waits beyond a job's own limits before it kills the whole worker. */
const HOST_SLACK_S = 8;
/** EvalPlus jobs may first run the reference on every input in the comparer (once per task and worker). */
const REFERENCE_ALLOWANCE_S = 600;

/** Jobs whose verdict the comparer decides: the candidate's process never receives their tests (see fr_comparer.py). */
export function judgedOutside(job: ExecJob): boolean {
  if (job.harness === 'evalplus') return true;
  return (job.harness === 'check' || job.harness === 'asserts') && job.judge !== 'inside';
}

/**
 * What the job's child reads from the host's pipe after the header: for a job judged inside, the whole job; for a job
 * judged outside, nothing (the comparer sends the candidate's process its program, compiled, and never a test).
 */
export function candidatePayload(job: ExecJob, id: number): Buffer {
  return judgedOutside(job) ? Buffer.alloc(0) : Buffer.from(JSON.stringify({ ...job, id }), 'utf8');
}

/** What the warm worker itself reads of a job: how to run it, never its program or tests. */
export function routingSide(job: ExecJob, id: number, payloadBytes: number): Record<string, unknown> {
  const side: Record<string, unknown> = { id, harness: job.harness, timeoutS: job.timeoutS, payloadBytes };
  if (job.judge !== undefined) side.judge = job.judge;
  if (job.memoryMb !== undefined) side.memoryMb = job.memoryMb;
  if (job.requires !== undefined) side.requires = job.requires;
  return side;
}

/**
 * A uid of its own for every worker when we are root: RLIMIT_NPROC counts per uid, so a fork bomb in one job cannot
 * starve a neighbour, and a job can neither signal nor read another worker's processes.
 */
let workerSerial = 0;
export function nextWorkerUid(base: number): number {
  const slot = workerSerial++ % 1024;
  return base + (process.pid % 4096) * 1024 + slot;
}

export class SandboxWorker {
  private child: ChildProcess | null = null;
  private pending: { id: number; resolve: (a: WorkerAnswer) => void; timer: NodeJS.Timeout } | null = null;
  private ready: Promise<void> | null = null;
  private nextId = 1;
  private dead = true;
  preloadMissing: string[] = [];
  restarts = 0;

  constructor(private readonly spec: WorkerSpec) {}

  private uid: number | null = null;
  /** The worker's cgroup (pids.max), when we are root and a pids controller is writable; null when unavailable. */
  private slot: PidsSlot | null | undefined = undefined;
  slotReason: string | null = null;

  private limitsArg(dedicatedUid: boolean): string {
    const c = this.spec.config;
    return JSON.stringify({
      dedicatedUid,
      inProcessAudit: c.inProcessAudit,
      memoryMb: c.memoryMb,
      stackMb: c.stackMb,
      fileSizeMb: c.fileSizeMb,
      maxProcesses: c.maxProcesses,
      outputBytes: c.outputKb * 1024,
      graceS: c.graceS,
      preload: c.preload,
    });
  }

  start(): Promise<void> {
    if (this.ready !== null && !this.dead) return this.ready;
    const { config, mode, bwrapPath, runnerDir } = this.spec;
    const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
    if (asRoot && this.uid === null) this.uid = nextWorkerUid(config.uidBase);
    const workerArgs = [this.limitsArg(asRoot)];
    if (asRoot && this.slot === undefined) {
      // pids.max counts threads too: the comparer, the worker and their helper threads get room above the job's share.
      const made = createPidsSlot(this.uid ?? 0, config.maxProcesses + 16);
      this.slot = made.slot;
      this.slotReason = made.reason;
    }
    const slot = this.slot ?? null;
    // As root, rlimits on processes are not enforced; an unprivileged uid makes them hold. Without a cgroup, the uid is
    // set by spawn; with one, setpriv sets it after the process entered the cgroup.
    const py = pythonCommand(config, {
      dir: runnerDir,
      script: 'fr_sandbox.py',
      args: workerArgs,
      bwrap: mode === 'bwrap' ? bwrapPath : null,
      asPid1: true,
      ...(this.uid !== null ? { uid: this.uid } : {}),
      setUid: slot === null && this.uid !== null,
    });
    const argv = slot !== null && this.uid !== null ? slot.wrap([py.cmd, ...py.args], { uid: this.uid, gid: config.sandboxUser }) : [py.cmd, ...py.args];
    const child = spawn(argv[0] as string, argv.slice(1), { ...py.options, stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe', 'pipe'] });
    this.child = child;
    this.dead = false;
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      if (stderr.length < 8192) stderr += d.toString();
    });
    child.stdout?.resume();
    const results = child.stdio[4] as Readable;
    const lines = createInterface({ input: results, crlfDelay: Infinity });
    this.ready = new Promise<void>((resolve, reject) => {
      let isReady = false;
      lines.on('line', (line) => {
        let msg: Record<string, unknown>;
        try {
          msg = JSON.parse(line) as Record<string, unknown>;
        } catch {
          return;
        }
        if (!isReady && msg.ready === true) {
          isReady = true;
          this.preloadMissing = (msg.preloadMissing as string[] | undefined) ?? [];
          resolve();
          return;
        }
        const p = this.pending;
        if (p !== null && msg.id === p.id) {
          clearTimeout(p.timer);
          this.pending = null;
          p.resolve(msg as unknown as WorkerAnswer);
        }
      });
      child.on('exit', (code, signal) => {
        // A worker killed earlier may exit after its replacement started: it must not touch the new one's state.
        if (this.child !== child && this.child !== null) return;
        this.dead = true;
        this.child = null;
        if (!isReady) {
          reject(new PipelineError('sandbox-failed', `sandbox worker did not start (${py.cmd} exited ${code ?? signal}): ${stderr.trim().slice(0, 800)}`, {
            hint: mode === 'bwrap' ? 'Check that bubblewrap works here (bwrap --version), or set sandbox.mode: process.' : `Check sandbox.python (${config.python}).`,
          }));
        }
        const p = this.pending;
        if (p !== null) {
          clearTimeout(p.timer);
          this.pending = null;
          p.resolve({ id: p.id, verdict: null, killed: false, output: '', outputBytes: 0, durationMs: 0, lost: `worker exited (${code ?? signal})` });
        }
      });
      child.on('error', (e) => {
        if (this.child !== child && this.child !== null) return;
        this.dead = true;
        if (!isReady) reject(new PipelineError('sandbox-failed', `cannot start sandbox worker: ${e.message}`));
      });
    });
    return this.ready;
  }

  /** Runs one job; never rejects for anything the job does: a dead or stuck worker becomes a lost answer. */
  async run(job: ExecJob): Promise<WorkerAnswer> {
    if (this.pending !== null) throw new Error('SandboxWorker.run called while busy');
    if (this.dead) {
      this.restarts++;
      await this.start();
    } else {
      await this.start();
    }
    const child = this.child;
    if (child === null) throw new PipelineError('sandbox-failed', 'sandbox worker is not running');
    const id = this.nextId++;
    const allowance = job.harness === 'evalplus' ? REFERENCE_ALLOWANCE_S : 0;
    const hostLimitMs = (job.timeoutS + this.spec.config.graceS + HOST_SLACK_S + allowance) * 1000;
    return new Promise<WorkerAnswer>((resolve) => {
      const timer = setTimeout(() => {
        // The worker itself stopped answering: kill its whole tree and answer for it.
        this.pending = null;
        this.kill();
        resolve({ id, verdict: null, killed: true, output: '', outputBytes: 0, durationMs: hostLimitMs, lost: 'worker stopped answering' });
      }, hostLimitMs);
      this.pending = { id, resolve, timer };
      // The judge side first: the comparer may get the job's socket from the worker before it reads this line.
      if (judgedOutside(job)) ((child.stdio as ReadonlyArray<unknown>)[5] as Writable).write(`${JSON.stringify({ ...job, id })}\n`);
      // The worker reads only the header; the job's child reads the payload, if any, itself (see fr_worker.py).
      const payload = candidatePayload(job, id);
      const header = Buffer.from(JSON.stringify(routingSide(job, id, payload.length)), 'utf8');
      (child.stdio[3] as Writable).write(Buffer.concat([Buffer.from(header.length.toString(16).padStart(8, '0'), 'ascii'), header, payload]));
    });
  }

  kill(): void {
    const child = this.child;
    if (child?.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
    // Everything in the worker's cgroup goes too (in process mode a job's processes are not in the worker's group).
    this.slot?.killSyncBestEffort();
    this.dead = true;
    this.child = null;
  }

  /** Kills the worker and removes its cgroup. */
  async dispose(): Promise<void> {
    this.kill();
    const slot = this.slot;
    this.slot = undefined;
    if (slot !== undefined && slot !== null) await slot.remove();
  }
}
