// Progress for long work: a live bar on a terminal, a plain line every few seconds otherwise (logs of cluster jobs).
import { SingleBar, Presets } from 'cli-progress';

export interface Progress {
  tick(n?: number, fields?: Record<string, string | number>): void;
  stop(): void;
}

export function createProgress(label: string, total: number, opts: { stream?: NodeJS.WriteStream; intervalMs?: number; enabled?: boolean } = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  if (opts.enabled === false) return { tick: () => undefined, stop: () => undefined };
  let done = 0;
  let stopped = false;
  let extra: Record<string, string | number> = {};
  const fmtExtra = (): string => Object.entries(extra).map(([k, v]) => `${k}=${v}`).join(' ');
  if (stream.isTTY) {
    const bar = new SingleBar({ format: `${label} [{bar}] {value}/{total} {percentage}% eta {eta_formatted} {extra}`, stream, hideCursor: true, clearOnComplete: false }, Presets.shades_classic);
    bar.start(total, 0, { extra: '' });
    return {
      tick(n = 1, fields) {
        done += n;
        if (fields !== undefined) extra = { ...extra, ...fields };
        bar.update(done, { extra: fmtExtra() });
      },
      stop() {
        if (stopped) return;
        stopped = true;
        bar.stop();
      },
    };
  }
  const started = Date.now();
  let last = 0;
  const interval = opts.intervalMs ?? 10_000;
  const line = (): void => {
    const el = (Date.now() - started) / 1000;
    const eta = done > 0 ? ((total - done) * el) / done : NaN;
    stream.write(`[${new Date().toISOString()}] ${label} ${done}/${total} (${((100 * done) / Math.max(1, total)).toFixed(0)}%) elapsed ${el.toFixed(0)}s eta ${Number.isFinite(eta) ? `${eta.toFixed(0)}s` : '?'} ${fmtExtra()}\n`);
  };
  return {
    tick(n = 1, fields) {
      done += n;
      if (fields !== undefined) extra = { ...extra, ...fields };
      if (Date.now() - last >= interval) {
        last = Date.now();
        line();
      }
    },
    stop() {
      if (stopped) return;
      stopped = true;
      line();
    },
  };
}
