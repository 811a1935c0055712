// fr_lockdown.py for real: the seccomp filter in forked children, PR_SET_DUMPABLE against same-uid readers, and the armed audit hook, as root and as nobody.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, tmpDir } from './helpers/tmp.ts';

const PYTHON = '/usr/bin/python3';
const SECRET = 'sk-lockdown-test-0123456789abcdef';
const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const EPERM = 1;
const SIGSYS = 31;
const SIGSEGV = 11;

/** Yama's ptrace_scope (0 when Yama is off): at 1 and above, a child may not attach to its parent whatever we do. */
function yamaScope(): number {
  const f = '/proc/sys/kernel/yama/ptrace_scope';
  return existsSync(f) ? Number(readFileSync(f, 'utf8').trim()) : 0;
}

let lockdownDir = '';
beforeAll(async () => {
  // A world-readable copy, so the unprivileged runs can import it whatever the permissions of the checkout.
  lockdownDir = await tmpDir('fr-lockdown-');
  chmodSync(lockdownDir, 0o755);
  copyFileSync(path.join(repoRoot, 'pipeline/sandbox/py/fr_lockdown.py'), path.join(lockdownDir, 'fr_lockdown.py'));
  chmodSync(path.join(lockdownDir, 'fr_lockdown.py'), 0o644);
});

type User = 'root' | 'nobody' | 'self';
const users: User[] = asRoot ? ['root', 'nobody'] : ['self'];

/** Runs a Python driver as the given user and returns the JSON object it prints last. */
function runPy(user: User, body: string, argv: string[] = []): Record<string, unknown> {
  const script = PRELUDE.replace('@LOCKDOWN_DIR@', JSON.stringify(lockdownDir)) + body;
  const py = [PYTHON, '-I', '-B', '-c', script, ...argv];
  const [cmd, args] = user === 'nobody' ? ['setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', ...py]] : [py[0]!, py.slice(1)];
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: '/tmp', timeout: 60_000, env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', FR_TEST_SECRET: SECRET } });
  const lines = r.stdout.trim().split('\n');
  const last = lines.at(-1) ?? '';
  if (r.status !== 0 || !last.startsWith('{')) throw new Error(`driver failed (status ${r.status}, signal ${r.signal}):\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(last) as Record<string, unknown>;
}

// Shared by every driver: raw system calls that report an errno, and a forked child that answers in JSON.
const PRELUDE = String.raw`
import ctypes, errno, json, os, sys
sys.path.insert(0, @LOCKDOWN_DIR@)
import fr_lockdown as L

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long

def sc(nr, *args):
    """errno of a raw system call, 0 on success."""
    ctypes.set_errno(0)
    r = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) for a in args])
    return 0 if r >= 0 else ctypes.get_errno()

