"""Locks a sandbox process down against its own jobs: non-dumpable memory, a seccomp filter against cross-process inspection, and an in-process audit hook.

Three layers, each for a different place:

* ``set_nondumpable()`` in the warm parent: same-uid processes (every job) can no longer read or write its memory through
  /proc/<pid>/mem, read /proc/<pid>/environ, ptrace it or take its descriptors with pidfd_getfd. The flag is inherited by
  forked children (it lives in the memory map), and for an unprivileged uid it also closes the process's own
  /proc/self/mem and /proc/self/environ. It does not stop a reader with CAP_SYS_PTRACE (root): jobs must run unprivileged.
* ``child_filter()`` once in the warm parent, ``install_child_filter(prog)`` in each forked child before any candidate code:
  a seccomp filter, inherited by every descendant, that makes ptrace, process_vm_readv/writev, pidfd_open, pidfd_getfd,
  kcmp, process_madvise, perf_event_open and prctl(PR_SET_DUMPABLE) fail with EPERM, refuses x32 system calls and kills
  the process on a foreign architecture (i386 ``int 0x80``). The warm parent keeps pidfd_open (it waits on children with it).
* ``install_audit_hook()`` where tests must run inside the candidate's process (BigCodeBench unittest suites): a
  ``sys.addaudithook`` hook that, while armed, refuses frame introspection, the gc's object walks, trace/profile
  functions, ctypes and ``__code__`` assignment. See its docstring for what it cannot stop: it is a speed bump for
  introspection, not a boundary; the process boundary (verdict written by code the candidate cannot reach) is.

Uses only the standard library and ctypes.
"""
import ctypes
import os
import sys
import _thread

# prctl options and seccomp constants (linux/prctl.h, linux/seccomp.h, linux/filter.h, linux/audit.h).
PR_SET_DUMPABLE = 4
PR_GET_DUMPABLE = 3
PR_SET_SECCOMP = 22
PR_SET_NO_NEW_PRIVS = 38
SECCOMP_MODE_FILTER = 2
SECCOMP_RET_KILL_PROCESS = 0x80000000
SECCOMP_RET_ERRNO = 0x00050000
SECCOMP_RET_ALLOW = 0x7FFF0000
EPERM = 1
X32_SYSCALL_BIT = 0x40000000

BPF_LD_W_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
BPF_JEQ_K = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
BPF_JGE_K = 0x35  # BPF_JMP | BPF_JGE | BPF_K
BPF_RET_K = 0x06  # BPF_RET | BPF_K

# struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6] (little-endian: low word first).
OFF_NR = 0
OFF_ARCH = 4
OFF_ARG0_LOW = 16

# Per architecture: the audit arch value, whether x32 numbers must be refused, and the syscall numbers we need.
ARCHES = {
    "x86_64": {
        "audit": 0xC000003E,
        "x32": True,
        "nr": {
            "ptrace": 101,
            "prctl": 157,
            "perf_event_open": 298,
            "process_vm_readv": 310,
            "process_vm_writev": 311,
            "kcmp": 312,
            "pidfd_open": 434,
            "pidfd_getfd": 438,
            "process_madvise": 440,
            "kill": 62,
            "tkill": 200,
            "tgkill": 234,
            "rt_sigqueueinfo": 129,
            "rt_tgsigqueueinfo": 297,
            "pidfd_send_signal": 424,
        },
    },
    "aarch64": {
        "audit": 0xC00000B7,
        "x32": False,
        "nr": {
            "ptrace": 117,
            "prctl": 167,
            "perf_event_open": 241,
            "process_vm_readv": 270,
            "process_vm_writev": 271,
            "kcmp": 272,
            "pidfd_open": 434,
            "pidfd_getfd": 438,
            "process_madvise": 440,
            "kill": 129,
            "tkill": 130,
            "tgkill": 131,
            "rt_sigqueueinfo": 138,
            "rt_tgsigqueueinfo": 240,
            "pidfd_send_signal": 424,
        },
    },
}

# Signals whose first argument is the target (a pid, -pgid, or -1 for every process we may signal). pidfd_send_signal
# is refused outright: a /proc/<pid> directory descriptor is a pidfd for it.
SIGNAL_SYSCALLS = ("kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")
ARCH_ALIASES = {"amd64": "x86_64", "arm64": "aarch64"}

