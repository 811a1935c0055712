"""The MBPP-style verdict from per-assert outcomes, shared by the comparer and the in-process harness."""


def short(e):
    """str(e), as the official harnesses report it; repr(e) when str() itself fails."""
    try:
        return str(e)
    except Exception:
        return repr(e)


def timed_out(outcomes, tests):
    """The time ran out: every assert not yet judged is `timed out`."""
    done = {o["name"] for o in outcomes}
    outcomes = outcomes + [{"name": t["name"], "passed": False, "error": "timed out"} for t in tests if t["name"] not in done]
    return {"status": "timeout", "result": "timed out", "tests": outcomes}


def program_failed(e, tests):
    """The program (or setup) itself raised: no assert could run."""
    err = short(e)
    outcomes = [{"name": t["name"], "passed": False, "error": "%s: %s" % (type(e).__name__, err)} for t in tests]
    return {"status": "fail", "result": "failed: " + err, "tests": outcomes}


def from_outcomes(outcomes):
    """Pass when every assert passed; else the official wording: str(e) of the first failing assert (empty for a
    bare assert)."""
    failed = [o for o in outcomes if not o["passed"]]
    if failed:
        first = failed[0]["error"]
        text = first.split(": ", 1)[1] if ": " in first else ""
        return {"status": "fail", "result": "failed: " + text, "tests": outcomes}
    return {"status": "pass", "result": "passed", "tests": outcomes}
