"""Child side of one sandbox job: isolate the process, set limits, run the harness, write the verdict on the private pipe."""
import fcntl
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


def apply_limits(job, limits):
    memory_mb = job.get("memoryMb", limits.get("memoryMb", 0))
    if memory_mb:
        _set_limit(resource.RLIMIT_AS, memory_mb * 1024 * 1024)
        _set_limit(resource.RLIMIT_DATA, memory_mb * 1024 * 1024)
    _set_limit(resource.RLIMIT_STACK, limits.get("stackMb", 0) * 1024 * 1024)
    # CPU seconds: a little above the wall limit, so wall time decides and CPU only stops spinning threads.
    _set_limit(resource.RLIMIT_CPU, int(float(job.get("timeoutS", 3)) * 2 + 2))
    _set_limit(resource.RLIMIT_FSIZE, limits.get("fileSizeMb", 64) * 1024 * 1024)
    _set_limit(resource.RLIMIT_NPROC, limits.get("maxProcesses", 64))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def private_fd(fd):
    """Move the verdict pipe to a random descriptor, away from the usual numbers code might poke at (below 64, where
    the descriptor table needs no growing)."""
    target = 20 + int.from_bytes(os.urandom(1), "little") % 40
    new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, target)
    os.close(fd)
    return new


def main(job, limits, verdict_fd, out_fd, nonce, host_fds=(), work=None):
    # Own process group, so the parent can kill everything this job starts.
    os.setsid()
    for fd in host_fds:
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
    verdict_fd = private_fd(verdict_fd)
    # Capture what the verdict needs before candidate code can replace anything.
    write = os.write
    dumps = json.dumps

    def send(payload):
        payload["nonce"] = nonce
        # Framed by newlines: bytes that candidate code sprays into descriptors cannot merge with the real verdict.
        data = ("\n" + dumps(payload, default=repr) + "\n").encode("utf-8", "replace")
        view = memoryview(data)
        while view:
            n = write(verdict_fd, view)
            view = view[n:]

    import fr_guard

    if work is None:
        work = prepare_job_dir()
    fr_guard.REAL["chdir"](work)
    apply_limits(job, limits)
    signal.signal(signal.SIGINT, signal.SIG_DFL)

    import fr_harness

    try:
        payload = fr_harness.run(job)
    except BaseException as e:  # the harness reports its own errors; this only catches its bugs
        payload = {"status": "fail", "result": "failed: harness error: %r" % (e,)}
    send(payload)
    sys.stdout.flush()
    os._exit(0)