# Refused outright: every way one process reads, writes or borrows from another (ptrace, the process_vm_* copies, a
# pidfd and the descriptors it can take), compares their kernel objects (kcmp), advises or samples its memory.
DENIED_SYSCALLS = ("ptrace", "process_vm_readv", "process_vm_writev", "pidfd_open", "pidfd_getfd", "kcmp", "process_madvise", "perf_event_open", "pidfd_send_signal")


class Unsupported(OSError):
    """The lockdown cannot be built here (not Linux, or an architecture the filter does not know)."""


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


_libc = []


def _prctl():
    """libc's prctl with fixed argument types, loaded once (dlopen of the running program, so no library search)."""
    if not _libc:
        if not sys.platform.startswith("linux"):
            raise Unsupported("prctl and seccomp exist only on Linux (this is %s)" % sys.platform)
        fn = ctypes.CDLL(None, use_errno=True).prctl
        fn.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong)
        fn.restype = ctypes.c_int
        _libc.append(fn)
    return _libc[0]


def set_nondumpable():
    """PR_SET_DUMPABLE=0 for this process (and children it forks later): same-uid processes lose /proc/<pid>/mem,
    /proc/<pid>/environ, ptrace and pidfd_getfd on it. Raises OSError if the kernel refuses."""
    prctl = _prctl()
    if prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "prctl(PR_SET_DUMPABLE, 0): %s" % os.strerror(err))


def is_dumpable():
    return _prctl()(PR_GET_DUMPABLE, 0, 0, 0, 0) == 1


def machine():
    """The filter's architecture name for this interpreter (x86_64 or aarch64), or raises Unsupported."""
    # os.uname, not platform: platform is one more module in every forked child.
    m = os.uname().machine.lower()
    m = ARCH_ALIASES.get(m, m)
    if m not in ARCHES or ctypes.sizeof(ctypes.c_void_p) != 8 or sys.byteorder != "little":
        raise Unsupported("the seccomp filter supports 64-bit little-endian x86_64 and aarch64 only (this is %s, %d-bit, %s-endian)" % (os.uname().machine, ctypes.sizeof(ctypes.c_void_p) * 8, sys.byteorder))
    return m


def filter_program(arch, protected_targets=()):
    """The BPF program as (code, jt, jf, k) tuples; kept separate from the ctypes objects so tests can read it.
    protected_targets: signal targets refused to the job (the warm parent's pid, the comparer's, -their groups);
    -1 (every process the job may signal) is always refused."""
    spec = ARCHES[arch]
    nr = spec["nr"]
    # Straight-line code with symbolic jump targets, resolved below (BPF jumps are relative and forward only).
    prog = [
        ("ld", OFF_ARCH),
        ("jeq", spec["audit"], None, "kill"),
        ("ld", OFF_NR),
    ]
    if spec["x32"]:
        # x32 calls arrive with the x86_64 arch value and bit 30 set in the number; none of them is ours to allow.
        prog.append(("jge", X32_SYSCALL_BIT, "deny", None))
    for name in DENIED_SYSCALLS:
        prog.append(("jeq", nr[name], "deny", None))
    prog.append(("jeq", nr["prctl"], "prctl", None))
    for name in SIGNAL_SYSCALLS:
        prog.append(("jeq", nr[name], "signal", None))
    prog.append(("ret", SECCOMP_RET_ALLOW))
    # Signals: the target is a pid_t, so the low word of args[0] decides, as in the kernel.
    prog.append(("label", "signal"))
    prog.append(("ld", OFF_ARG0_LOW))
    for target in sorted({0xFFFFFFFF} | {t & 0xFFFFFFFF for t in protected_targets if t not in (0,)}):
        prog.append(("jeq", target, "deny", None))
    prog.append(("ret", SECCOMP_RET_ALLOW))
    # prctl: only PR_SET_DUMPABLE is refused, so a job cannot make its memory readable again (the option is an int,
    # so the low word of args[0] decides, as in the kernel).
    prog.append(("label", "prctl"))
    prog.append(("ld", OFF_ARG0_LOW))
    prog.append(("jeq", PR_SET_DUMPABLE, "deny", None))
    prog.append(("ret", SECCOMP_RET_ALLOW))
    prog.append(("label", "deny"))
    prog.append(("ret", SECCOMP_RET_ERRNO | EPERM))
    prog.append(("label", "kill"))
    prog.append(("ret", SECCOMP_RET_KILL_PROCESS))

    labels = {}
    pc = 0
    for ins in prog:
        if ins[0] == "label":
            labels[ins[1]] = pc
        else:
            pc += 1
    out = []
    pc = 0
    for ins in prog:
        op = ins[0]
        if op == "label":
            continue
        if op == "ld":
            out.append((BPF_LD_W_ABS, 0, 0, ins[1]))
        elif op == "ret":
            out.append((BPF_RET_K, 0, 0, ins[1]))
        else:
            # A None target falls through to the next instruction.
            jt = 0 if ins[2] is None else labels[ins[2]] - pc - 1
            jf = 0 if ins[3] is None else labels[ins[3]] - pc - 1
            if not (0 <= jt <= 255 and 0 <= jf <= 255):
                raise ValueError("BPF jump out of range")
            out.append((BPF_JEQ_K if op == "jeq" else BPF_JGE_K, jt, jf, ins[1]))
        pc += 1
    return out


