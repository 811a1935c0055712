"""The four harnesses (human-eval check, MBPP asserts, EvalPlus OriginFmt, BigCodeBench unittest), run inside the child."""
import signal
import sys
import time

import fr_asserts_result
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
    """Work done in the job's child right after it read its payload, before its limits are set and before any job
    code runs (the warm parent never holds a job's code)."""
    if job.get("harness") == "check":
        source = job["program"] + "\n" + job.get("test", "") + "\n" + "check(" + job["entryPoint"] + ")"
        # Compiling runs no code; a syntax error is kept and raised later, where exec would have raised it, with the
        # same "<string>" file name.
        try:
            job["_code"] = compile(source, "<string>", "exec")
        except BaseException as e:  # SyntaxError, or the compiler's RecursionError/MemoryError on absurd input
            job["_compile_error"] = e


def _arm(seconds):
    signal.setitimer(signal.ITIMER_REAL, max(0.001, float(seconds)))


def _disarm():
    signal.setitimer(signal.ITIMER_REAL, 0)


_short = fr_asserts_result.short


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


def _inside_lock(block_ctypes, block_frames=True):
    """The audit hook (frames, gc, settrace, ctypes, __code__ refused while armed) and a traceback formatter that runs
    no job code. Returned as locals only: nothing a job can reach by name holds them."""
    try:
        import fr_lockdown
    except ImportError:
        return None, None, None
    if block_frames:
        fr_lockdown.frame_free_stdlib()
    arm, disarm = fr_lockdown.install_audit_hook(block_ctypes=block_ctypes, block_frames=block_frames)
    import unittest

    hide = (unittest.__file__.rsplit("/", 1)[0] + "/",)
    return arm, disarm, fr_lockdown.make_exception_formatter(arm, disarm, hide)


def _code_of(v):
    code = getattr(v, "__code__", None) if type(v).__name__ == "function" else None
    return code


def _snapshot(objs):
    """Identities of every attribute of the harness's classes and of builtins (and the code of their functions), taken
    before the program runs. Builtins may gain names (C extensions register some) but not lose or change any."""
    return [(o, dict(vars(o)), {k: _code_of(v) for k, v in vars(o).items()}, o is _BUILTINS) for o in objs]


import builtins as _BUILTINS  # noqa: E402


def _tampered(snap):
    """The first harness attribute the program replaced, added or removed (or whose code it swapped), or None."""
    for o, before, codes, may_grow in snap:
        now = vars(o)
        name = getattr(o, "__name__", "?")
        if not may_grow and now.keys() != before.keys():
            extra = sorted(set(now) ^ set(before))
            return "%s.%s" % (name, extra[0] if extra else "?")
        for k, v in before.items():
            if k not in now or now[k] is not v:
                return "%s.%s" % (name, k)
            if codes[k] is not None and _code_of(v) is not codes[k]:
                return "the code of %s.%s" % (name, k)
    return None


def run_check(job):
    """human-eval in the candidate's process (tasks judged inside): one exec under one alarm, hardened."""
    import builtins

    program = job.get("_code") or (job["program"] + "\n" + job.get("test", "") + "\n" + "check(" + job["entryPoint"] + ")")
    fr_guard.reliability_guard()
    arm, disarm, _ = _inside_lock(block_ctypes=True)
    snap = _snapshot([builtins])
    try:
        if "_compile_error" in job:
            raise job["_compile_error"]
        _arm(job.get("timeoutS", 3.0))
        if arm is not None:
            arm()
        try:
            exec(program, {})
        finally:
            if disarm is not None:
                disarm()
            _disarm()
    except TimeLimit:
        return {"status": "timeout", "result": "timed out"}
    except BaseException as e:
        return {"status": "fail", "result": "failed: " + _short(e)}
    changed = _tampered(snap)
    if changed is not None:
        return {"status": "fail", "result": "failed: the program replaced %s" % changed}
    return {"status": "pass", "result": "passed"}


