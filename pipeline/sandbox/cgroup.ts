// Per-slot process limits with the pids cgroup controller (v2, else v1): create a slot, run a process inside it, kill everything in it, remove it.
import { chmodSync, existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync, accessSync, constants as fsConstants } from 'node:fs';
import path from 'node:path';

/** One cgroup per sandbox slot (worker), with pids.max set: the whole process tree of the slot counts against it. */
export interface PidsSlot {
  readonly version: 1 | 2;
  readonly index: number;
  /** The slot's directory in the pids hierarchy (v1) or the unified hierarchy (v2). */
  readonly dir: string;
  /** Its cgroup.procs: writing a pid there moves that process (and its future children) into the slot. */
  readonly procsPath: string;
  /** Every cgroup.procs the process must enter: on v1 also the freezer's twin of the slot when a freezer is mounted. */
  readonly procsPaths: readonly string[];
  readonly maxPids: number;
  /**
   * argv prefix for spawn: a shell that writes its own pid into the slot, then execs the rest, so the process is
   * inside before it can fork. It must run as root (writing cgroup.procs needs it); see wrap() to drop to a uid.
   */
  readonly prefix: readonly string[];
  /** prefix + argv; with runAs, setpriv drops to that uid/gid (no supplementary groups) after entering the slot. */
  wrap(argv: readonly string[], runAs?: { uid: number; gid: number }): string[];
  /** Moves an existing process into the slot (host side; its children forked before this stay outside). */
  enter(pid: number): void;
  /** Pids now in the slot. */
  pids(): number[];
  /** pids.current: tasks (threads included) charged to the slot. */
  current(): number;
  /** Kills every process in the slot and waits until it is empty; false if some survived timeoutMs. */
  kill(timeoutMs?: number): Promise<boolean>;
  /** One synchronous pass of kill (for exit paths and sync callers): cgroup.kill, or freeze + SIGKILL + thaw. */
  killSyncBestEffort(): void;
  /** Kills what is left, removes the slot's directories, and the per-host directory with the last slot. */
  remove(): Promise<boolean>;
}

export type PidsSlotResult = { slot: PidsSlot; reason: null } | { slot: null; reason: string };

/** Where the controller lives, found once per process. */
interface Controller {
  version: 1 | 2;
  /** Directory that holds flowreasoner-<pid>/ (our own cgroup in that hierarchy, or the v2 root when ours is busy). */
  base: string;
  /** v1 only: the freezer hierarchy's matching directory, when a freezer is mounted and writable. */
  freezerBase: string | null;
}

interface MountInfo {
  root: string;
  mountPoint: string;
  fsType: string;
  superOptions: string[];
}

export interface PidsCgroupOptions {
  /** Names the per-host directory; defaults to this process's pid (flowreasoner-<pid>). */
  hostPid?: number;
  /** v1: also join the freezer hierarchy, so kill() freezes before it signals (default true when one is mounted). */
  freezer?: boolean;
}

const SETPRIV_CANDIDATES = ['/usr/bin/setpriv', '/bin/setpriv'];

function readText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

function parseMountInfo(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split('\n')) {
    const dash = line.indexOf(' - ');
    if (dash < 0) continue;
    const before = line.slice(0, dash).split(' ');
    const after = line.slice(dash + 3).split(' ');
    const root = before[3];
    const mountPoint = before[4];
    const fsType = after[0];
    if (root === undefined || mountPoint === undefined || fsType === undefined) continue;
    // Octal escapes (\040 for a space) as the kernel writes them.
    const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
    out.push({ root: unescape(root), mountPoint: unescape(mountPoint), fsType, superOptions: (after[2] ?? '').split(',') });
  }
  return out;
}

/** Our cgroup path per v1 controller, and the unified path under key "" (from /proc/self/cgroup). */
function ownCgroups(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (m === null) continue;
    const controllers = m[1] ?? '';
    const p = m[2] ?? '/';
    if (controllers === '') out.set('', p);
    for (const c of controllers.split(',')) if (c !== '') out.set(c, p);
  }
  return out;
}

