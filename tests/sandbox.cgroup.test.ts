// The per-slot pids cgroup for real: a fork loop stops at pids.max, a neighbour slot still forks, kill() empties a slot, remove() deletes the directories.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createPidsSlot, detectPidsController, type PidsSlot } from '../pipeline/sandbox/cgroup.ts';
import { repoRoot } from './helpers/tmp.ts';

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** An independent look at the machine: is there a pids controller we, as root, could write to? */
function pidsControllerPresent(): boolean {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  const v1 = mounts.some((l) => / - cgroup cgroup [^ ]*\bpids\b/.test(l) && / rw[, ]/.test(l));
  const v2 = mounts
    .filter((l) => l.includes(' - cgroup2 '))
    .some((l) => {
      const mountPoint = l.split(' ')[4] ?? '';
      return / rw[, ]/.test(l) && readFileSync(path.join(mountPoint, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('pids');
    });
  return v1 || v2;
}

const expectSlots = asRoot && pidsControllerPresent();
const spawned: ChildProcess[] = [];
const slots: PidsSlot[] = [];

afterAll(async () => {
  for (const c of spawned) c.kill('SIGKILL');
  for (const s of slots) await s.remove();
});

/** Spawns argv inside the slot and resolves with the first line it prints (it keeps running). */
function startIn(slot: PidsSlot, argv: string[]): Promise<{ child: ChildProcess; line: string }> {
  const [cmd, ...args] = slot.wrap(argv);
  const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  spawned.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve({ child, line: out.slice(0, nl) });
    });
    child.on('exit', (code) => reject(new Error(`exited ${code} before answering: ${out} ${err}`)));
  });
}

// Forks children that sleep until it cannot fork any more (or has `limit` of them), then reports and sleeps.
const FORK_LOOP = String.raw`
import os, sys, time
limit = int(sys.argv[1])
n, err = 0, 0
while n < limit:
    try:
        pid = os.fork()
    except OSError as e:
        err = e.errno
        break
    if pid == 0:
        time.sleep(60)
        os._exit(0)
    n += 1
print(n, err, flush=True)
time.sleep(60)
`;

// Every process forks again as soon as the limit lets it: what kill() must still empty.
const BOMB = String.raw`
import os, time
print("started", flush=True)
while True:
    try:
        os.fork()
    except OSError:
        time.sleep(0.001)
`;