class ChildFilter:
    """A seccomp program as ctypes objects, built once in the warm parent; forked children inherit it copy-on-write."""

    __slots__ = ("arch", "insns", "fprog", "address", "prctl", "denied")

    def __init__(self, arch, program, prctl):
        self.arch = arch
        self.insns = (_SockFilter * len(program))(*[_SockFilter(c, jt, jf, k) for c, jt, jf, k in program])
        self.fprog = _SockFprog(len(program), ctypes.cast(self.insns, ctypes.POINTER(_SockFilter)))
        # The address as a plain int, so installing passes integers only (no byref object made in the child).
        self.address = ctypes.addressof(self.fprog)
        self.prctl = prctl
        self.denied = DENIED_SYSCALLS + ("prctl(PR_SET_DUMPABLE)",)


def child_filter(protected_targets=()):
    """Builds the filter for this machine. Call once, in the warm parent. Raises Unsupported off Linux or on other arches."""
    arch = machine()
    return ChildFilter(arch, filter_program(arch, protected_targets), _prctl())


def install_child_filter(prog):
    """In a freshly forked child, before candidate code: no_new_privs, then the filter. No imports, two prctl calls;
    measured 0.4-1.2 ms in a fresh child on a 2-core VM, mostly copy-on-write faults of the first ctypes call and the
    kernel preparing the BPF program. Raises OSError (errno from the kernel) if either step is refused; the child
    must not run the job then."""
    prctl = prog.prctl
    if prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 or prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog.address, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "seccomp filter not installed: %s" % os.strerror(err))


# ---------------------------------------------------------------------------------------------------------------------
# In-process audit hook.


class Blocked(RuntimeError):
    """Raised by the armed audit hook. A RuntimeError, so sys.addaudithook silently refuses a second hook."""


class BlockedFrame(Blocked, AttributeError, ValueError):
    """sys._getframe refused. Also an AttributeError and a ValueError, as on interpreters without frames or with too
    short a stack: the standard library guards its _getframe calls with `except (AttributeError, ValueError)`
    (namedtuple, enum, typing) and the decorator package (scipy's copy too) with `except AttributeError`; those keep
    working without the frame."""


class BlockedAttribute(Blocked, AttributeError):
    """A frame attribute read refused; also an AttributeError, so getattr(tb, "tb_frame", None) degrades to None."""


# Audited on 3.11 (measured; see tests/sandbox.lockdown.test.ts): reads of traceback.tb_frame, generator.gi_frame,
# coroutine.cr_frame, async_generator.ag_frame raise object.__getattr__. So do frame.f_code, gi_code, cr_code, ag_code,
# function.__code__/__defaults__/__kwdefaults__, which are harmless and read by inspect.signature (scikit-learn), so
# they stay allowed. Not audited at all: frame.f_back/f_globals/f_locals, tb_next, function.__globals__/__closure__,
# cell_contents (read and write), object.__subclasses__(), signal.signal and the frame passed to signal handlers.
FRAME_ATTRIBUTES = frozenset(("tb_frame", "gi_frame", "cr_frame", "ag_frame"))

