// A FIFO concurrency gate: at most `limit` requests run, later ones wait in arrival order (vLLM's max-num-seqs).

interface Waiter {
  resolve: () => void;
}

export class FifoGate {
  private active = 0;
  private readonly waiters: Waiter[] = [];

  constructor(private readonly limit: number) {}

  get running(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiters.length;
  }

  /** Resolves with a release function once a slot is free; rejects with the signal's reason if aborted first. */
  async acquire(signal: AbortSignal): Promise<() => void> {
    signal.throwIfAborted();
    // A newcomer never overtakes someone already waiting, even if a slot just opened.
    if (this.active < this.limit && this.waiters.length === 0) {
      this.active++;
      return this.releaser();
    }
    await new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
    return this.releaser();
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      this.admit();
    };
  }

  private admit(): void {
    while (this.active < this.limit) {
      const next = this.waiters.shift();
      if (!next) return;
      // The slot is handed over here, before the waiter's continuation runs, so nobody can slip in between.
      this.active++;
      next.resolve();
    }
  }
}
