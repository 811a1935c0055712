// Runs one program as a script in the sandbox (bubblewrap or plain process, the executor's isolation and limits), for
// the service's SandboxFusion-compatible POST /run_code. The executor's warm pools judge ExecJobs; a script with stdin,
// files and a return code is a different job, so it gets a fresh sandbox of its own (see py/fr_run_code.py).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import pLimit, { type LimitFunction } from 'p-limit';
import { sourceDirOf } from '../../source-dir.ts';
import { findBwrap } from '../bwrap.ts';
import { createPidsSlot, type PidsSlot } from '../cgroup.ts';
import { pythonCommand, runningAsRoot } from '../python-command.ts';
import type { SandboxConfig } from '../sandbox-config.ts';
import type { PoolInfo } from '../pool.ts';

export const RUN_CODE_DIR = path.join(sourceDirOf(import.meta.url), 'py');

export interface RunCodeInput {
  code: string;
  /** Written to the program's stdin, which is then closed; null: stdin is closed at once (EOF). */
  stdin: string | null;
  /** Relative path → base64 content, written into the working directory first (null entries are skipped). */
  files: Record<string, string | null>;
  /** Relative paths read back after the run (base64); absent ones are left out. */
  fetchFiles: string[];
  runTimeoutS: number;
  /** Address-space limit in MiB; 0 = none. */
  memoryMb: number;
}

interface Captured {
  stdout: string;
  stderr: string;
}

export type RunCodeOutcome =
  | ({ kind: 'finished'; returnCode: number; executionTime: number; files: Record<string, string> } & Captured)
  | ({ kind: 'timeout'; executionTime: number; files: Record<string, string> } & Captured)
  /** We could not run it (the sandbox failed to start, or the request's files were unusable): no verdict on the program. */
  | ({ kind: 'error'; message: string } & Captured);

/** Host backstop beyond the run's own limit: the runner enforces the limit itself, this only catches a stuck sandbox. */
const HOST_SLACK_S = 5;
/** After the sandbox exits, how long stray holders of its pipes may keep them open before we stop reading. */
const DRAIN_AFTER_EXIT_MS = 500;

/** Caps a stream at `max` bytes and drains the rest, so a chatty program can neither fill our memory nor block. */
function capture(stream: Readable | null, max: number): () => string {
  const chunks: Buffer[] = [];
  let kept = 0;
  stream?.on('data', (d: Buffer) => {
    if (kept >= max) return;
    const part = d.subarray(0, max - kept);
    chunks.push(part);
    kept += part.length;
  });
  return () => Buffer.concat(chunks).toString('utf8');
}

export class ScriptRunner {
  private readonly limit: LimitFunction;
  private readonly freeSlots: number[];
  private readonly cgroups = new Map<number, PidsSlot | null>();
  private readonly bwrap: string | null;
  private closed = false;

  /** outputBytes: stdout and stderr kept per run (each); the rest is drained. */
  constructor(
    private readonly config: SandboxConfig,
    private readonly info: PoolInfo,
    private readonly outputBytes: number,
  ) {
    this.limit = pLimit(config.workers);
    this.freeSlots = Array.from({ length: config.workers }, (_, i) => i);
    this.bwrap = info.mode === 'bwrap' ? findBwrap() : null;
  }

  /** As root, each concurrent slot runs as a uid of its own (RLIMIT_NPROC and kill(-1) then reach only its processes), away from the pool workers' uids. */
  private uidOf(slot: number): number | null {
    return runningAsRoot() ? this.config.uidBase + 4_194_304 + (process.pid % 4096) * 256 + slot : null;
  }

  run(input: RunCodeInput): Promise<RunCodeOutcome> {
    return this.limit(async () => {
      if (this.closed) return { kind: 'error', message: 'the sandbox service is shutting down', stdout: '', stderr: '' };
      const slot = this.freeSlots.pop();
      if (slot === undefined) throw new Error('no free run_code slot although the limiter admitted a run');
      try {
        return await this.runIn(slot, input);
      } finally {
        this.freeSlots.push(slot);
      }
    });
  }

  private cgroupOf(uid: number): PidsSlot | null {
    if (!this.cgroups.has(uid)) this.cgroups.set(uid, createPidsSlot(uid, this.config.maxProcesses + 8).slot);
    return this.cgroups.get(uid) ?? null;
  }

