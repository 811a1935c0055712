// Spreads calls over several base URLs of one role: least outstanding requests first, and a URL that refuses connections is avoided for a cooldown.

interface Target {
  url: string;
  outstanding: number;
  downUntil: number;
  failures: number;
  served: number;
}

export class BaseUrlPool {
  private readonly targets: Target[];
  private readonly cooldownMs: number;
  private cursor = 0;

  constructor(urls: string[], cooldownMs: number) {
    if (urls.length === 0) throw new Error('BaseUrlPool needs at least one URL');
    this.targets = urls.map((url) => ({ url, outstanding: 0, downUntil: 0, failures: 0, served: 0 }));
    this.cooldownMs = cooldownMs;
  }

  /** Picks a target and counts it as outstanding until `release`. */
  acquire(now = Date.now()): { url: string; release: (outcome: 'ok' | 'down' | 'error') => void } {
    const healthy = this.targets.filter((t) => t.downUntil <= now);
    const pool = healthy.length > 0 ? healthy : [...this.targets].sort((a, b) => a.downUntil - b.downUntil).slice(0, 1);
    let best: Target | undefined;
    // Rotate the starting point so equal loads alternate instead of always hitting the first URL.
    for (let i = 0; i < pool.length; i++) {
      const t = pool[(this.cursor + i) % pool.length] as Target;
      if (best === undefined || t.outstanding < best.outstanding) best = t;
    }
    this.cursor++;
    const target = best as Target;
    target.outstanding++;
    let released = false;
    return {
      url: target.url,
      release: (outcome) => {
        if (released) return;
        released = true;
        target.outstanding--;
        if (outcome === 'down') {
          target.failures++;
          // Double the cooldown for a URL that keeps failing, up to 16x.
          target.downUntil = Date.now() + this.cooldownMs * 2 ** Math.min(4, target.failures - 1);
        } else if (outcome === 'ok') {
          target.failures = 0;
          target.downUntil = 0;
          target.served++;
        }
      },
    };
  }

  get size(): number {
    return this.targets.length;
  }

  snapshot(): Array<{ url: string; outstanding: number; down: boolean; served: number }> {
    const now = Date.now();
    return this.targets.map((t) => ({ url: t.url, outstanding: t.outstanding, down: t.downUntil > now, served: t.served }));
  }
}
