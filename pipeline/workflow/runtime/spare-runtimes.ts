// Keeps a few workflow runtimes started ahead of need: a run takes a warm one (its interpreter and sandbox already up),
// and a replacement starts in the background, so a sampled workflow starts executing without paying process start-up.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

const SPARES_PER_KIND = 4;
const spares = new Map<string, ChildProcess[]>();

function start(cmd: string, args: string[], options: SpawnOptions): ChildProcess {
  const child = spawn(cmd, args, options);
  // A spare that dies while waiting is simply dropped; errors surface on the run that uses a fresh one.
  child.on('error', () => undefined);
  child.unref();
  for (const s of [child.stdout, child.stderr, child.stdio[3], child.stdio[4]]) (s as { unref?: () => void } | null)?.unref?.();
  return child;
}

function usable(c: ChildProcess): boolean {
  return c.exitCode === null && c.signalCode === null && !c.killed;
}

/**
 * A runtime process for (cmd, args, options): a warm spare when there is one, and the pool is topped up either way.
 * A runtime handed out never returns to the pool: the caller kills it after its one run (a run that broke the
 * protocol included), so nothing a workflow left behind can reach the next one.
 */
export function takeRuntime(cmd: string, args: string[], options: SpawnOptions): ChildProcess {
  const key = JSON.stringify([cmd, args, options.uid ?? null]);
  const pool = (spares.get(key) ?? []).filter(usable);
  const taken = pool.shift();
  while (pool.length < SPARES_PER_KIND) pool.push(start(cmd, args, options));
  spares.set(key, pool);
  if (taken !== undefined) {
    taken.ref();
    for (const s of [taken.stdout, taken.stderr, taken.stdio[3], taken.stdio[4]]) (s as { ref?: () => void } | null)?.ref?.();
    return taken;
  }
  return spawn(cmd, args, options);
}