  private runIn(slot: number, input: RunCodeInput): Promise<RunCodeOutcome> {
    const uid = this.uidOf(slot);
    const cgroup = uid !== null ? this.cgroupOf(uid) : null;
    const limits = {
      timeoutS: input.runTimeoutS,
      memoryMb: input.memoryMb,
      stackMb: this.config.stackMb,
      fileSizeMb: this.config.fileSizeMb,
      maxProcesses: this.config.maxProcesses,
      dedicatedUid: uid !== null,
      limitProcesses: uid !== null,
    };
    const py = pythonCommand(this.config, {
      dir: RUN_CODE_DIR,
      script: 'fr_run_code.py',
      args: [JSON.stringify(limits)],
      bwrap: this.bwrap,
      asPid1: true,
      ...(uid !== null ? { uid } : {}),
      setUid: cgroup === null,
    });
    const argv = cgroup !== null && uid !== null ? cgroup.wrap([py.cmd, ...py.args], { uid, gid: this.config.sandboxUser }) : [py.cmd, ...py.args];
    const child = spawn(argv[0] as string, argv.slice(1), { ...py.options, stdio: ['pipe', 'pipe', 'pipe', 'pipe', 'pipe'] });
    const stdout = capture(child.stdout, this.outputBytes);
    const stderr = capture(child.stderr, this.outputBytes);
    const reports: Array<Record<string, unknown>> = [];
    createInterface({ input: child.stdio[4] as Readable, crlfDelay: Infinity }).on('line', (line) => {
      try {
        reports.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // Only our runner writes here; a line that is not JSON is ignored rather than trusted.
      }
    });
    // A program may exit without reading its stdin, or the sandbox may fail first: a broken pipe is expected.
    for (const s of [child.stdin, child.stdio[3] as Writable]) s?.on('error', () => undefined);
    (child.stdio[3] as Writable).end(JSON.stringify({ code: input.code, files: input.files, fetchFiles: input.fetchFiles }));
    child.stdin?.end(input.stdin ?? '');

    return new Promise<RunCodeOutcome>((resolve) => {
      let hostKilled = false;
      let spawnError: string | null = null;
      const kill = (): void => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
        // Process mode: the program has a session of its own, which outlives a runner it killed; under bwrap the pid
        // namespace ends with the runner, and the reported pid means nothing out here.
        const pid = reports.find((r) => r.started === true)?.pid;
        if (this.bwrap === null && typeof pid === 'number' && Number.isInteger(pid) && pid > 1) {
          try {
            process.kill(-pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
        cgroup?.killSyncBestEffort();
      };
      const timer = setTimeout(
        () => {
          hostKilled = true;
          kill();
        },
        (input.runTimeoutS + this.config.graceS + HOST_SLACK_S) * 1000,
      );
      let settled = false;
      const settle = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        // In process mode a program's leftovers could outlive the runner; its cgroup (as root) or group goes too.
        kill();
        const out = { stdout: stdout(), stderr: stderr() };
        const started = reports.some((r) => r.started === true);
        const last = reports.find((r) => 'timedOut' in r || 'error' in r);
        if (last !== undefined && typeof last.error === 'string') return resolve({ kind: 'error', message: last.error, ...out });
        if (last !== undefined) {
          const files = (last.files ?? {}) as Record<string, string>;
          const executionTime = typeof last.executionTime === 'number' ? last.executionTime : 0;
          if (last.timedOut === true || typeof last.returnCode !== 'number') return resolve({ kind: 'timeout', executionTime, files, ...out });
          return resolve({ kind: 'finished', returnCode: last.returnCode, executionTime, files, ...out });
        }
        if (hostKilled && started) return resolve({ kind: 'timeout', executionTime: input.runTimeoutS, files: {}, ...out });
        if (started) {
          // The program took our runner down with it (it may signal its own uid): its doing, so a run that ended badly.
          return resolve({ kind: 'finished', returnCode: code ?? -1, executionTime: 0, files: {}, ...out });
        }
        const why = spawnError ?? `the sandbox exited (${code ?? signal}) before the program started: ${out.stderr.trim().slice(0, 800)}`;
        resolve({ kind: 'error', message: why, stdout: '', stderr: '' });
      };
      child.on('error', (e) => {
        spawnError = `cannot start the sandbox: ${e.message}`;
        settle(null, null);
      });
      child.on('close', (code, signal) => settle(code, signal));
      child.on('exit', (code, signal) => {
        // 'close' waits for every holder of the pipes; a stray process outside the sandbox must not hold the answer.
        setTimeout(() => settle(code, signal), DRAIN_AFTER_EXIT_MS).unref();
      });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const c of this.cgroups.values()) if (c !== null) await c.remove();
    this.cgroups.clear();
  }
}