BLOCKED_EVENTS = frozenset(
    (
        "sys._current_frames",
        "sys._current_exceptions",
        "gc.get_objects",
        "gc.get_referrers",
        "gc.get_referents",
        "sys.settrace",
        "sys.setprofile",
        # A second hook would see the frame argument of every sys._getframe event, armed or not.
        "sys.addaudithook",
    )
)

# `compatible` mode keeps refusing what walks the whole heap or every thread, and allows what libraries use at run
# time: frames (patsy's formula namespaces, sympy's dispatch, matplotlib) and gc.get_referents (pandas' copy check).
COMPATIBLE_EVENTS = frozenset(("sys._current_frames", "sys._current_exceptions", "gc.get_objects", "gc.get_referrers", "sys.settrace", "sys.setprofile", "sys.addaudithook"))

# Loading these afresh while armed (they usually are loaded already: numpy imports ctypes; then their use is refused).
BLOCKED_IMPORTS = frozenset(("ctypes", "_ctypes"))


def install_audit_hook(protect=(), block_ctypes=True, block_frames=True):
    """Adds an audit hook to this process and returns (arm, disarm), closures that are the only way to its state.

    arm(): from now on every thread is refused the events below. disarm(): the calling thread is exempt again (other
    threads stay refused, so a job's background thread cannot use the window). Both return whether the hook was
    enforced for the caller before the call. Until the first arm() nothing is refused (the warm parent and the
    harness set up freely). Keep the two closures in local variables only. Install once per process and before the
    first arm(): while armed, sys.addaudithook is refused silently, so a second install would return inert closures.

    While armed, raises Blocked (a RuntimeError) on: sys._getframe (BlockedFrame, also an AttributeError and a ValueError),
    sys._current_frames, sys._current_exceptions, reads of tb_frame/gi_frame/cr_frame/ag_frame (BlockedAttribute, also an
    AttributeError), gc.get_objects/get_referrers/get_referents (except get_referents on pandas objects, which pandas
    calls), sys.settrace/sys.setprofile, sys.addaudithook, every ctypes.* event (dlopen, dlsym, cdata, addressof, string_at, get_errno, PyObj_FromPtr...), fresh imports of
    ctypes/_ctypes, and setting or deleting __code__ of a function defined in the standard library, in this
    directory (the sandbox runner) or under a path in `protect` (third-party packages rewrite their own functions' code
    while they load, so those stay allowed). os.pidfd_open raises no audit event on 3.11 (the
    seccomp filter refuses the system call instead).

    What it cannot stop (it is not a boundary; the verdict must not depend on in-process secrets alone):
    * a frame handed over by the interpreter without an event: the frame argument of a signal handler that the job
      installs with signal.signal (not audited) reaches every frame below it, and from there f_locals of the harness;
    * ctypes once _ctypes is loaded (numpy loads it; this module loads it): object.__subclasses__() finds its classes,
      and a c_char_p built from an int, a Union of c_void_p and a pointer, or ctypes.cast (3.11 raises no
      ctypes.call_function event) read and write any address without an event;
    * C extensions (numpy's as_strided or frombuffer on an address, cffi, a compiled module) and anything else that
      touches memory without the interpreter's audit calls;
    * finalizers (__del__, weakref callbacks) and signal handlers of the job that run in the exempt thread after
      disarm(), since they run inside whatever code the harness is executing;
    * library code that needs frames fails while armed: logging's findCaller, pandas' warnings (inspect.currentframe),
      unittest's assertRaises (traceback.clear_frames) unless frame_free_stdlib() has been applied; DataFrame.query/eval
      with local variables; matplotlib's warn_external; and, with block_ctypes (the default), every ctypes user, such
      as threadpoolctl under scikit-learn's KMeans. block_ctypes=False allows ctypes (see the second point above for
      how little refusing it buys once _ctypes is loaded).
    The hook itself cannot be removed, and it reads only its own closure cells, so patching this module, builtins or
    sys after install changes nothing it does.
    """
    get_ident = _thread.get_ident
    blocked_events = BLOCKED_EVENTS if block_frames else COMPATIBLE_EVENTS
    frame_attributes = FRAME_ATTRIBUTES if block_frames else frozenset()
    blocked_imports = BLOCKED_IMPORTS
    blocked, blocked_frame, blocked_attribute = Blocked, BlockedFrame, BlockedAttribute
    # Every builtin the hook uses is bound here: a job may replace builtins.len and the like, and the hook runs on
    # its behalf.
    as_str = str.__str__  # an exact str copy of a str subclass, without calling any of its methods
    str_type = str
    type_of = type
    len_of = len
    function_type = type(install_audit_hook)
    stdlib = os.path.dirname(os.__file__) + "/"
    # The standard library is not protected here: importing asyncio (types.coroutine) rewrites __code__ of its own
    # fresh functions. The harness instead checks that the code of unittest's methods is unchanged after the job.
    protected = (os.path.dirname(os.path.abspath(__file__)) + "/",) + tuple(p.rstrip("/") + "/" for p in protect if type(p) is str)
    unprotected = (stdlib + "site-packages/", stdlib + "dist-packages/")
    armed = False
    exempt = None
    # pandas' chained-assignment check calls gc.get_referents(frame) on its own DataFrames. The referents of a pandas
    # object are its instance dict and its type: nothing a program holding the object cannot already reach, so those
    # calls stay allowed. The class is taken at the first arm(), before any job code has run (see _pandas_ndframe).
    ndframe = None
    mro_of = type.__dict__["__mro__"].__get__  # the real MRO: a metaclass cannot answer for it
    none_type = type(None)
    tuple_type = tuple

    def only_pandas_objects(args):
        if ndframe is None or len_of(args) != 1 or type_of(args[0]) is not tuple_type or not args[0]:
            return False
        for obj in args[0]:
            cls = type_of(obj)
            if cls is none_type:
                continue
            for base in mro_of(cls):
                if base is ndframe:
                    break
            else:
                return False
        return True

    def hook(event, args):
        if not armed:
            return
        if exempt is not None and get_ident() == exempt:
            return
        if event in blocked_events:
            if event == "gc.get_referents" and only_pandas_objects(args):
                return
            raise blocked("blocked by the sandbox: " + event)
        if event == "sys._getframe" and block_frames:
            raise blocked_frame("blocked by the sandbox: sys._getframe")
        if event == "object.__getattr__":
            if len_of(args) > 1 and type_of(args[1]) is str_type and args[1] in frame_attributes:
                raise blocked_attribute("blocked by the sandbox: reading ." + args[1])
            return
        if event == "object.__setattr__" or event == "object.__delattr__":
            if len_of(args) < 2 or type_of(args[0]) is not function_type:
                return
            name = args[1]
            if type_of(name) is not str_type:
                name = as_str(name)
            if name == "__code__":
                # Only functions of the sandbox runner (and `protect`) are protected: those are what the harness calls
                # after the job, even through references it took earlier. numpy and asyncio rewrite the __code__ of
                # their own fresh functions while they are imported.
                path = args[0].__code__.co_filename
                if type_of(path) is not str_type or (path.startswith(protected) and not path.startswith(unprotected)):
                    raise blocked("blocked by the sandbox: changing __code__ of " + (path if type_of(path) is str_type else "?"))
            return
        if not block_ctypes:
            return
        if event.startswith("ctypes."):
            raise blocked("blocked by the sandbox: " + event)
        if event == "import" and args:
            name = args[0]
            if type_of(name) is not str_type:
                name = as_str(name)
            if name in blocked_imports or name.startswith("ctypes."):
                raise blocked("blocked by the sandbox: import " + name)

    def arm():
        nonlocal armed, exempt, ndframe
        before = armed and not (exempt is not None and exempt == get_ident())
        if not armed:
            ndframe = _pandas_ndframe()
        armed = True
        exempt = None
        return before

    def disarm():
        nonlocal exempt
        before = armed and not (exempt is not None and exempt == get_ident())
        exempt = get_ident()
        return before

    sys.addaudithook(hook)
    return arm, disarm