/** The directory of cgroup path `p` under a mount of its hierarchy, or null when the mount does not show it. */
function dirUnder(mount: MountInfo, p: string): string | null {
  const root = mount.root === '/' ? '' : mount.root;
  if (root !== '' && p !== root && !p.startsWith(`${root}/`)) return null;
  const dir = path.join(mount.mountPoint, p.slice(root.length));
  return existsSync(dir) ? dir : null;
}

function writable(dir: string): boolean {
  try {
    accessSync(dir, fsConstants.W_OK);
    // A read-only mount passes access() for root on some kernels; statfs flags are not exposed, so probe by creating.
    const probe = path.join(dir, `.flowreasoner-probe-${process.pid}`);
    mkdirSync(probe);
    rmdirSync(probe);
    return true;
  } catch {
    return false;
  }
}

function controllersOf(dir: string, file: string): string[] {
  return (readText(path.join(dir, file)) ?? '').trim().split(/\s+/).filter((s) => s !== '');
}

/** v2: a directory under which child cgroups get the pids controller, enabling it in subtree_control if needed. */
function v2Base(mounts: MountInfo[], own: Map<string, string>): { base: string } | { reason: string } {
  const mount = mounts.find((m) => m.fsType === 'cgroup2');
  if (mount === undefined) return { reason: 'no cgroup2 mount' };
  if (!controllersOf(mount.mountPoint, 'cgroup.controllers').includes('pids')) {
    return { reason: `the cgroup2 mount at ${mount.mountPoint} has no pids controller (it is bound to a v1 hierarchy, or not delegated)` };
  }
  const ownPath = own.get('');
  const ownDir = ownPath === undefined ? null : dirUnder(mount, ownPath);
  // Our own cgroup first; a cgroup that holds processes cannot enable controllers for its children (the
  // no-internal-processes rule), so then the hierarchy's root, which is exempt.
  const candidates = [...new Set([ownDir, mount.mountPoint].filter((d): d is string => d !== null))];
  const problems: string[] = [];
  for (const dir of candidates) {
    if (!controllersOf(dir, 'cgroup.controllers').includes('pids')) {
      problems.push(`${dir}: pids not available`);
      continue;
    }
    if (!controllersOf(dir, 'cgroup.subtree_control').includes('pids')) {
      try {
        writeFileSync(path.join(dir, 'cgroup.subtree_control'), '+pids');
      } catch (e) {
        problems.push(`${dir}: cannot enable pids for child cgroups (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
        continue;
      }
    }
    if (!writable(dir)) {
      problems.push(`${dir}: not writable`);
      continue;
    }
    return { base: dir };
  }
  return { reason: `cgroup v2: ${problems.join('; ') || 'no usable directory'}` };
}

/** v1: our directory in the pids hierarchy, and in the freezer hierarchy when one is mounted and writable. */
function v1Base(mounts: MountInfo[], own: Map<string, string>): { base: string; freezerBase: string | null } | { reason: string } {
  const pidsPath = own.get('pids');
  const pidsMount = mounts.find((m) => m.fsType === 'cgroup' && m.superOptions.includes('pids'));
  if (pidsMount === undefined || pidsPath === undefined) return { reason: 'no cgroup v1 pids hierarchy' };
  const base = dirUnder(pidsMount, pidsPath);
  if (base === null) return { reason: `our pids cgroup ${pidsPath} is not visible under ${pidsMount.mountPoint}` };
  if (!writable(base)) return { reason: `${base} is not writable (read-only cgroup mount?)` };
  const freezerPath = own.get('freezer');
  const freezerMount = mounts.find((m) => m.fsType === 'cgroup' && m.superOptions.includes('freezer'));
  const freezerDir = freezerMount !== undefined && freezerPath !== undefined ? dirUnder(freezerMount, freezerPath) : null;
  return { base, freezerBase: freezerDir !== null && writable(freezerDir) ? freezerDir : null };
}

let detected: { controller: Controller } | { reason: string } | undefined;

/** Finds a usable pids controller once per process; the reason says why not when there is none. */
export function detectPidsController(): { controller: Controller } | { reason: string } {
  if (detected !== undefined) return detected;
  if (process.platform !== 'linux') return (detected = { reason: `cgroups exist only on Linux (this is ${process.platform})` });
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return (detected = { reason: 'not running as root' });
  const mounts = parseMountInfo(readText('/proc/self/mountinfo') ?? '');
  const own = ownCgroups(readText('/proc/self/cgroup') ?? '');
  const v2 = v2Base(mounts, own);
  if ('base' in v2) return (detected = { controller: { version: 2, base: v2.base, freezerBase: null } });
  const v1 = v1Base(mounts, own);
  if ('base' in v1) return (detected = { controller: { version: 1, base: v1.base, freezerBase: v1.freezerBase } });
  return (detected = { reason: `no writable pids controller: ${v2.reason}; ${v1.reason}` });
}

function readPids(procsPath: string): number[] {
  return (readText(procsPath) ?? '')
    .split('\n')
    .filter((s) => s !== '')
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function rmdirQuiet(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

function killAll(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** Live slots per per-host directory, so the last one removes the directory, and exit cleans up what is left. */
const live = new Map<string, Set<SlotImpl>>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    // Synchronous, best effort: SIGKILL everything (frozen v1 tasks die on thaw), then a few rmdir tries.
    const slots = [...live.values()].flatMap((s) => [...s]);
    for (const s of slots) s.killSyncBestEffort();
    const deadline = Date.now() + 500;
    const pause = new Int32Array(new SharedArrayBuffer(4));
    while (Date.now() < deadline) {
      let left = 0;
      for (const s of slots) if (!s.removeDirs()) left++;
      if (left === 0) break;
      Atomics.wait(pause, 0, 0, 5);
    }
  });
}

function findSetpriv(): string | null {
  return SETPRIV_CANDIDATES.find((p) => existsSync(p)) ?? null;
}

class SlotImpl implements PidsSlot {
  readonly procsPaths: string[];
  readonly prefix: string[];
  removed = false;

  constructor(
    readonly version: 1 | 2,
    readonly index: number,
    readonly dir: string,
    readonly maxPids: number,
    private readonly freezerDir: string | null,
    private readonly top: string[],
  ) {
    this.procsPaths = [path.join(dir, 'cgroup.procs'), ...(freezerDir !== null ? [path.join(freezerDir, 'cgroup.procs')] : [])];
    // One `echo $$` per hierarchy; exit status 125 when entering fails, so the spawner sees it at once.
    const enter = this.procsPaths.map((_p, i) => `echo $$ > "$${i + 1}" || exit 125`).join('; ');
    this.prefix = ['/bin/sh', '-c', `${enter}; shift ${this.procsPaths.length}; exec "$@"`, 'sh', ...this.procsPaths];
  }

  get procsPath(): string {
    return this.procsPaths[0]!;
  }

  wrap(argv: readonly string[], runAs?: { uid: number; gid: number }): string[] {
    if (runAs === undefined) return [...this.prefix, ...argv];
    const setpriv = findSetpriv();
    if (setpriv === null) throw new Error('setpriv (util-linux) is needed to drop privileges after entering the cgroup');
    return [...this.prefix, setpriv, '--reuid', String(runAs.uid), '--regid', String(runAs.gid), '--clear-groups', '--', ...argv];
  }

  enter(pid: number): void {
    for (const p of this.procsPaths) writeFileSync(p, String(pid));
  }

  pids(): number[] {
    return readPids(this.procsPath);
  }

  current(): number {
    const v = Number((readText(path.join(this.dir, 'pids.current')) ?? '').trim());
    return Number.isFinite(v) ? v : 0;
  }

  private freezerState(state: 'FROZEN' | 'THAWED'): boolean {
    if (this.freezerDir === null) return false;
    try {
      writeFileSync(path.join(this.freezerDir, 'freezer.state'), state);
      return true;
    } catch {
      return false;
    }
  }

  killSyncBestEffort(): void {
    if (this.removed) return;
    if (this.version === 2 && existsSync(path.join(this.dir, 'cgroup.kill'))) {
      try {
        writeFileSync(path.join(this.dir, 'cgroup.kill'), '1');
        return;
      } catch {
        // Fall through to signals.
      }
    }
    const frozen = this.freezerState('FROZEN');
    killAll(this.pids());
    if (frozen) this.freezerState('THAWED');
  }

  async kill(timeoutMs = 5000): Promise<boolean> {
    if (this.removed) return true;
    const deadline = Date.now() + timeoutMs;
    if (this.version === 2 && existsSync(path.join(this.dir, 'cgroup.kill'))) {
      // The kernel kills the whole subtree atomically, new forks included.
      writeFileSync(path.join(this.dir, 'cgroup.kill'), '1');
    } else if (this.freezerState('FROZEN')) {
      // v1: frozen tasks cannot fork, so one pass of SIGKILL reaches all of them; they die when thawed.
      const stateFile = path.join(this.freezerDir!, 'freezer.state');
      while (Date.now() < deadline && (readText(stateFile) ?? '').trim() !== 'FROZEN') await sleep(2);
      killAll(this.pids());
      this.freezerState('THAWED');
    }
    // Also the fallback without freezer: SIGKILL whatever is listed until nothing is (pids.max bounds the refills).
    for (;;) {
      const left = this.pids();
      if (left.length === 0) return true;
      if (Date.now() >= deadline) return false;
      killAll(left);
      await sleep(5);
    }
  }

  /** rmdir of the slot in each hierarchy; true once they are gone. */
  removeDirs(): boolean {
    if (this.removed) return true;
    const ok = [this.dir, ...(this.freezerDir !== null ? [this.freezerDir] : [])].map(rmdirQuiet).every(Boolean);
    if (ok) {
      this.removed = true;
      for (const top of this.top) {
        const set = live.get(top);
        set?.delete(this);
        if (set !== undefined && set.size === 0) {
          live.delete(top);
          rmdirQuiet(top);
        }
      }
    }
    return ok;
  }

  async remove(): Promise<boolean> {
    if (this.removed) return true;
    const emptied = await this.kill();
    // A process may still be leaving the cgroup for a moment after its last pid vanished from cgroup.procs.
    for (let i = 0; i < 100; i++) {
      if (this.removeDirs()) return true;
      await sleep(5);
    }
    return emptied && this.removed;
  }
}

/**
 * Creates flowreasoner-<hostpid>/slot-<index> with pids.max = maxPids. Never throws: when cgroups cannot be used
 * (not root, no pids controller, read-only mount) it returns { slot: null, reason } with a one-line reason.
 */
export function createPidsSlot(index: number, maxPids: number, opts: PidsCgroupOptions = {}): PidsSlotResult {
  try {
    if (!Number.isInteger(index) || index < 0) return { slot: null, reason: `slot index must be a non-negative integer (got ${index})` };
    if (!Number.isInteger(maxPids) || maxPids < 1) return { slot: null, reason: `pids.max must be a positive integer (got ${maxPids})` };
    const found = detectPidsController();
    if ('reason' in found) return { slot: null, reason: found.reason };
    const { version, base, freezerBase } = found.controller;
    const name = `flowreasoner-${opts.hostPid ?? process.pid}`;
    const top = path.join(base, name);
    const dir = path.join(top, `slot-${index}`);
    const freezerTop = freezerBase !== null && opts.freezer !== false ? path.join(freezerBase, name) : null;
    const freezerDir = freezerTop !== null ? path.join(freezerTop, `slot-${index}`) : null;
    mkdirSync(top, { recursive: true });
    // v2: the intermediate directory holds no processes, so it may pass pids on to its children.
    if (version === 2 && !controllersOf(top, 'cgroup.subtree_control').includes('pids')) writeFileSync(path.join(top, 'cgroup.subtree_control'), '+pids');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'pids.max'), String(maxPids));
    let freezerUsable: string | null = null;
    if (freezerDir !== null) {
      try {
        mkdirSync(freezerDir, { recursive: true });
        freezerUsable = freezerDir;
      } catch {
        freezerUsable = null;
      }
    }
    // Readable by everyone: the slot's processes (an unprivileged uid) may look at their own limits.
    for (const d of [top, dir]) chmodSync(d, 0o755);
    const tops = [top, ...(freezerUsable !== null && freezerTop !== null ? [freezerTop] : [])];
    const slot = new SlotImpl(version, index, dir, maxPids, freezerUsable, tops);
    for (const t of tops) {
      const set = live.get(t) ?? new Set<SlotImpl>();
      set.add(slot);
      live.set(t, set);
    }
    installExitHook();
    return { slot, reason: null };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return { slot: null, reason: `cannot create the pids cgroup: ${err.code ?? ''} ${err.message}`.replace(/\s+/g, ' ').trim() };
  }
}
