"""Child side of one sandbox job: isolate the process, set limits, run the harness, write the verdict on the private pipe."""
import json
import os
import resource
import signal
import sys

# Job directories are named as tempfile names them (tmp + 8 of [a-z0-9_]): tasks that parse temp paths see the usual
# shape. Not made with tempfile itself: importing it pulls in random, whose at-fork reseed would run in every child.
_NAME_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_"


def temp_root():
    d = os.environ.get("FR_TEMP_ROOT") or "/tmp"
    return d.rstrip("/") or "/tmp"


def new_job_dir():
    """A fresh, empty directory for one job (cwd, HOME and TMPDIR of its child)."""
    root = temp_root()
    for _ in range(100):
        name = "tmp" + "".join(_NAME_CHARS[b % len(_NAME_CHARS)] for b in os.urandom(8))
        path = root + "/" + name
        try:
            os.mkdir(path, 0o700)
            return path
        except FileExistsError:
            continue
    raise OSError("cannot create a job directory in %s" % root)


def remove_path(path):
    """rm -rf with the real os functions (the guard has nulled the module's), fixing permissions the job took away."""
    import fr_guard

    real = fr_guard.REAL
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            _remove_tree(path, real)
        else:
            real["unlink"](path)
    except OSError:
        pass


def judged_outside(job):
    """check/asserts jobs are judged by the comparer unless their task needs the program's objects; evalplus always."""
    kind = job.get("harness")
    if kind == "evalplus":
        return True
    return kind in ("check", "asserts") and job.get("judge", "outside") != "inside"


def _remove_tree(path, real):
    """rm -rf with the real os functions (the guard has nulled the module's), fixing permissions the job took away."""
    try:
        real["chmod"](path, 0o700)
    except OSError:
        pass
    try:
        entries = list(os.scandir(path))
    except OSError:
        entries = []
    for e in entries:
        try:
            if e.is_dir(follow_symlinks=False):
                _remove_tree(e.path, real)
            else:
                real["unlink"](e.path)
        except OSError:
            pass
    try:
        real["rmdir"](path)
    except OSError:
        pass


def _set_limit(which, value):
    if value is None or value <= 0:
        return
    try:
        soft, hard = resource.getrlimit(which)
        value = int(value)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value))
    except (ValueError, OSError):
        pass


def apply_worker_limits(limits):
    """Limits that are the same for every job are set once in the warm parent and inherited by each child."""
    _set_limit(resource.RLIMIT_STACK, limits.get("stackMb", 0) * 1024 * 1024)
    _set_limit(resource.RLIMIT_FSIZE, limits.get("fileSizeMb", 64) * 1024 * 1024)
    _set_limit(resource.RLIMIT_NPROC, limits.get("maxProcesses", 64))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    signal.signal(signal.SIGINT, signal.SIG_DFL)


_lock = {}


def prepare_lockdown():
    """Done once in the warm parent: the seccomp program and prctl are built here, so a child only installs them."""
    try:
        import fr_lockdown
    except ImportError:
        fr_lockdown = None
    if fr_lockdown is not None:
        _lock["filter"] = fr_lockdown.child_filter()
        _lock["install"] = fr_lockdown.install_child_filter
        _lock["prctl"] = fr_lockdown._prctl()


def _lock_child():
    """In the child, before candidate code: its descendants and it can never ptrace, read or write other processes'
    memory, or take their descriptors (the warm parent and the comparer are non-dumpable too)."""
    install = _lock.get("install")
    if install is not None:
        # The job itself is dumpable again (its own /proc/self/environ and the like work as usual); the filter then
        # stops it from changing that, and the worker and comparer above it stay non-dumpable.
        _lock["prctl"](4, 1, 0, 0, 0)  # PR_SET_DUMPABLE
        install(_lock["filter"])


