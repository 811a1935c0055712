"""Sandbox worker: the bookkeeping of each job. Runs as a thread of the sandbox's first process, beside the comparer.

It reads each job's header from fd 3, has the zygote (fr_zygote.py) fork the job's child, waits for the verdict while
it captures the child's output, has the zygote kill everything the job started, empties the job's files and answers on
fd 4. This process never forks for a job, so its work costs no copy-on-write faults (see fr_zygote.py).

Jobs judged outside (check, asserts, evalplus) hand the child's socket to the comparer (fr_comparer.py), which alone
decides the verdict; jobs judged inside (BigCodeBench unittest suites, and tasks whose tests need the program's objects)
report on a private pipe with a per-job nonce. After every job nothing of it is left: every process it started is
killed (the zygote is a child subreaper, so none can slip away), its directory, /tmp and /dev/shm are emptied, and the
next job gets a new directory named like a tempfile one.
"""
import json
import os
import select
import signal
import socket
import sys
import time

import fr_child
import fr_io

JOB_FD = 3
RESULT_FD = 4
IN_NAMESPACE = os.environ.get("FR_SANDBOX_PIDNS") == "1"
MAX_VERDICT_BYTES = 32 << 20


class ZygoteGone(Exception):
    """The zygote exited: this sandbox cannot run jobs any more; the host starts a new one."""


class Zygote:
    """The worker's side of the link to the zygote (fr_zygote.py): one request, one answer."""

    def __init__(self, sock):
        self.sock = sock

    def _ask(self, msg, fds=()):
        if fds:
            socket.send_fds(self.sock, [msg], list(fds))
        else:
            self.sock.sendall(msg)
        reply = self.sock.recv(1 << 16)
        if not reply:
            raise ZygoteGone("zygote exited")
        if reply[:1] == b"X":
            raise OSError("zygote: " + reply[1:].decode("utf-8", "replace"))
        return reply

    def ready(self):
        reply = self.sock.recv(1 << 16)
        if reply[:1] != b"R":
            raise ZygoteGone("zygote did not start: %r" % reply[:200])
        return json.loads(reply[1:])

    def fork(self, job, nonce, work, out_w, chan):
        """The job's child, forked by the zygote with these two descriptors (closed here once sent)."""
        try:
            reply = self._ask(b"F" + json.dumps({"job": job, "nonce": nonce, "work": work}).encode(), (out_w, chan))
        finally:
            os.close(out_w)
            os.close(chan)
        return int(reply[1:])

    def end(self, pid):
        """Kills the job's child and everything it started; (exit status or None, whether all are gone)."""
        status, clean = self._ask(b"E%d" % pid)[1:].split()
        status = int(status)
        return (None if status < 0 else status), clean == b"1"

    def end_all(self):
        """Kills whatever a job left running, when the worker's own bookkeeping failed mid-job."""
        return self._ask(b"K")[1:].split()[1] == b"1"

    def drain(self, n):
        self._ask(b"D%d" % n)


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


def run_inside(job, limits, work, zygote):
    """The tests run in the candidate's process (hardened: audit hook, helpers bound first); the verdict comes back on
    a private pipe with a per-job nonce."""
    nonce = os.urandom(16).hex()
    verdict_r, verdict_w = os.pipe()
    out_r, out_w = os.pipe()
    started = time.monotonic()
    pid = zygote.fork(job, nonce, work, out_w, verdict_w)
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
        self.lines = fr_io.LineBuffer()

    def hand_over(self, job_id, fd):
        socket.send_fds(self.sock, [b"%d\n" % job_id], [fd])

    def read_verdict(self, job_id):
        """Reads what is available; returns the verdict for job_id once its line is complete (other ids are stale)."""
        chunk = self.sock.recv(fr_io.READ_CHUNK)
        if not chunk:
            raise EOFError("comparer gone")
        self.lines.feed(chunk)
        while True:
            line = self.lines.pop()
            if line is None:
                return None
            msg = json.loads(line)
            if msg.get("id") == job_id:
                return msg.get("verdict")


def outside_backstop_s(job, limits):
    """How long the worker waits for the comparer: the job's limit plus room for EvalPlus's reference run."""
    extra = 600.0 if job.get("harness") == "evalplus" else 0.0
    return float(job.get("timeoutS", 3.0)) + float(limits.get("graceS", 1.0)) + 5.0 + extra


def run_outside(job, limits, work, comparer, zygote):
    """The candidate's process only answers calls; the comparer decides. The child gets the program, never the tests."""
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    out_r, out_w = os.pipe()
    started = time.monotonic()
    # The comparer gets its end first: its first message waits in the socket for the child.
    comparer.hand_over(int(job.get("id", 0)), a.fileno())
    a.close()
    pid = zygote.fork(job, None, work, out_w, b.detach())
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


def run_job(job, limits, comparer, zygote):
    started = time.monotonic()
    missing = missing_modules(job.get("requires"))
    if missing:
        zygote.drain(int(job.get("payloadBytes", 0)))
        verdict = {"status": "missing-dependency", "result": "missing dependency: " + ", ".join(missing), "missing": missing}
        return {"id": job.get("id"), "verdict": verdict, "killed": False, "output": "", "outputBytes": 0, "durationMs": (time.monotonic() - started) * 1000.0}
    work = fr_child.new_job_dir()
    outside = fr_child.judged_outside(job)
    try:
        if outside:
            pid, w, verdict, timed_out = run_outside(job, limits, work, comparer, zygote)
        else:
            pid, w, verdict, timed_out = run_inside(job, limits, work, zygote)
    except BaseException:
        try:
            zygote.end_all()
        finally:
            wipe_scratch(limits, work)
        raise
    status, clean = zygote.end(pid)
    w.drain()
    w.close()
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


def main(comparer_sock, zygote_sock, limits):
    """The worker thread. Ends the whole sandbox (os._exit) when the host closes fd 3 or a partner process is gone."""
    # Signals are the comparer's (the main thread's): this thread never takes the alarm.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    results = os.fdopen(RESULT_FD, "wb", buffering=0)
    zygote = Zygote(zygote_sock)
    try:
        info = zygote.ready()
    except (ZygoteGone, OSError, ValueError):
        os._exit(3)
    comparer = Comparer(comparer_sock)
    results.write((json.dumps({"ready": True, "pid": info.get("pid"), "preloaded": info.get("preloaded", []), "preloadMissing": info.get("preloadMissing", [])}) + "\n").encode())
    while True:
        # Each job: 8 hex digits, a header of that many bytes (routing and limits only), then the payload (program,
        # tests), which the job's child reads itself. Unbuffered reads, so not one payload byte lands here.
        size = fr_io.read_exactly(JOB_FD, 8)
        if len(size) < 8:
            os._exit(0)
        job = json.loads(fr_io.read_exactly(JOB_FD, int(size, 16)))
        try:
            answer = run_job(job, limits, comparer, zygote)
        except (EOFError, ZygoteGone) as e:
            # The comparer or the zygote is gone: this sandbox cannot judge any more; the host starts a new one.
            answer = {"id": job.get("id"), "verdict": None, "killed": False, "workerError": "%s" % (e,), "output": "", "outputBytes": 0, "durationMs": 0}
            results.write((json.dumps(answer) + "\n").encode())
            os._exit(3)
        except Exception as e:  # the worker must answer every job, even if its own bookkeeping failed
            answer = {"id": job.get("id"), "verdict": None, "killed": False, "workerError": repr(e), "output": "", "outputBytes": 0, "durationMs": 0}
        results.write((json.dumps(answer) + "\n").encode())
