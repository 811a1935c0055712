"""Runs one program as a script (`python <file>.py` in a fresh directory), for the sandbox service's POST /run_code.

Started by the host under bubblewrap (as pid 1 of the sandbox's pid namespace) or as a plain process, already as the
unprivileged uid it must run as. Descriptors from the host: 0 the program's stdin, 1 and 2 its stdout and stderr
(the host captures and caps them), 3 the request (JSON: code, files, fetchFiles; read to EOF), 4 our reports (JSON
lines: {"started": true, "pid": N} once the program runs, then one final report). argv[1] holds the limits.

The wall-clock limit is enforced here and, as a backstop, by the host; a program that kills this process only ends its
own run (the host then reports what it saw). Nothing of the host's environment is visible: the host passes a fixed one.
"""
import base64
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time


def _report(fd, obj):
    os.write(fd, (json.dumps(obj) + "\n").encode("utf-8"))


def _read_all(fd):
    chunks = []
    while True:
        b = os.read(fd, 1 << 16)
        if not b:
            break
        chunks.append(b)
    os.close(fd)
    return b"".join(chunks)


def _inside(root, rel):
    """The absolute path of `rel` under `root`, or None when it would leave root (absolute, `..`, or a symlink out)."""
    if os.path.isabs(rel):
        return None
    p = os.path.realpath(os.path.join(root, rel))
    return p if p == root or p.startswith(root + os.sep) else None


def _write_files(root, files):
    for name, content in files.items():
        if not isinstance(content, str):
            continue  # SandboxFusion skips entries whose content is null
        p = _inside(root, name)
        if p is None:
            raise ValueError("file path %r leaves the working directory" % name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(base64.b64decode(content))


def _fetch_files(root, names, max_bytes):
    out = {}
    total = 0
    for name in names:
        p = _inside(root, name)
        if p is None or not os.path.isfile(p):
            continue  # as SandboxFusion: a file that is not there is left out of the answer
        try:
            fd = os.open(p, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue
        with os.fdopen(fd, "rb") as f:
            data = f.read(max_bytes - total + 1)
        total += len(data)
        if total > max_bytes:
            raise ValueError("fetched files exceed %d bytes" % max_bytes)
        out[name] = base64.b64encode(data).decode("ascii")
    return out


def _limits(lim):
    """Set in the program's process just before exec: the same kinds of limits as the executor's jobs."""

    def apply():
        mem = int(lim.get("memoryMb", 0))
        if mem > 0:
            b = mem * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (b, b))
            resource.setrlimit(resource.RLIMIT_DATA, (b, b))
        stack = int(lim.get("stackMb", 0))
        if stack > 0:
            resource.setrlimit(resource.RLIMIT_STACK, (stack * 1024 * 1024, stack * 1024 * 1024))
        fsize = int(lim.get("fileSizeMb", 64)) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
        cpu = int(float(lim.get("timeoutS", 10))) + 2
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        nproc = int(lim.get("maxProcesses", 64))
        if lim.get("limitProcesses"):
            resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))

    return apply


def _kill_rest(child_pgid, sweep_all):
    """Every process the program left behind. As pid 1 of the sandbox, or as a uid of our own, kill(-1) reaches exactly
    the program's processes; otherwise its process group is what we can name."""
    try:
        if sweep_all:
            os.kill(-1, signal.SIGKILL)
        else:
            os.killpg(child_pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if os.getpid() == 1:
        # pid 1 reaps everything orphaned in the namespace.
        try:
            while True:
                pid, _ = os.waitpid(-1, os.WNOHANG)
                if pid == 0:
                    break
        except ChildProcessError:
            pass


def _nondumpable():
    """The program runs as our uid: without this it could ptrace us and rewrite the report."""
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4


def main():
    lim = json.loads(sys.argv[1])
    _nondumpable()
    reports = 4
    request = json.loads(_read_all(3).decode("utf-8"))
    os.set_inheritable(reports, False)
    root = os.path.realpath(tempfile.mkdtemp(prefix="tmp", dir="/tmp"))
    try:
        try:
            _write_files(root, request.get("files") or {})
            fd, script = tempfile.mkstemp(suffix=".py", dir=root)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(request["code"])
        except (ValueError, OSError) as e:
            _report(reports, {"error": "cannot prepare the program's files: %s" % e})
            return
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": root, "TMPDIR": root, "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1"}
        timeout = float(lim.get("timeoutS", 10))
        started = time.monotonic()
        p = subprocess.Popen([sys.executable, script], cwd=root, env=env, stdin=0, stdout=1, stderr=2, close_fds=True, start_new_session=True, preexec_fn=_limits(lim))
        # The pid (its process group's id too) lets the host end the program even if it takes this process down first.
        _report(reports, {"started": True, "pid": p.pid})
        timed_out = False
        try:
            code = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            code = None
        elapsed = time.monotonic() - started
        _kill_rest(p.pid, os.getpid() == 1 or bool(lim.get("dedicatedUid")))
        if timed_out:
            p.wait()
        try:
            files = _fetch_files(root, request.get("fetchFiles") or [], int(lim.get("fetchBytes", 16 << 20)))
        except (ValueError, OSError) as e:
            _report(reports, {"error": str(e)})
            return
        _report(reports, {"timedOut": timed_out, "returnCode": code, "executionTime": elapsed, "files": files})
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
