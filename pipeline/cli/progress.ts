// Progress for long work: a live bar on a terminal, a plain line every few seconds otherwise (logs of cluster jobs).
import { SingleBar, Presets, type Options, type Params } from 'cli-progress';

export interface Progress {
  tick(n?: number, fields?: Record<string, string | number>): void;
  stop(): void;
}

/** Seconds as `45s`, `3m05s` or `2h07m`. */
export function fmtDuration(s: number): string {
  const t = Math.max(0, Math.round(s));
  if (t < 60) return `${t}s`;
  if (t < 3600) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, '0')}s`;
  return `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * The time left at the rate seen so far, or `?` while there is no rate (nothing done yet, no time elapsed, or a total
 * that is unknown or already passed). cli-progress's own eta prints `NaNs`, `Infs` or `0s` in those cases.
 */
export function etaText(doneSinceStart: number, left: number, elapsedS: number): string {
  if (left === 0) return fmtDuration(0);
  if (!(doneSinceStart > 0) || !(elapsedS > 0) || !Number.isFinite(left) || left < 0) return '?';
  const eta = (left * elapsedS) / doneSinceStart;
  return Number.isFinite(eta) ? fmtDuration(eta) : '?';
}

export function createProgress(
  label: string,
  total: number,
  opts: { stream?: NodeJS.WriteStream; intervalMs?: number; enabled?: boolean; /** Work already done by an earlier part of the run (resume). */ start?: number } = {},
): Progress {
  const stream = opts.stream ?? process.stderr;
  if (opts.enabled === false) return { tick: () => undefined, stop: () => undefined };
  const start = opts.start ?? 0;
  let done = start;
  let stopped = false;
  let extra: Record<string, string | number> = {};
  const fmtExtra = (): string => Object.entries(extra).map(([k, v]) => `${k}=${v}`).join(' ');
  const started = Date.now();
  if (stream.isTTY) {
    // Our own line format: the eta comes from etaText, at render time, so it also ages between ticks.
    const format = (options: Options, params: Params): string => {
      const progress = Math.min(1, Math.max(0, params.progress));
      const size = options.barsize ?? 40;
      const filled = Math.round(progress * size);
      const pct = Math.floor(progress * 100);
      const eta = etaText(params.value - start, params.total - params.value, (Date.now() - started) / 1000);
      return `${label} [${(options.barCompleteChar ?? '=').repeat(filled)}${(options.barIncompleteChar ?? '-').repeat(size - filled)}] ${params.value}/${params.total} ${pct}% eta ${eta} ${fmtExtra()}`.trimEnd();
    };
    const bar = new SingleBar({ format, stream, hideCursor: true, clearOnComplete: false }, Presets.shades_classic);
    bar.start(total, start);
    return {
      tick(n = 1, fields) {
        done += n;
        if (fields !== undefined) extra = { ...extra, ...fields };
        bar.update(done);
      },
      stop() {
        if (stopped) return;
        stopped = true;
        bar.stop();
      },
    };
  }
  let last = 0;
  const interval = opts.intervalMs ?? 10_000;
  const line = (): void => {
    const el = (Date.now() - started) / 1000;
    stream.write(
      `[${new Date().toISOString()}] ${label} ${done}/${total} (${((100 * done) / Math.max(1, total)).toFixed(0)}%) elapsed ${fmtDuration(el)} eta ${etaText(done - start, total - done, el)} ${fmtExtra()}`.trimEnd() + '\n',
    );
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