def _pandas_ndframe():
    """pandas' NDFrame if pandas is loaded from an installed package, else None."""
    mod = sys.modules.get("pandas.core.generic")
    cls = getattr(mod, "NDFrame", None) if mod is not None else None
    path = getattr(mod, "__file__", None)
    if not isinstance(cls, type) or type(path) is not str or not ("/site-packages/" in path or "/dist-packages/" in path):
        return None
    return cls


def frame_free_stdlib():
    """Makes the standard library's common frame readers work without frames, as on an interpreter that has none:
    inspect.currentframe and logging.currentframe return None (logging then records "(unknown file)", pandas' warning
    stack level becomes 0); traceback.clear_frames (unittest's assertRaises calls it) does nothing; and
    traceback.extract_stack/format_stack/print_stack/walk_stack with no frame given see one placeholder frame
    ("<frames hidden by the sandbox>"), which is what pyparsing (imported by matplotlib) needs.
    Imports inspect, logging and traceback. Call once, before arming; a job that undoes it only gets the real
    functions back, which the armed hook refuses."""
    import inspect
    import logging
    import traceback

    real_extract, real_format, real_print, real_walk = traceback.extract_stack, traceback.format_stack, traceback.print_stack, traceback.walk_stack
    summary = traceback.StackSummary

    def no_frame(*args, **kwargs):
        return None

    def placeholder(limit=None):
        # As many entries as asked for (at least two): pyparsing indexes [-2] of extract_stack(limit=2).
        n = 2 if limit is None or type(limit) is not int or limit < 2 else min(limit, 8)
        return summary.from_list([("<frames hidden by the sandbox>", 0, "<module>", "")] * n)

    def extract_stack(f=None, limit=None):
        return real_extract(f, limit) if f is not None else placeholder(limit)

    def format_stack(f=None, limit=None):
        return real_format(f, limit) if f is not None else placeholder(limit).format()

    def print_stack(f=None, limit=None, file=None):
        if f is not None:
            return real_print(f, limit, file)
        print("".join(placeholder(limit).format()), end="", file=file if file is not None else sys.stderr)

    def walk_stack(f):
        return real_walk(f) if f is not None else iter(())

    inspect.currentframe = no_frame
    logging.currentframe = no_frame
    # matplotlib walks frames to point its warnings at the caller; a fixed stack level does without them.
    mpl_api = sys.modules.get("matplotlib._api")
    if mpl_api is not None and hasattr(mpl_api, "warn_external"):
        import warnings

        def warn_external(message, category=None):
            warnings.warn(message, category, stacklevel=2)

        mpl_api.warn_external = warn_external
    traceback.clear_frames = no_frame
    traceback.extract_stack = extract_stack
    traceback.format_stack = format_stack
    traceback.print_stack = print_stack
    traceback.walk_stack = walk_stack