describe('pids cgroup slots', () => {
  it(expectSlots ? 'are available here (root, writable pids controller)' : 'report why they are unavailable here', () => {
    const r = createPidsSlot(90, 10);
    if (r.slot !== null) slots.push(r.slot);
    if (expectSlots) {
      expect(r.reason).toBeNull();
      expect(r.slot?.version === 1 || r.slot?.version === 2).toBe(true);
    } else {
      expect(r.slot).toBeNull();
      expect(r.reason).toMatch(/^[^\n]+$/);
    }
  });

  it.runIf(expectSlots)('stop a fork loop at pids.max while a neighbour slot still forks; kill() empties, remove() deletes', async () => {
    const a = createPidsSlot(0, 10);
    const b = createPidsSlot(1, 10);
    expect(a.reason).toBeNull();
    expect(b.reason).toBeNull();
    const slotA = a.slot!;
    const slotB = b.slot!;
    slots.push(slotA, slotB);
    expect(readFileSync(path.join(slotA.dir, 'pids.max'), 'utf8').trim()).toBe('10');
    expect(path.basename(path.dirname(slotA.dir))).toBe(`flowreasoner-${process.pid}`);

    const full = await startIn(slotA, ['/usr/bin/python3', '-c', FORK_LOOP, '50']);
    // The interpreter and 9 children make 10; the 10th fork fails with EAGAIN.
    expect(full.line).toBe('9 11');
    expect(slotA.current()).toBe(10);
    expect(slotA.pids()).toHaveLength(10);
    expect(slotA.pids()).toContain(full.child.pid);
    expect(readFileSync(`/proc/${full.child.pid}/cgroup`, 'utf8')).toContain(`/flowreasoner-${process.pid}/slot-0`);

    const neighbour = await startIn(slotB, ['/usr/bin/python3', '-c', FORK_LOOP, '5']);
    expect(neighbour.line).toBe('5 0');
    expect(slotB.current()).toBe(6);

    expect(await slotA.kill()).toBe(true);
    expect(slotA.pids()).toEqual([]);
    // B is untouched.
    expect(slotB.pids()).toHaveLength(6);

    expect(await slotA.remove()).toBe(true);
    expect(existsSync(slotA.dir)).toBe(false);
    // The per-host directory stays while slot B lives, and goes with it.
    expect(existsSync(path.dirname(slotB.dir))).toBe(true);
    expect(await slotB.remove()).toBe(true);
    expect(existsSync(slotB.dir)).toBe(false);
    const leftover = slots.filter((s) => s !== slotA && s !== slotB);
    if (leftover.length === 0) expect(existsSync(path.dirname(slotB.dir))).toBe(false);
  });

  it.runIf(expectSlots).each([
    ['with the freezer (v1) or cgroup.kill (v2)', true],
    ['with signals only', false],
  ])('kill() empties a slot whose processes fork back as fast as they die, %s', async (_label, freezer) => {
    const r = createPidsSlot(freezer ? 2 : 3, 12, { freezer });
    const slot = r.slot!;
    slots.push(slot);
    if (slot.version === 1) expect(slot.procsPaths).toHaveLength(freezer && existsSync('/sys/fs/cgroup/freezer') ? 2 : 1);
    await startIn(slot, ['/usr/bin/python3', '-c', BOMB]);
    // Wait until the bomb has filled the slot.
    for (let i = 0; i < 200 && slot.current() < 12; i++) await new Promise((res) => setTimeout(res, 10));
    expect(slot.current()).toBe(12);
    const t0 = Date.now();
    expect(await slot.kill()).toBe(true);
    console.log(`kill() of a saturated fork bomb (v${slot.version}, ${slot.procsPaths.length > 1 ? 'freezer' : 'no freezer'}): ${Date.now() - t0} ms`);
    expect(slot.pids()).toEqual([]);
    expect(await slot.remove()).toBe(true);
    expect(existsSync(slot.dir)).toBe(false);
  });

  it.runIf(asRoot)('as an unprivileged user, creating a slot returns null with a reason instead of throwing', () => {
    const script = `import { createPidsSlot } from ${JSON.stringify(path.join(repoRoot, 'pipeline/sandbox/cgroup.ts'))};\nconsole.log(JSON.stringify(createPidsSlot(0, 10)));\n`;
    const r = spawnSync('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', process.execPath, '--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: repoRoot,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp', TMPDIR: '/tmp' },
    });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout.trim())).toEqual({ slot: null, reason: 'not running as root' });
  });

  it.runIf(expectSlots)('wrap() with runAs enters the slot as root, then runs the command as that uid', async () => {
    const slot = createPidsSlot(4, 5).slot!;
    slots.push(slot);
    const [cmd, ...args] = slot.wrap(['/bin/sh', '-c', 'id -u; id -G; cat /proc/self/cgroup'], { uid: 65534, gid: 65534 });
    const r = spawnSync(cmd!, args, { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const [uid, groups, ...cgroups] = r.stdout.trim().split('\n');
    expect(uid).toBe('65534');
    expect(groups).toBe('65534');
    expect(cgroups.join('\n')).toContain(`/flowreasoner-${process.pid}/slot-4`);
    expect(await slot.remove()).toBe(true);
  });

  it.runIf(expectSlots)('a host that exits without remove() leaves no process and no directory behind', () => {
    const script = [
      `import { spawn } from 'node:child_process';`,
      `import { createPidsSlot } from ${JSON.stringify(path.join(repoRoot, 'pipeline/sandbox/cgroup.ts'))};`,
      `const { slot } = createPidsSlot(0, 8);`,
      `const [cmd, ...args] = slot.wrap(['/bin/sleep', '60']);`,
      `const child = spawn(cmd, args, { stdio: 'ignore', detached: true });`,
      `child.unref();`,
      `setTimeout(() => { console.log(JSON.stringify({ dir: slot.dir, pids: slot.pids() })); process.exit(0); }, 300);`,
    ].join('\n');
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8' });
    const out = JSON.parse(r.stdout.trim()) as { dir: string; pids: number[] };
    expect(out.pids).toHaveLength(1);
    expect(existsSync(out.dir)).toBe(false);
    expect(existsSync(path.dirname(out.dir))).toBe(false);
    // The sleeper was killed on the way out (it may linger a moment as a zombie of init).
    const state = existsSync(`/proc/${out.pids[0]}/stat`) ? readFileSync(`/proc/${out.pids[0]}/stat`, 'utf8').split(' ')[2] : 'gone';
    expect(['gone', 'Z', 'X']).toContain(state);
  });

  it('detection is cached and consistent with createPidsSlot', () => {
    const d = detectPidsController();
    expect('controller' in d).toBe(expectSlots);
  });
});
