// Requests-per-minute and tokens-per-minute limits over a sliding 60 s window.
// Hand-written because the maintained limiters (p-throttle, bottleneck) count calls, not weighted tokens whose real size is known only after the reply.
import { sleep } from './retry.ts';

interface Entry {
  at: number;
  tokens: number;
}

export class WindowLimiter {
  private readonly entries: Entry[] = [];
  private readonly windowMs: number;
  private readonly rpm: number | undefined;
  private readonly tpm: number | undefined;
  private gate: Promise<void> = Promise.resolve();

  constructor(opts: { requestsPerMinute?: number; tokensPerMinute?: number; windowMs?: number }) {
    this.rpm = opts.requestsPerMinute;
    this.tpm = opts.tokensPerMinute;
    this.windowMs = opts.windowMs ?? 60_000;
  }

  get active(): boolean {
    return this.rpm !== undefined || this.tpm !== undefined;
  }

  private prune(now: number): void {
    while (this.entries.length > 0 && (this.entries[0] as Entry).at <= now - this.windowMs) this.entries.shift();
  }

  private waitMs(now: number, tokens: number): number {
    this.prune(now);
    let wait = 0;
    if (this.rpm !== undefined && this.entries.length >= this.rpm) {
      const e = this.entries[this.entries.length - this.rpm] as Entry;
      wait = Math.max(wait, e.at + this.windowMs - now);
    }
    if (this.tpm !== undefined) {
      // A single request larger than the whole budget is let through alone rather than blocked forever.
      const need = Math.min(tokens, this.tpm);
      let used = this.entries.reduce((s, e) => s + e.tokens, 0);
      for (const e of this.entries) {
        if (used + need <= this.tpm) break;
        used -= e.tokens;
        wait = Math.max(wait, e.at + this.windowMs - now);
      }
    }
    return wait;
  }

  /** Waits for room, then books `estimatedTokens`; call the returned function with the real count when known. */
  async acquire(estimatedTokens: number, signal?: AbortSignal): Promise<(actualTokens: number) => void> {
    if (!this.active) return () => undefined;
    // Serialise acquirers so the window is checked and booked atomically, in arrival order.
    const prev = this.gate;
    let release!: () => void;
    this.gate = new Promise<void>((r) => (release = r));
    await prev;
    try {
      for (;;) {
        const w = this.waitMs(Date.now(), estimatedTokens);
        if (w <= 0) break;
        await sleep(w, signal);
      }
      const entry: Entry = { at: Date.now(), tokens: estimatedTokens };
      this.entries.push(entry);
      return (actual: number) => {
        entry.tokens = actual;
      };
    } finally {
      release();
    }
  }
}