def make_exception_formatter(arm, disarm, hide_prefixes=()):
    """Returns format_exception(exc) -> str, a traceback like traceback.format_exception that runs none of the job's
    code while the hook is disarmed.

    Why not traceback.format_exc() after disarm(): it calls str() of the job's exceptions and notes, a metaclass's
    __qualname__/__module__, linecache entries and module __loader__.get_source that the job may have planted; any of
    them would run job code with frames allowed. Here every value the job controls (messages, notes, type names, the
    exception chain through BaseException's own descriptors) is read while armed; only then is the calling thread
    exempted to read the real traceback, frame and code objects (C attributes, never overridable), and source lines
    are read straight from regular files. The garbage collector is paused meanwhile, so no finalizer of the job runs
    in the exempt window. Frames whose file starts with one of hide_prefixes (e.g. unittest's directory) are left out.

    Call it from the harness with the closures of install_audit_hook(); create it before any job code runs."""
    import gc as gc_module
    import stat as stat_module

    gc_enable, gc_disable, gc_isenabled = gc_module.enable, gc_module.disable, gc_module.isenabled
    stat, s_isreg = os.stat, stat_module.S_ISREG
    open_binary = open
    base_exception = BaseException
    get_tb = BaseException.__dict__["__traceback__"].__get__
    get_cause = BaseException.__dict__["__cause__"].__get__
    get_context = BaseException.__dict__["__context__"].__get__
    get_suppress = BaseException.__dict__["__suppress_context__"].__get__
    type_qualname = type.__dict__["__qualname__"].__get__
    type_module = type.__dict__["__module__"].__get__
    tb_type = _traceback_type()
    # Builtins bound now: the job may have replaced builtins.OSError and the like by the time this runs.
    str_type, int_type, type_of, id_of, len_of = str, int, type, id, len
    is_instance, get_attr, dict_type, list_type, set_type = isinstance, getattr, dict, list, set
    os_error, value_error = OSError, ValueError
    prefixes = tuple(p for p in hide_prefixes if type(p) is str)
    max_chain = 16

    as_str = str.__str__

    def text(value):
        # Runs while armed: whatever the job's __str__ does is refused there. A str subclass is copied to a plain str,
        # so nothing later (formatting, joining) can call back into it.
        try:
            s = str_type(value)
            return s if type_of(s) is str_type else as_str(s)
        except BaseException:
            return "<exception str() failed>"

    def header(exc):
        cls = type_of(exc)
        try:
            name = text(type_qualname(cls))
            module = text(type_module(cls))
        except BaseException:
            name, module = "<unknown>", "builtins"
        line = name if module in ("builtins", "__main__") else module + "." + name
        message = text(exc)
        out = [line + (": " + message if message else "")]
        try:
            attrs = get_attr(exc, "__dict__", None)
            notes = attrs.get("__notes__") if type_of(attrs) is dict_type else None
        except BaseException:
            notes = None
        if type_of(notes) is list_type:
            for note in notes[:32]:
                out.append(text(note))
        return "\n".join(out)

    def collect(exc):
        """Armed: the chain, newest last, each as (header text, traceback object, link text to the next)."""
        chain = []
        seen = set_type()
        current = exc
        link = None
        while current is not None and len_of(chain) < max_chain and id_of(current) not in seen:
            if not is_instance(current, base_exception):
                break
            seen.add(id_of(current))
            try:
                tb = get_tb(current)
                cause = get_cause(current)
                context = get_context(current)
                suppress = get_suppress(current)
            except BaseException:
                break
            chain.append((header(current), tb if type_of(tb) is tb_type else None, link))
            if cause is not None:
                current, link = cause, "\nThe above exception was the direct cause of the following exception:\n\n"
            elif context is not None and not suppress:
                current, link = context, "\nDuring handling of the above exception, another exception occurred:\n\n"
            else:
                current = None
        chain.reverse()
        return chain

    def source_line(path, lineno, cache):
        if path not in cache:
            lines = None
            try:
                st = stat(path)
                if s_isreg(st.st_mode) and 0 < st.st_size <= (4 << 20):
                    with open_binary(path, "rb") as f:
                        lines = f.read().decode("utf-8", "replace").splitlines()
            except (os_error, value_error):
                lines = None
            cache[path] = lines
        lines = cache[path]
        if lines is None or not (1 <= lineno <= len_of(lines)):
            return None
        return lines[lineno - 1].strip()

    def frames(tb, cache):
        """Exempt: only C attributes of real traceback, frame and code objects."""
        out = []
        count = 0
        while tb is not None and type_of(tb) is tb_type and count < 200:
            count += 1
            code = tb.tb_frame.f_code
            path, name, lineno = code.co_filename, code.co_name, tb.tb_lineno
            tb = tb.tb_next
            if type_of(path) is not str_type or type_of(name) is not str_type or type_of(lineno) is not int_type:
                out.append('  File "<?>", line ?, in <?>')
                continue
            if prefixes and path.startswith(prefixes):
                continue
            out.append('  File "%s", line %d, in %s' % (path, lineno, name))
            if path.startswith("/"):
                line = source_line(path, lineno, cache)
                if line:
                    out.append("    " + line)
        return out

    def format_exception(exc):
        # Leaves the hook as it found it for the caller; note that a hook never armed before is armed for other
        # threads afterwards (the formatter is meant for use once the job has run).
        was = arm()
        chain = collect(exc)
        gc_was_enabled = gc_isenabled()
        gc_disable()
        disarm()
        try:
            parts = []
            cache = {}
            for head, tb, link in chain:
                body = frames(tb, cache) if tb is not None else []
                if body:
                    parts.append("Traceback (most recent call last):\n" + "\n".join(body) + "\n")
                parts.append(head + "\n")
                if link is not None:
                    parts.append(link)
        finally:
            if was:
                arm()
            if gc_was_enabled:
                gc_enable()
        return "".join(parts)

    return format_exception


def _traceback_type():
    try:
        raise ValueError
    except ValueError as e:
        return type(e.__traceback__)
