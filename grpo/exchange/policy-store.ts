// The served policy version: `policy/current.json` (atomic replace) plus `policy/history.jsonl` (append-only), and waiting for a version.
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { PipelineError } from '../../pipeline/errors.ts';
import { writeFileAtomic } from '../../pipeline/store/atomic-write.ts';
import { Journal, readAll } from '../../pipeline/store/journal.ts';
import { ExchangeError } from './errors.ts';
import { exchangePaths } from './layout.ts';
import { PolicyHistoryRecordSchema, PolicySchema, type Policy, type PolicyHistoryRecord } from './schema.ts';

export interface PublishPolicyInput {
  version: number;
  served_model: string;
  source: Policy['source'];
  path?: string | undefined;
  /** When the trainer says the weights reached the server; kept in the history only. */
  synced_at?: string | undefined;
}

export interface PublishResult {
  policy: Policy;
  /** False when the same version with the same content was already current (a retried POST). */
  changed: boolean;
}

/** The current policy, or null before the first publish. */
export async function readPolicy(root: string): Promise<Policy | null> {
  let text: string;
  try {
    text = await readFile(exchangePaths.policyCurrent(root), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  return PolicySchema.parse(JSON.parse(text));
}

export async function readPolicyHistory(root: string): Promise<PolicyHistoryRecord[]> {
  try {
    return (await readAll<unknown>(exchangePaths.policyHistory(root))).map((r) => PolicyHistoryRecordSchema.parse(r));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

// Read-check-write must not interleave for one root: two trainers posting v5 and v4 at once must not both pass the check.
// This serialises within one process; the orchestrator is the only writer of policy/ by contract (§10.6).
const chains = new Map<string, Promise<unknown>>();

function serialised<T>(root: string, fn: () => Promise<T>): Promise<T> {
  const key = path.resolve(root);
  const prev = chains.get(key) ?? Promise.resolve();
  const next = prev.then(fn, fn);
  const settled = next.then(
    () => undefined,
    () => undefined,
  );
  chains.set(key, settled);
  void settled.then(() => {
    if (chains.get(key) === settled) chains.delete(key);
  });
  return next;
}

function sameContent(a: Policy, b: Omit<Policy, 'updated_at'>): boolean {
  return a.version === b.version && a.served_model === b.served_model && a.source === b.source && a.path === b.path;
}

/**
 * Makes `input` the current policy. Versions never go backwards: a lower version, or the same version with other
 * content, throws `version-conflict`; the same version with the same content is an idempotent no-op. The history line
 * is appended before current.json is replaced, so the journal never misses a version that was ever current.
 */
export async function publishPolicy(root: string, input: PublishPolicyInput, opts: { now?: () => Date } = {}): Promise<PublishResult> {
  return serialised(root, async () => {
    const policy = PolicySchema.parse({
      version: input.version,
      served_model: input.served_model,
      updated_at: (opts.now?.() ?? new Date()).toISOString(),
      source: input.source,
      ...(input.path !== undefined ? { path: input.path } : {}),
    });
    const current = await readPolicy(root);
    if (current !== null) {
      if (sameContent(current, policy)) return { policy: current, changed: false };
      if (policy.version <= current.version) {
        throw new ExchangeError(
          'version-conflict',
          policy.version < current.version
            ? `policy version ${policy.version} is below the current version ${current.version}; versions never go backwards`
            : `policy version ${policy.version} is already current with different content`,
        );
      }
    }
    await mkdir(exchangePaths.policyDir(root), { recursive: true });
    const record: PolicyHistoryRecord = PolicyHistoryRecordSchema.parse({ ...policy, ...(input.synced_at !== undefined ? { synced_at: input.synced_at } : {}) });
    const { journal } = await Journal.open<PolicyHistoryRecord>(exchangePaths.policyHistory(root));
    try {
      await journal.append(record);
    } finally {
      await journal.close();
    }
    await writeFileAtomic(exchangePaths.policyCurrent(root), `${JSON.stringify(policy, null, 2)}\n`);
    return { policy, changed: true };
  });
}

export interface WaitPolicyOptions {
  signal?: AbortSignal;
  /** How often current.json is read (default 200 ms). Polling works on every filesystem, fs.watch does not. */
  pollMs?: number;
  /** Give up after this long with a `timeout` error; default: wait until aborted. */
  timeoutMs?: number;
  /**
   * Told once when the wait starts and then every `reportEveryMs` (default 5 s) while it lasts, so a caller can say what it
   * is waiting for instead of sitting silent for the minutes a trainer step takes.
   */
  onWait?: (w: PolicyWait) => Promise<void> | void;
  reportEveryMs?: number;
}

export interface PolicyWait {
  minVersion: number;
  /** The version current now; null before the first publish. */
  current: number | null;
  waitedMs: number;
  /** The limit the wait gives up at; undefined when it waits until aborted. */
  timeoutMs: number | undefined;
}

/** Resolves with the current policy once its version is ≥ `minVersion`. */
export async function waitForPolicyVersion(root: string, minVersion: number, opts: WaitPolicyOptions = {}): Promise<Policy> {
  const pollMs = opts.pollMs ?? 200;
  const reportEveryMs = opts.reportEveryMs ?? 5000;
  const started = Date.now();
  const deadline = opts.timeoutMs === undefined ? Infinity : started + opts.timeoutMs;
  let nextReport = started;
  for (;;) {
    if (opts.signal?.aborted === true) throw new PipelineError('aborted', `stopped waiting for policy version ${minVersion}`, { cause: opts.signal.reason });
    const p = await readPolicy(root);
    if (p !== null && p.version >= minVersion) return p;
    const now = Date.now();
    if (now >= deadline) throw new PipelineError('timeout', `policy version ${minVersion} did not appear within ${opts.timeoutMs} ms (current: ${p?.version ?? 'none'})`, { retryable: true });
    if (opts.onWait !== undefined && now >= nextReport) {
      await opts.onWait({ minVersion, current: p?.version ?? null, waitedMs: now - started, timeoutMs: opts.timeoutMs });
      // On the schedule, not from now, so a slow reporter does not stretch the interval.
      while (nextReport <= now) nextReport += Math.max(1, reportEveryMs);
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(done, Math.min(pollMs, Math.max(0, deadline - Date.now())));
      function done(): void {
        clearTimeout(t);
        opts.signal?.removeEventListener('abort', done);
        resolve();
      }
      opts.signal?.addEventListener('abort', done, { once: true });
    });
  }
}