def run_asserts(job):
    """MBPP in the candidate's process (tasks judged inside): program and setup, then each assert; hardened."""
    import builtins

    fast = bool(job.get("fastFail", False))
    tests = job.get("tests") or []
    outcomes = []
    ns = {}
    fr_guard.reliability_guard()
    arm, disarm, _ = _inside_lock(block_ctypes=True)
    snap = _snapshot([builtins])
    try:
        _arm(job.get("timeoutS", 3.0))
        if arm is not None:
            arm()
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
            if disarm is not None:
                disarm()
            _disarm()
    except TimeLimit:
        return fr_asserts_result.timed_out(outcomes, tests)
    except BaseException as e:
        return fr_asserts_result.program_failed(e, tests)
    changed = _tampered(snap)
    if changed is not None:
        return {"status": "fail", "result": "failed: the program replaced %s" % changed, "tests": outcomes}
    if len(outcomes) < len(tests) and not any(not o["passed"] for o in outcomes):
        return {"status": "fail", "result": "failed: not every test ran", "tests": outcomes}
    return fr_asserts_result.from_outcomes(outcomes)


def run_unittest(job):
    """BigCodeBench: program and tests as module __test__, TestCases run under the suite alarm. Hardened for a process
    that runs candidate code: harness helpers are bound before the exec, the audit hook refuses introspection while
    candidate code can run, the harness's classes and builtins must be unchanged afterwards, and a pass needs every
    collected test to have reported exactly one outcome."""
    import builtins
    import os
    import types
    import unittest

    fr_guard.bigcodebench_environment()
    # ctypes stays allowed: threadpoolctl (scikit-learn) needs it, and once _ctypes is loaded refusing it buys little.
    arm, disarm, fmt = _inside_lock(block_ctypes=False, block_frames=job.get("_audit", "strict") != "compatible")
    if fmt is None:
        import traceback

        def fmt(exc):
            return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))

    _import_ahead(job["program"] + "\n" + job.get("test", ""))
    module = types.ModuleType("__test__")
    ns = module.__dict__
    ns.update({"__builtins__": __builtins__, "__file__": "__test__.py", "__package__": None, "__doc__": None, "sys": sys, "os": os, "environ": os.environ})
    reported = {}  # test method name -> (outcome, text); a closure, not an attribute of anything the tests can reach
    TestResultBase, TestLoader, TestCaseBase = unittest.TestResult, unittest.TestLoader, unittest.TestCase

    def note(test, outcome, text=None):
        name = getattr(test, "_testMethodName", None)
        if type(name) is str:
            reported.setdefault(name, []).append((outcome, text))

    class Result(TestResultBase):
        # Formatted at once, while armed: the exception's own code then runs refused what it must not do.
        def addSuccess(self, test):
            note(test, "pass")

        def addFailure(self, test, err):
            note(test, "fail", fmt(err[1]))

        def addError(self, test, err):
            note(test, "error", fmt(err[1]))

        def addSkip(self, test, reason):
            note(test, "skip")

        def addExpectedFailure(self, test, err):
            note(test, "pass")

        def addUnexpectedSuccess(self, test):
            note(test, "pass")

        def addSubTest(self, test, subtest, err):
            if err is not None:
                note(test, "subfail", fmt(err[1]))

    import unittest.case
    import unittest.suite

    snap = _snapshot([builtins, unittest.TestCase, unittest.TestSuite, unittest.suite.BaseTestSuite, TestResultBase, TestLoader, unittest.case._Outcome, Result])
    details = {}
    outcomes = []
    names = []
    try:
        _arm(job.get("timeoutS", 240.0))
        try:
            code = compile(job["program"] + "\n" + job.get("test", ""), "__test__.py", "exec")
            if arm is not None:
                arm()
            try:
                exec(code, ns)
                sys.modules["__test__"] = module
                cases = ns.get("TestCases")
                if not (isinstance(cases, type) and issubclass(cases, TestCaseBase)):
                    raise NameError("TestCases is not defined")
                changed = _tampered(snap) or _foreign_suite(cases, TestCaseBase, job.get("test", ""))
                if changed is not None:
                    raise RuntimeError("the program replaced %s" % changed)
                suite = TestLoader().loadTestsFromTestCase(cases)
                # Names first: a suite drops each test object once it has run.
                names = [t._testMethodName for t in _iter_tests(suite)]
                result = Result()
                suite.run(result)
            finally:
                # Still armed: stopping tracked processes and closing figures call objects the program made.
                try:
                    fr_guard.stop_tracked()
                    fr_guard.close_figures()
                finally:
                    if disarm is not None:
                        disarm()
        finally:
            _disarm()
    except TimeLimit:
        return {"status": "timeout", "result": "timed out", "details": {"ALL": "timed out"}}
    except BaseException as e:
        return {"status": "fail", "result": "failed: " + _short(e), "details": {"ALL": _short(e)}}
    changed = _tampered(snap)
    if changed is not None:
        return {"status": "fail", "result": "failed: the program replaced %s" % changed, "details": {"ALL": "harness tampered: " + changed}}
    bad = False
    for name in names:
        got = reported.get(name, [])
        terminal = [o for o in got if o[0] != "subfail"]
        failures = [o for o in got if o[0] in ("fail", "error", "subfail")]
        if len(terminal) != 1:
            # Every collected test reports exactly once; a suite cut short (or reported twice) passes nothing.
            bad = True
            text = "the test did not report" if not terminal else "the test reported %d times" % len(terminal)
            outcomes.append({"name": name, "passed": False, "error": text})
            details[name] = text
        elif failures:
            bad = True
            tb = failures[0][1] or "failed"
            last = [ln for ln in tb.strip().splitlines() if ln.strip()]
            outcomes.append({"name": name, "passed": False, "error": last[-1] if last else "failed"})
            details[name] = tb
        else:
            outcomes.append({"name": name, "passed": True})
    if bad:
        first = next(o for o in outcomes if not o["passed"])
        return {"status": "fail", "result": "failed: " + first["error"], "tests": outcomes, "details": details}
    return {"status": "pass", "result": "passed", "tests": outcomes}