class Plan:
    """What a child needs, computed in the parent before the fork (each write in the child costs a copied page)."""

    __slots__ = ("job", "memory", "cpu", "verdict_target", "pass_bytes", "nonce", "host_fds", "work")

    def __init__(self, job, limits, nonce, host_fds, work):
        self.job = job
        if limits.get("inProcessAudit"):
            job["_audit"] = limits["inProcessAudit"]
        memory_mb = job.get("memoryMb", limits.get("memoryMb", 0))
        self.memory = memory_mb * 1024 * 1024 if memory_mb else 0
        # CPU seconds: above the wall limit, so wall time decides and CPU only stops runaway threads.
        self.cpu = int(float(job.get("timeoutS", 3)) * 2 + 2)
        # The verdict pipe moves to a random descriptor below 64 (where the table needs no growing).
        self.verdict_target = 20 + int.from_bytes(os.urandom(1), "little") % 40
        self.nonce = nonce
        self.pass_bytes = ('\n{"status": "pass", "result": "passed", "nonce": "%s"}\n' % nonce).encode() if nonce else b""
        self.host_fds = host_fds
        self.work = work


def _enter(plan, out_fd):
    """Common child setup: own session, no host descriptors, output captured, fresh cwd/HOME/TMPDIR, limits, lockdown."""
    os.setsid()
    for fd in plan.host_fds:
        try:
            os.close(fd)
        except OSError:
            pass
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(out_fd, 1)
    os.dup2(out_fd, 2)
    os.close(out_fd)
    import fr_guard

    fr_guard.REAL["chdir"](plan.work)
    # The guard nulled os.putenv, which os.environ uses; put it back for these two and null it again.
    os.putenv = fr_guard.REAL["putenv"]
    try:
        os.environ["HOME"] = plan.work
        os.environ["TMPDIR"] = plan.work
    finally:
        os.putenv = None if fr_guard.is_guarded() else os.putenv
    if plan.memory:
        try:
            resource.setrlimit(resource.RLIMIT_AS, (plan.memory, plan.memory))
            resource.setrlimit(resource.RLIMIT_DATA, (plan.memory, plan.memory))
        except (ValueError, OSError):
            pass
    resource.setrlimit(resource.RLIMIT_CPU, (plan.cpu, plan.cpu))
    _lock_child()


def serve_main(plan, sock_fd, out_fd):
    """Child of an outside-judged job: load the program and answer the comparer's calls (fr_serve.py)."""
    _enter(plan, out_fd)
    import fr_serve

    job = plan.job
    source = job["program"]
    if job.get("harness") == "asserts" and job.get("setup"):
        source = source + "\n" + job["setup"]
    try:
        fr_serve.serve(sock_fd, source, job.get("harness") == "evalplus")
    except BaseException as e:
        if os.environ.get("FR_DEBUG"):
            import traceback

            traceback.print_exc()
    try:
        sys.stdout.flush()
    except Exception:
        pass
    os._exit(0)


def main(plan, verdict_fd, out_fd):
    """Child of an inside-judged job: the harness runs the tests here; the verdict goes out on a private pipe."""
    target = plan.verdict_target
    os.dup2(verdict_fd, target, inheritable=False)
    os.close(verdict_fd)
    _enter(plan, out_fd)
    import fr_harness

    # Bound before candidate code runs: what writes the verdict cannot be swapped (fr_harness.run captures the rest).
    write = os.write
    pass_bytes = plan.pass_bytes
    nonce = plan.nonce
    plan.pass_bytes = plan.nonce = None
    encode = fr_harness.make_verdict_encoder()
    try:
        payload = fr_harness.run(plan.job)
    except BaseException as e:  # the harness reports its own errors; this only catches its bugs
        payload = {"status": "fail", "result": "failed: harness error: %s" % type(e).__name__}
    if type(payload) is dict and payload.get("status") == "pass" and len(payload) == 2:
        data = pass_bytes
    else:
        if type(payload) is not dict:
            payload = {"status": "fail", "result": "failed: harness error"}
        payload["nonce"] = nonce
        # Framed by newlines: bytes that candidate code sprays into descriptors cannot merge with the real verdict.
        data = ("\n" + encode(payload) + "\n").encode("utf-8", "replace")
    view = memoryview(data)
    while view:
        view = view[write(target, view):]
    os._exit(0)