def in_child(fn):
    """fn() in a forked child; its JSON answer, or {"signal": n} if it was killed. Waits with a pidfd, as the worker does."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            out = fn()
        except BaseException as e:
            out = {"error": repr(e)}
        os.write(w, json.dumps(out).encode())
        os._exit(0)
    os.close(w)
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:
        pidfd = None  # inside a filtered child, which may not
    data = b""
    while True:
        chunk = os.read(r, 1 << 16)
        if not chunk:
            break
        data += chunk
    os.close(r)
    _, status = os.waitpid(pid, 0)
    if pidfd is not None:
        os.close(pidfd)
    if os.WIFSIGNALED(status):
        return {"signal": os.WTERMSIG(status)}
    return json.loads(data)
`;

const SECCOMP = String.raw`
import subprocess, threading, time, mmap
arch = L.machine()
NR = L.ARCHES[arch]["nr"]
prog = L.child_filter()
parent = os.getpid()
parent_pidfd = os.pidfd_open(parent)  # inherited by the children: what pidfd_getfd would borrow from
secret = ctypes.create_string_buffer(b"parent-secret", 32)

def probes(target, target_pidfd):
    local = ctypes.create_string_buffer(32)
    iov_local = (ctypes.c_void_p * 2)(ctypes.addressof(local), 32)
    iov_remote = (ctypes.c_void_p * 2)(ctypes.addressof(secret), 32)
    return {
        # PEEKDATA on a process we do not trace: ESRCH when the call reaches ptrace at all.
        "ptrace": sc(NR["ptrace"], 2, target, ctypes.addressof(secret), 0),
        "process_vm_readv": sc(NR["process_vm_readv"], target, ctypes.addressof(iov_local), 1, ctypes.addressof(iov_remote), 1, 0),
        # Writes into our own copy only (the remote address is in our buffer when target is us).
        "process_vm_writev": sc(NR["process_vm_writev"], os.getpid(), ctypes.addressof(iov_local), 1, ctypes.addressof(iov_local), 1, 0),
        "pidfd_open": sc(NR["pidfd_open"], target, 0),
        "pidfd_getfd": sc(NR["pidfd_getfd"], target_pidfd, 0, 0),
        "kcmp": sc(NR["kcmp"], target, os.getpid(), 0, 0, 0),
        "perf_event_open": sc(NR["perf_event_open"], 0, 0, -1, -1, 0),
        "process_madvise": sc(NR["process_madvise"], target_pidfd, 0, 0, 0, 0),
        "set_dumpable": sc(NR["prctl"], L.PR_SET_DUMPABLE, 1, 0, 0, 0),
        "get_dumpable": sc(NR["prctl"], L.PR_GET_DUMPABLE, 0, 0, 0, 0),
        "x32_getpid": sc(L.X32_SYSCALL_BIT + 39) if arch == "x86_64" else None,
    }

def control():
    own = os.pidfd_open(os.getpid())
    return probes(os.getpid(), own)

def filtered():
    own = os.pidfd_open(os.getpid())  # opened before the filter, which refuses pidfd_open afterwards
    t0 = time.perf_counter_ns()
    L.install_child_filter(prog)
    cost = time.perf_counter_ns() - t0
    try:
        os.pidfd_open(parent)
        py_pidfd = 0
    except OSError as e:
        py_pidfd = e.errno
    # Ordinary work is untouched: threads, a subprocess, files.
    th = threading.Thread(target=lambda: None)
    th.start()
    th.join()
    rc = subprocess.run(["/bin/true"]).returncode
    with open("/proc/self/status") as f:
        mode = [l.split()[1] for l in f if l.startswith("Seccomp:")][0]
    return {
        "installNs": cost,
        "self": probes(os.getpid(), own),
        "parent": probes(parent, parent_pidfd),
        "pyPidfdOpen": py_pidfd,
        "subprocess": rc,
        "seccompMode": mode,
        "grandchild": in_child(lambda: {"pidfd_open": sc(NR["pidfd_open"], os.getppid(), 0), "ptrace": sc(NR["ptrace"], 2, os.getppid(), 0, 0)}),
    }

def i386_getpid():
    """int 0x80 (the i386 entry) from a 64-bit process: another audit arch, which the filter kills."""
    code = b"\xb8\x14\x00\x00\x00\xcd\x80\xc3"  # mov eax, 20 (i386 getpid); int 0x80; ret
    m = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    m.write(code)
    fn = ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(m)))
    return {"pid": fn()}

def i386_filtered():
    L.install_child_filter(prog)
    return i386_getpid()

with open("/proc/self/status") as f:
    base_mode = [l.split()[1] for l in f if l.startswith("Seccomp:")][0]
out = {"arch": arch, "baseSeccomp": base_mode, "control": in_child(control), "filtered": in_child(filtered)}
if arch == "x86_64":
    out["i386Control"] = in_child(i386_getpid)
    out["i386Filtered"] = in_child(i386_filtered)
# The parent keeps pidfd_open: it waited on every child above with one, and still can.
out["parentPidfdOpen"] = os.pidfd_open(parent) > 0
out["program"] = L.filter_program(arch)
print(json.dumps(out))
`;

const DUMPABLE = String.raw`
mode = sys.argv[1]
if mode == "nondumpable":
    L.set_nondumpable()
me = os.getpid()
my_pidfd = os.pidfd_open(me)  # inherited by the reader: pidfd_getfd on us
NR = L.ARCHES[L.machine()]["nr"]

def read_proc(pid, what):
    try:
        with open("/proc/%d/%s" % (pid, what), "rb") as f:
            data = f.read(1 << 16) if what == "environ" else b""
        return "secret" if os.environ["FR_TEST_SECRET"].encode() in data else "opened"
    except OSError as e:
        return errno.errorcode[e.errno]

def reader():
    return {
        "environ": read_proc(me, "environ"),
        "mem": read_proc(me, "mem"),
        "pidfd_getfd": sc(NR["pidfd_getfd"], my_pidfd, 0, 0),
        "inheritedDumpable": L.is_dumpable(),
        "ownMem": read_proc(os.getpid(), "mem"),
    }

out = {"uid": os.getuid(), "forked": in_child(reader)}
print(json.dumps(out))
`;

const AUDIT = String.raw`
import builtins, collections, enum, gc, io, linecache, logging, signal, threading, traceback, typing, unittest, warnings
L.frame_free_stdlib()
arm, disarm = L.install_audit_hook()
fmt = L.make_exception_formatter(arm, disarm, hide_prefixes=(os.path.dirname(unittest.__file__) + "/",))

def attempt(fn):
    try:
        fn()
        return "allowed"
    except L.Blocked as e:
        return type(e).__name__
    except Exception as e:
        return "error %s: %s" % (type(e).__name__, e)

def gen():
    yield 1

async def coro():
    pass

async def agen():
    yield 1

def cr_frame():
    c = coro()
    try:
        return c.cr_frame
    finally:
        c.close()

try:
    1 / 0
except ZeroDivisionError as e:
    err = e

def mine():
    return 1

def mine_too():
    return 2

def fresh_ctypes_import():
    saved = {k: sys.modules.pop(k) for k in list(sys.modules) if k == "ctypes" or k.startswith("ctypes.")}
    try:
        import ctypes as again
    finally:
        sys.modules.update(saved)

import json as json_module
import textwrap as textwrap_module
import types as types_module

# pandas' chained-assignment check calls gc.get_referents on its own objects: a stand-in module at pandas' path (the
# hook takes the class at the first arm(), before any job code runs).
pandas_generic = types_module.ModuleType("pandas.core.generic")
pandas_generic.__file__ = "/usr/lib/python3/dist-packages/pandas/core/generic.py"

class NDFrame:
    pass

class DataFrame(NDFrame):
    pass

class LyingMeta(type):
    @property
    def __mro__(cls):
        return (cls, NDFrame, object)

class PosesAsPandas(metaclass=LyingMeta):
    pass

pandas_generic.NDFrame = NDFrame
sys.modules["pandas.core.generic"] = pandas_generic
out = {"beforeArm": attempt(lambda: sys._getframe())}
job_hook_events = []
arm()
refused = {
    "sys._getframe": lambda: sys._getframe(),
    "sys._current_frames": lambda: sys._current_frames(),
    "sys._current_exceptions": lambda: sys._current_exceptions(),
    "tb_frame": lambda: err.__traceback__.tb_frame,
    "gi_frame": lambda: gen().gi_frame,
    "cr_frame": cr_frame,
    "ag_frame": lambda: agen().ag_frame,
    "gc.get_objects": lambda: gc.get_objects(),
    "gc.get_referrers": lambda: gc.get_referrers(err),
    "gc.get_referents": lambda: gc.get_referents(err),
    "gc.get_referents of a pandas object and another": lambda: gc.get_referents(DataFrame(), err),
    "gc.get_referents of an object whose metaclass fakes __mro__": lambda: gc.get_referents(PosesAsPandas()),
    "sys.settrace": lambda: sys.settrace(lambda *a: None),
    "sys.setprofile": lambda: sys.setprofile(lambda *a: None),
    "ctypes.CDLL": lambda: ctypes.CDLL(None),
    "ctypes.string_at": lambda: ctypes.string_at(id(err), 8),
    "ctypes.addressof": lambda: ctypes.addressof(ctypes.c_int(1)),
    "ctypes.from_address": lambda: ctypes.c_int.from_address(id(err)),
    "import ctypes afresh": fresh_ctypes_import,
    "fr_lockdown function __code__ =": lambda: setattr(L.install_child_filter, "__code__", mine.__code__),
}
out["refused"] = {k: attempt(fn) for k, fn in refused.items()}
log = io.StringIO()
logger = logging.getLogger("lockdown-test")
logger.addHandler(logging.StreamHandler(log))

def with_warning():
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        warnings.warn("careful")
    assert len(w) == 1

class Case(unittest.TestCase):
    def test_raises(self):
        with self.assertRaises(ZeroDivisionError):
            1 / 0

    def test_logs(self):
        with self.assertLogs("lockdown-test", level="INFO"):
            logger.info("hello")

    def test_fails(self):
        self.assertEqual(1, 2)

class Result(unittest.TestResult):
    # Formats with the safe formatter while armed; unittest's own formatting reads tb_frame.
    def addFailure(self, test, err_info):
        self.failures.append((test, fmt(err_info[1])))

    def addError(self, test, err_info):
        self.errors.append((test, fmt(err_info[1])))

def run_case():
    result = Result()
    unittest.TestLoader().loadTestsFromTestCase(Case).run(result)
    return result

allowed = {
    "own function __code__ =": lambda: setattr(mine_too, "__code__", mine.__code__),
    # Importing asyncio rewrites __code__ of its own functions (types.coroutine), so the standard library is not
    # protected; the harness checks the code of the unittest methods it relies on instead.
    "stdlib function __code__ =": lambda: setattr(textwrap_module.indent, "__code__", textwrap_module.indent.__code__),
    "function __code__ read": lambda: mine.__code__,
    "getattr(tb, 'tb_frame', None)": lambda: getattr(err.__traceback__, "tb_frame", None),
    "namedtuple": lambda: collections.namedtuple("P", "a b"),
    "TypeVar": lambda: typing.TypeVar("T"),
    "Enum": lambda: enum.Enum("Color", "RED GREEN"),
    "logging": lambda: logger.warning("logged"),
    "warnings": with_warning,
    "extract_stack": lambda: traceback.extract_stack(limit=2)[-1],
    "gc.get_referents of pandas objects (and None)": lambda: gc.get_referents(DataFrame(), None),
}
out["allowed"] = {k: attempt(fn) for k, fn in allowed.items()}
out["log"] = log.getvalue()
result = run_case()
out["unittest"] = {"run": result.testsRun, "errors": [t for _, t in result.errors], "failures": [t for _, t in result.failures]}

# A second hook is refused silently (sys.addaudithook drops hooks when one raises a RuntimeError).
sys.addaudithook(lambda event, args: job_hook_events.append(event))
sys.audit("lockdown.probe")

# The hook keeps what it bound at install: emptying the module's tables or builtins.len changes nothing.
saved_len = builtins.len
L.BLOCKED_EVENTS = frozenset()
L.FRAME_ATTRIBUTES = frozenset()
builtins.len = lambda x: 0
try:
    out["afterPatching"] = [attempt(lambda: sys._getframe()), attempt(lambda: err.__traceback__.tb_frame), attempt(lambda: gc.get_objects())]
finally:
    builtins.len = saved_len
out["moduleHoldsClosures"] = [k for k, v in vars(L).items() if v is arm or v is disarm or v is fmt]

# A job's signal handler still receives a frame while armed: a documented gap.
got = []
old = signal.signal(signal.SIGUSR1, lambda signum, frame: got.append(frame is not None))
signal.raise_signal(signal.SIGUSR1)
signal.signal(signal.SIGUSR1, old)
out["signalHandlerFrame"] = got

# The safe formatter: the job's __str__ runs armed, the chain and frames are there, planted linecache entries are never called.
planted = []
linecache.cache["planted.py"] = (lambda: planted.append("called") or "raiser()\n",)

class Loud(Exception):
    def __str__(self):
        try:
            sys._getframe()
            return "str ran with frames"
        except L.Blocked:
            return "str ran armed"

def raiser():
    try:
        raise ValueError("root cause")
    except ValueError as cause:
        raise Loud() from cause

try:
    exec(compile("raiser()", "planted.py", "exec"), {"raiser": raiser})
except Loud as e:
    loud = e

# Another thread stays refused while the main thread is exempt.
before = disarm()
other = []
t = threading.Thread(target=lambda: other.append(attempt(lambda: sys._getframe())))
t.start()
t.join()
out["disarm"] = {"returned": before, "main": attempt(lambda: sys._getframe()), "otherThread": other[0]}
out["formatted"] = fmt(loud)
out["plantedCalls"] = list(planted)
try:
    1 / 0
except ZeroDivisionError:
    out["formatExc"] = traceback.format_exc()
# What the safe formatter avoids: traceback's own formatting calls into linecache's planted entry.
traceback.format_exception(loud)
out["plantedCallsByTraceback"] = list(planted)
out["jobHookEvents"] = job_hook_events
out["rearm"] = arm()
out["rearmed"] = attempt(lambda: sys._getframe())
print(json.dumps(out))
`;

const DENIED = ['ptrace', 'process_vm_readv', 'process_vm_writev', 'pidfd_open', 'pidfd_getfd', 'kcmp', 'perf_event_open', 'process_madvise', 'set_dumpable'];

function expectControl(c: Record<string, number | null>): void {
  expect(c.process_vm_readv).toBe(0);
  expect(c.process_vm_writev).toBe(0);
  expect(c.pidfd_open).toBe(0);
  expect(c.pidfd_getfd).toBe(0);
  expect(c.set_dumpable).toBe(0);
  for (const name of ['ptrace', 'kcmp', 'perf_event_open', 'process_madvise']) expect([name, c[name]]).not.toEqual([name, EPERM]);
}

describe.each(users)('fr_lockdown as %s', (user) => {
  it('a forked child with the filter cannot ptrace, read or write another process, open or borrow pidfds; its descendants neither', () => {
    const r = runPy(user, SECCOMP) as {
      arch: string;
      baseSeccomp: string;
      control: Record<string, number | null>;
      filtered: { installNs: number; self: Record<string, number | null>; parent: Record<string, number | null>; pyPidfdOpen: number; subprocess: number; seccompMode: string; grandchild: Record<string, number> };
      i386Control?: { pid?: number; signal?: number };
      i386Filtered?: { pid?: number; signal?: number };
      parentPidfdOpen: boolean;
      program: number[][];
    };
    // Without the filter the same calls are not refused with EPERM (they succeed, or fail for their own reasons).
    // Checked where the test itself runs without a seccomp filter (a container's profile may refuse some already).
    const c = r.control;
    const unconfined = r.baseSeccomp === '0';
    if (unconfined) expectControl(c);
    for (const target of [r.filtered.parent, r.filtered.self]) {
      for (const name of DENIED) expect([name, target[name]]).toEqual([name, EPERM]);
      expect(target.get_dumpable).toBe(0);
    }
    expect(r.filtered.pyPidfdOpen).toBe(EPERM);
    expect(r.filtered.grandchild).toEqual({ pidfd_open: EPERM, ptrace: EPERM });
    expect(r.filtered.subprocess).toBe(0);
    expect(r.filtered.seccompMode).toBe('2');
    expect(r.parentPidfdOpen).toBe(true);
    if (r.arch === 'x86_64') {
      // x32 numbers: ENOSYS (or a pid) without the filter, EPERM with it.
      if (unconfined) expect(c.x32_getpid).not.toBe(EPERM);
      expect(r.filtered.self.x32_getpid).toBe(EPERM);
      // i386 entry: killed with SIGSYS; on kernels without i386 emulation the CPU faults first (SIGSEGV either way).
      if (r.i386Control?.pid !== undefined) expect(r.i386Filtered).toEqual({ signal: SIGSYS });
      else expect(r.i386Filtered?.signal).toBe(r.i386Control?.signal === SIGSEGV ? SIGSEGV : SIGSYS);
    }
    // The program ends in allow / EPERM / kill-process.
    expect(r.program.slice(-3).map((i) => i[3])).toEqual([0x7fff0000, 0x50000 + EPERM, 0x80000000]);
    console.log(`[${user}] install_child_filter in a fresh child: ${(r.filtered.installNs / 1000).toFixed(0)} µs`);
    expect(r.filtered.installNs).toBeLessThan(50_000_000);
  });

  it('after set_nondumpable a same-uid reader cannot open /proc/<pid>/mem or environ, nor borrow its fds', () => {
    const open = runPy(user, DUMPABLE, ['dumpable']) as { uid: number; forked: Record<string, unknown> };
    const shut = runPy(user, DUMPABLE, ['nondumpable']) as { uid: number; forked: Record<string, unknown> };
    // The control: a dumpable process is open to its same-uid child (mem and pidfd_getfd need ptrace attach rights, which Yama can take away).
    expect(open.forked.environ).toBe('secret');
    expect(open.forked.inheritedDumpable).toBe(true);
    if (yamaScope() === 0) {
      expect(open.forked.mem).toBe('opened');
      expect(open.forked.pidfd_getfd).toBe(0);
    }
    expect(shut.forked.inheritedDumpable).toBe(false);
    if (shut.uid === 0) {
      // Root keeps CAP_SYS_PTRACE and reads anyway: that is why jobs run as sandboxUser (the case below).
      expect(shut.forked.environ).toBe('secret');
      expect(shut.forked.mem).toBe('opened');
    } else {
      expect(['EACCES', 'EPERM']).toContain(shut.forked.environ);
      expect(['EACCES', 'EPERM']).toContain(shut.forked.mem);
      expect(shut.forked.pidfd_getfd).toBe(EPERM);
      // And unprivileged, the flag closes the process's own /proc/self/mem too (the file now belongs to root).
      expect(shut.forked.ownMem).toBe('EACCES');
      expect(open.forked.ownMem).toBe('opened');
    }
  });

  it('the armed audit hook refuses introspection, ctypes and __code__ swaps; disarm() lets the harness format tracebacks', () => {
    const r = runPy(user, AUDIT) as Record<string, unknown> & {
      refused: Record<string, string>;
      allowed: Record<string, string>;
      unittest: { run: number; errors: string[]; failures: string[] };
      disarm: { returned: boolean; main: string; otherThread: string };
      formatted: string;
    };
    expect(r.beforeArm).toBe('allowed');
    expect(r.refused).toEqual({
      'sys._getframe': 'BlockedFrame',
      'sys._current_frames': 'Blocked',
      'sys._current_exceptions': 'Blocked',
      tb_frame: 'BlockedAttribute',
      gi_frame: 'BlockedAttribute',
      cr_frame: 'BlockedAttribute',
      ag_frame: 'BlockedAttribute',
      'gc.get_objects': 'Blocked',
      'gc.get_referrers': 'Blocked',
      'gc.get_referents': 'Blocked',
      'gc.get_referents of a pandas object and another': 'Blocked',
      'gc.get_referents of an object whose metaclass fakes __mro__': 'Blocked',
      'sys.settrace': 'Blocked',
      'sys.setprofile': 'Blocked',
      'ctypes.CDLL': 'Blocked',
      'ctypes.string_at': 'Blocked',
      'ctypes.addressof': 'Blocked',
      'ctypes.from_address': 'Blocked',
      'import ctypes afresh': 'Blocked',
      'fr_lockdown function __code__ =': 'Blocked',
    });
    // Library code that guards its frame access, or was made frame-free, keeps working while armed.
    expect(r.allowed).toEqual(Object.fromEntries(Object.keys(r.allowed).map((k) => [k, 'allowed'])));
    expect(r.allowed['gc.get_referents of pandas objects (and None)']).toBe('allowed');
    expect(r.log).toContain('logged');
    expect(r.unittest.run).toBe(3);
    expect(r.unittest.errors).toEqual([]);
    expect(r.unittest.failures).toHaveLength(1);
    expect(r.unittest.failures[0]).toMatch(/Traceback \(most recent call last\):\n {2}File "<string>", line \d+, in test_fails\n/);
    expect(r.unittest.failures[0]).toMatch(/AssertionError: 1 != 2\n$/);
    expect(r.unittest.failures[0]).not.toContain('unittest/case.py');
    expect(r.jobHookEvents).toEqual([]);
    expect(r.afterPatching).toEqual(['BlockedFrame', 'BlockedAttribute', 'Blocked']);
    expect(r.moduleHoldsClosures).toEqual([]);
    expect(r.signalHandlerFrame).toEqual([true]);
    // disarm exempts the calling thread only.
    expect(r.disarm).toEqual({ returned: true, main: 'allowed', otherThread: 'BlockedFrame' });
    expect(r.formatExc).toMatch(/Traceback[\s\S]*ZeroDivisionError: division by zero\n$/);
    expect(r.formatted).toContain('ValueError: root cause\n');
    expect(r.formatted).toContain('The above exception was the direct cause of the following exception:');
    expect(r.formatted).toMatch(/File "<string>", line \d+, in raiser\n/);
    expect(r.formatted).toMatch(/Loud: str ran armed\n$/);
    expect(r.plantedCalls).toEqual([]);
    expect(r.plantedCallsByTraceback).toEqual(['called']);
    expect(r.rearm).toBe(false);
    expect(r.rearmed).toBe('BlockedFrame');
  });
});
