"""Child side of one sandbox job: isolate the process, set limits, run the harness, write the verdict on the private pipe."""
import json
import os
import resource
import signal
import sys

# Fixed, not tempfile.gettempdir(): importing tempfile pulls in random, whose at-fork reseed runs in every child.
JOB_ROOT = "/tmp/fr-jobs"


_work = []


def prepare_job_dir():
    """The worker's one job directory (jobs run one at a time), created once, with TMPDIR set to it before the guard.
    It is emptied after every job, so each job starts with an empty directory."""
    if not _work:
        d = "%s/%d" % (JOB_ROOT, os.getpid())
        os.makedirs(d, mode=0o700, exist_ok=True)
        os.environ["TMPDIR"] = d
        _work.append(d)
    return _work[0]


def remove_job_dir(d):
    """Empties the job directory (it usually is empty already: then this is one listdir)."""
    import fr_guard

    try:
        entries = os.listdir(d)
    except FileNotFoundError:
        os.makedirs(d, mode=0o700, exist_ok=True)
        return
    fr_guard.REAL["chmod"](d, 0o700)
    for name in entries:
        path = d + "/" + name
        if os.path.isdir(path) and not os.path.islink(path):
            _remove_tree(path, fr_guard.REAL)
        else:
            try:
                fr_guard.REAL["unlink"](path)
            except OSError:
                pass


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


class Plan:
    """What a child needs, computed in the parent before the fork (each write in the child costs a copied page)."""

    __slots__ = ("job", "memory", "cpu", "verdict_target", "pass_bytes", "nonce", "host_fds", "work")

    def __init__(self, job, limits, nonce, host_fds, work):
        self.job = job
        memory_mb = job.get("memoryMb", limits.get("memoryMb", 0))
        self.memory = memory_mb * 1024 * 1024 if memory_mb else 0
        # CPU seconds: above the wall limit, so wall time decides and CPU only stops runaway threads.
        self.cpu = int(float(job.get("timeoutS", 3)) * 2 + 2)
        # The verdict pipe moves to a random descriptor below 64 (where the table needs no growing).
        self.verdict_target = 20 + int.from_bytes(os.urandom(1), "little") % 40
        self.nonce = nonce
        self.pass_bytes = ('\n{"status": "pass", "result": "passed", "nonce": "%s"}\n' % nonce).encode()
        self.host_fds = host_fds
        self.work = work


def main(plan, verdict_fd, out_fd):
    """Runs in the child: its own process group, output captured, limits, then the harness; the verdict on a private pipe."""
    setrlimit = resource.setrlimit
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
    target = plan.verdict_target
    os.dup2(verdict_fd, target, inheritable=False)
    os.close(verdict_fd)
    # Captured before candidate code runs, so it cannot swap what writes the verdict.
    write = os.write
    import fr_guard
    import fr_harness

    fr_guard.REAL["chdir"](plan.work)
    if plan.memory:
        try:
            setrlimit(resource.RLIMIT_AS, (plan.memory, plan.memory))
            setrlimit(resource.RLIMIT_DATA, (plan.memory, plan.memory))
        except (ValueError, OSError):
            pass
    setrlimit(resource.RLIMIT_CPU, (plan.cpu, plan.cpu))
    try:
        payload = fr_harness.run(plan.job)
    except BaseException as e:  # the harness reports its own errors; this only catches its bugs
        payload = {"status": "fail", "result": "failed: harness error: %r" % (e,)}
    if payload.get("status") == "pass" and len(payload) == 2:
        data = plan.pass_bytes
    else:
        payload["nonce"] = plan.nonce
        # Framed by newlines: bytes that candidate code sprays into descriptors cannot merge with the real verdict.
        data = ("\n" + json.dumps(payload, default=repr) + "\n").encode("utf-8", "replace")
    view = memoryview(data)
    while view:
        view = view[write(target, view):]
    try:
        sys.stdout.flush()
    except Exception:
        pass
    os._exit(0)