def _foreign_suite(cases, real_base, test_source):
    """What makes TestCases other than what the test file defines, or None: the program may not slip its own base
    class (a swapped unittest.TestCase, a fake unittest module) or a metaclass into the suite. The test file is
    trusted, so its class statements are the reference. (Its methods may be wrapped by decorators such as
    mock.patch, so they are not compared; with the bases and the metaclass fixed, nothing of the program's can
    change them after the class statement runs.)"""
    import ast

    if type(cases) is not type:
        return "the metaclass of TestCases"
    try:
        tree = ast.parse(test_source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    declared = None
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "TestCases":
            declared = node
    if declared is None:
        return "TestCases (not defined by the test file)"
    test_classes = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
    for klass in cases.__mro__[1:]:
        if klass in real_base.__mro__:
            continue
        if klass.__module__ == "__test__":
            if klass.__name__ not in test_classes:
                return "a base class of TestCases (%s)" % klass.__qualname__
            continue
        # A library's TestCase (pyfakefs): its methods must come from installed files, not from the program.
        for value in vars(klass).values():
            code = getattr(value, "__code__", None)
            path = getattr(code, "co_filename", "/") if code is not None else "/"
            if not (type(path) is str and path.startswith("/")):
                return "a base class of TestCases (%s.%s)" % (klass.__module__, klass.__qualname__)
    if real_base not in cases.__mro__:
        return "unittest.TestCase"
    return None


def _import_ahead(source):
    """Imports the modules the program and tests import at their top level, before the audit hook is armed: libraries
    read frames while they are imported (statsmodels, sympy, pyparsing), which the armed hook refuses. Only installed
    modules can be found here (the job's directory is still empty), so this runs library code, never the candidate's;
    the program then imports them again from sys.modules, as it would have."""
    import ast
    import importlib

    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return
    names = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
            names += [node.module + "." + a.name for a in node.names if a.name != "*"]
    for name in names:
        if name in sys.modules:
            continue
        try:
            importlib.import_module(name)
        except BaseException:  # not a module (an attribute), missing, or failing: the program's own import decides
            pass


def _iter_tests(suite):
    for t in suite:
        if hasattr(t, "_testMethodName"):
            yield t
        else:
            yield from _iter_tests(t)
