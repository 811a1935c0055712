"""Child side of one sandbox job: isolate the process, set limits, run the harness, write the verdict on the private pipe."""
import os
import resource
import signal
import sys

import fr_io

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
    """rm -rf that no job can defeat: by directory descriptors (no path length limit, so trees deeper than PATH_MAX
    go too), iterative (no recursion limit), giving every directory back its permissions before entering it (a job
    may leave them mode 000), never following a symlink. Uses the real os functions (the guard nulled the module's)."""
    import fr_guard
    import stat as st

    real = fr_guard.REAL
    parent, name = os.path.split(path.rstrip("/"))
    try:
        info = os.lstat(path)
    except OSError:
        return
    if not st.S_ISDIR(info.st_mode):
        try:
            real["unlink"](path)
        except OSError:
            pass
        return
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
    try:
        top = os.open(parent or "/", flags)
    except OSError:
        return
    # A stack of (dir fd of the parent, entry name); each directory is emptied, then removed from its parent.
    stack = [(top, name, None)]
    try:
        while stack:
            pfd, entry, fd = stack[-1]
            if fd is None:
                try:
                    real["chmod"](entry, 0o700, dir_fd=pfd)
                except (OSError, NotImplementedError, TypeError):
                    pass
                try:
                    fd = os.open(entry, flags, dir_fd=pfd)
                except OSError:
                    stack.pop()
                    continue
                stack[-1] = (pfd, entry, fd)
            pushed = False
            try:
                names = os.listdir(fd)
            except OSError:
                names = []
            for child in names:
                try:
                    cinfo = os.stat(child, dir_fd=fd, follow_symlinks=False)
                except OSError:
                    continue
                if st.S_ISDIR(cinfo.st_mode):
                    stack.append((fd, child, None))
                    pushed = True
                    break
                try:
                    real["unlink"](child, dir_fd=fd)
                except (OSError, TypeError):
                    pass
            if pushed:
                continue
            os.close(fd)
            stack.pop()
            try:
                real["rmdir"](entry, dir_fd=pfd)
            except (OSError, TypeError):
                pass
    finally:
        for pfd, _, fd in stack:
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        os.close(top)


def judged_outside(job):
    """check/asserts jobs are judged by the comparer unless their task needs the program's objects; evalplus always."""
    kind = job.get("harness")
    if kind == "evalplus":
        return True
    return kind in ("check", "asserts") and job.get("judge", "outside") != "inside"


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
        # No job may signal the warm parent (the zygote) or the sandbox's first process (worker and comparer):
        # stopping them would stall every later job. Nor their process groups, nor every process at once.
        me, parent = os.getpid(), os.getppid()
        targets = {me, parent, -me, -parent}
        for pid in (me, parent):
            try:
                targets.add(-os.getpgid(pid))
            except OSError:
                pass
        _lock["filter"] = fr_lockdown.child_filter(sorted(targets))
        _lock["install"] = fr_lockdown.install_child_filter
        _lock["prctl"] = fr_lockdown._prctl()


def _lock_child():
    """In the child, before candidate code: its descendants and it can never ptrace, read or write other processes'
    memory, or take their descriptors (the warm parent and the comparer are non-dumpable too)."""
    install = _lock.get("install")
    if install is not None:
        # The job stays non-dumpable like its parents (and the filter stops it from changing that): unprivileged, it
        # cannot open even its own /proc/self/mem, so what memory it inherited from the warm parent stays unread.
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


def take_payload(plan, job_fd):
    """The child reads its job's program (and, for jobs judged inside, its tests) straight from the host's pipe, so
    the warm parent never holds any job's code: no later child can find an earlier job's program in memory it
    inherited. Returns the full job."""
    import json

    header = plan.job
    payload = fr_io.read_exactly(job_fd, int(header.get("payloadBytes", 0)))
    job = json.loads(payload)
    if header.get("_audit"):
        job["_audit"] = header["_audit"]
    plan.job = job
    return job


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
    # A short-lived process: the cyclic collector's young generations would walk objects on pages it then copies
    # (each write after the fork costs a copied page). A high threshold keeps it for programs that make cyclic garbage
    # by the million, and out of the way of everything else.
    import gc

    gc.set_threshold(100_000, 50, 100)
    # No payload: the program comes from the comparer with the first message (fr_comparer.program_message).
    _enter(plan, out_fd)
    import fr_serve

    try:
        fr_serve.serve(sock_fd, plan.job.get("harness") == "evalplus")
    except BaseException:
        if os.environ.get("FR_DEBUG"):
            import traceback

            traceback.print_exc()
    try:
        sys.stdout.flush()
    except Exception:
        pass
    os._exit(0)


def main(plan, verdict_fd, out_fd, job_fd):
    """Child of an inside-judged job: the harness runs the tests here; the verdict goes out on a private pipe."""
    take_payload(plan, job_fd)
    import fr_harness

    fr_harness.prepare(plan.job)
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
