// Builds the bubblewrap command line: no network, read-only system, a private /tmp, no project, home or environment.
import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

let cachedBwrap: string | null | undefined;

/**
 * Path of a working bwrap, or null (missing, or unable to create namespaces here).
 * FLOWREASONER_BWRAP names another binary, or `none` to act as if bwrap were absent.
 */
export function findBwrap(): string | null {
  if (cachedBwrap !== undefined) return cachedBwrap;
  const override = process.env.FLOWREASONER_BWRAP;
  if (override === 'none') return (cachedBwrap = null);
  for (const p of override !== undefined && override !== '' ? [override] : ['/usr/bin/bwrap', '/usr/local/bin/bwrap', '/bin/bwrap']) {
    if (!existsSync(p)) continue;
    const probe = spawnSync(p, ['--unshare-all', '--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev', 'true'], { timeout: 10_000 });
    if (probe.status === 0) return (cachedBwrap = p);
  }
  return (cachedBwrap = null);
}

/** Binds a top-level system path read-only, keeping usr-merge symlinks (/lib -> usr/lib) as symlinks. */
function systemPath(p: string): string[] {
  if (!existsSync(p)) return [];
  const st = lstatSync(p);
  if (st.isSymbolicLink()) return ['--symlink', readlinkSync(p), p];
  return ['--ro-bind', p, p];
}

/**
 * `asPid1`: our script is pid 1 of the sandbox's pid namespace (no bwrap reaper), so the code executor's comparer is
 * the one process that kill(-1) from inside can never reach. The root is read-only everywhere: only the private
 * /tmp and /dev/shm tmpfs are writable.
 */
export function bwrapArgs(opts: { runnerDir: string; python: string; workerArgs: string[]; script?: string; asPid1?: boolean }): string[] {
  const runnerMount = '/opt/flowreasoner-sandbox';
  const args = ['--unshare-all', '--die-with-parent', '--new-session', '--clearenv'];
  if (opts.asPid1 === true) args.push('--as-pid-1');
  args.push('--setenv', 'PATH', '/usr/local/bin:/usr/bin:/bin', '--setenv', 'HOME', '/tmp', '--setenv', 'LANG', 'C.UTF-8');
  args.push('--setenv', 'MPLBACKEND', 'Agg', '--setenv', 'FR_SANDBOX_PIDNS', '1', '--setenv', 'PYTHONDONTWRITEBYTECODE', '1');
  for (const p of ['/usr', '/bin', '/sbin', '/lib', '/lib64', '/lib32', '/etc']) args.push(...systemPath(p));
  // An interpreter outside /usr (e.g. pyenv) is bound on its own; nothing else of that tree becomes visible.
  const realPython = path.resolve(opts.python);
  if (!realPython.startsWith('/usr/')) {
    const prefix = path.dirname(path.dirname(realPython));
    args.push('--ro-bind', prefix, prefix);
  }
  args.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp', '--tmpfs', '/dev/shm', '--ro-bind', opts.runnerDir, runnerMount, '--chdir', '/tmp');
  // Last, so the directories bwrap created for the mounts above exist before the root turns read-only.
  args.push('--remount-ro', '/');
  args.push(opts.python, '-I', '-B', `${runnerMount}/${opts.script ?? 'fr_worker.py'}`, ...opts.workerArgs);
  return args;
}
