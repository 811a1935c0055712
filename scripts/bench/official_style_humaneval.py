"""Baseline for `npm run bench:exec`: judges HumanEval reference solutions with the same process model as the official
openai/human-eval harness (a thread pool of 4; per sample a multiprocessing Manager list and a forked Process that
runs the guarded exec under a 3 s alarm; join for timeout + 1 s, then kill). Written for this project, no sandbox.

Usage: python3 official_style_humaneval.py DATA_DIR [REPEATS]
       python3 official_style_humaneval.py DATA_DIR --samples FILE.jsonl   (human-eval samples; writes JSONL verdicts to stdout)
Prints `throughput: N samples/s` as its last line (first form).
"""
import concurrent.futures
import contextlib
import faulthandler
import gzip
import io
import json
import multiprocessing
import os
import platform
import signal
import sys
import tempfile
import time


class TimeoutException(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds):
    def handler(signum, frame):
        raise TimeoutException("Timed out!")

    signal.setitimer(signal.ITIMER_REAL, seconds)
    signal.signal(signal.SIGALRM, handler)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def guard():
    # The same kinds of things the official guard disables (no memory limit, as the official default).
    faulthandler.disable()
    import builtins
    import shutil
    import subprocess

    builtins.exit = None
    builtins.quit = None
    os.environ["OMP_NUM_THREADS"] = "1"
    for name in ("kill", "system", "putenv", "remove", "removedirs", "rmdir", "fchdir", "setuid", "fork", "forkpty",
                 "killpg", "rename", "renames", "truncate", "replace", "unlink", "fchmod", "fchown", "chmod", "chown",
                 "chroot", "lchown", "getcwd", "chdir"):
        if hasattr(os, name):
            setattr(os, name, None)
    shutil.rmtree = None
    shutil.move = None
    shutil.chown = None
    subprocess.Popen = None
    builtins.help = None
    for name in ("ipdb", "joblib", "resource", "psutil", "tkinter"):
        sys.modules[name] = None


class WriteOnlyStream(io.StringIO):
    """stdin/stdout stand-in that cannot be read, like the official swallow_io."""

    def read(self, *args, **kwargs):
        raise IOError

    def readline(self, *args, **kwargs):
        raise IOError

    def readlines(self, *args, **kwargs):
        raise IOError

    def readable(self, *args, **kwargs):
        return False


def unsafe_execute(program, timeout, result):
    with tempfile.TemporaryDirectory() as d:
        rmtree, rmdir, chdir = __import__("shutil").rmtree, os.rmdir, os.chdir
        os.chdir(d)
        guard()
        try:
            stream = WriteOnlyStream()
            old_stdin = sys.stdin
            sys.stdin = stream
            try:
                with contextlib.redirect_stdout(stream), contextlib.redirect_stderr(stream):
                    with time_limit(timeout):
                        exec(program, {})
            finally:
                sys.stdin = old_stdin
            result.append("passed")
        except TimeoutException:
            result.append("timed out")
        except BaseException as e:
            result.append("failed: %s" % e)
        import shutil

        shutil.rmtree, os.rmdir, os.chdir = rmtree, rmdir, chdir
        chdir("/")


def check(program, timeout=3.0):
    manager = multiprocessing.Manager()
    result = manager.list()
    p = multiprocessing.Process(target=unsafe_execute, args=(program, timeout, result))
    p.start()
    p.join(timeout=timeout + 1)
    if p.is_alive():
        p.kill()
    out = result[0] if result else "timed out"
    manager.shutdown()
    return out


def main():
    data_dir = sys.argv[1]
    with gzip.open(os.path.join(data_dir, "HumanEval.jsonl.gz"), "rt") as f:
        tasks = [json.loads(line) for line in f if line.strip()]
    if len(sys.argv) > 3 and sys.argv[2] == "--samples":
        by_id = {t["task_id"]: t for t in tasks}
        with open(sys.argv[3]) as f:
            samples = [json.loads(line) for line in f if line.strip()]
        programs = []
        for s in samples:
            t = by_id[s["task_id"]]
            programs.append(t["prompt"] + s["completion"] + "\n" + t["test"] + "\n" + "check(%s)" % t["entry_point"])
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(check, programs))
        for s, r in zip(samples, results):
            print(json.dumps({"task_id": s["task_id"], "result": r, "passed": r == "passed"}))
        return
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    programs = [t["prompt"] + t["canonical_solution"] + "\n" + t["test"] + "\n" + "check(%s)" % t["entry_point"] for t in tasks] * repeats
    started = time.time()
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(check, programs))
    elapsed = time.time() - started
    passed = sum(r == "passed" for r in results)
    print("python %s, %d samples, %d passed, %.1f s" % (platform.python_version(), len(results), passed, elapsed))
    print("throughput: %.1f samples/s" % (len(results) / elapsed))


if __name__ == "__main__":
    multiprocessing.set_start_method("fork")
    main()
