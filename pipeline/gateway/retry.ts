// Retry timing: exponential backoff with jitter, capped, overridden by retry-after-ms / retry-after from the server.
import type { Rng } from '../random.ts';

export interface BackoffSettings {
  initialMs: number;
  maxMs: number;
  multiplier: number;
  jitter: number;
}

export function backoffDelay(attempt: number, b: BackoffSettings, rng: Rng): number {
  const base = Math.min(b.maxMs, b.initialMs * b.multiplier ** Math.max(0, attempt - 1));
  const spread = base * b.jitter;
  return Math.max(0, Math.round(base - spread + rng.next() * 2 * spread));
}

/** Reads retry-after-ms (milliseconds) or retry-after (seconds or an HTTP date); null when absent or unusable. */
export function parseRetryAfter(get: (name: string) => string | null | undefined, now = Date.now()): number | null {
  const ms = get('retry-after-ms');
  if (ms !== null && ms !== undefined && ms.trim() !== '') {
    const v = Number(ms);
    if (Number.isFinite(v) && v >= 0) return v;
  }
  const ra = get('retry-after');
  if (ra === null || ra === undefined || ra.trim() === '') return null;
  const secs = Number(ra);
  if (Number.isFinite(secs) && secs >= 0) return secs * 1000;
  const date = Date.parse(ra);
  return Number.isFinite(date) ? Math.max(0, date - now) : null;
}

/** Sleeps, waking early (rejecting) if the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
