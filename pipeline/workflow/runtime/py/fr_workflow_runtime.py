"""Runs one meta-agent workflow inside the sandbox. Its control flow is Python; every operator call is a JSON message
to the TypeScript host (fd 4), answered by id on fd 3, so concurrent calls (asyncio.gather) may be answered out of order.

Nothing here can reach a model or the network: the host owns the gateway, the executor and every limit.
"""
import asyncio
import json
import os
import sys
import traceback
import types

IN_FD = 3
OUT_FD = 4
# The host's cap on one protocol line (it sends its own value in the run definition); a longer line ends the run.
DEFAULT_MAX_LINE_BYTES = 8 * 1024 * 1024
# Error messages and tracebacks are feedback for a model, not logs: a few thousand characters say what went wrong.
TEXT_CAP = 4000


class OperatorError(Exception):
    """An operator call the host refused or could not complete; the workflow may catch it like any exception."""


class RunStopped(BaseException):
    """The host ended the run (a limit was reached); not catchable by `except Exception` in the workflow."""


class MessageTooLarge(ValueError):
    """A message would pass the host's line cap; raised before anything is written, so the channel stays usable."""


class Channel:
    def __init__(self, loop, max_line_bytes=DEFAULT_MAX_LINE_BYTES):
        self.loop = loop
        self.max_line_bytes = max_line_bytes
        self.next_id = 1
        self.waiting = {}
        self.out = os.fdopen(OUT_FD, "wb", buffering=0)
        self.inp = os.fdopen(IN_FD, "rb", buffering=0)
        self.buffer = b""
        loop.add_reader(IN_FD, self._readable)
        self.cost = {"total_cost": 0.0, "total_prompt_tokens": 0, "total_completion_tokens": 0}

    def send(self, message):
        data = json.dumps(message, default=str).encode("utf-8", "replace")
        if len(data) > self.max_line_bytes:
            raise MessageTooLarge("the message is %d bytes; the host reads at most %d per message" % (len(data), self.max_line_bytes))
        view = memoryview(data + b"\n")
        while view:  # a raw pipe write may take only part of a large message
            view = view[self.out.write(view) :]

    def _readable(self):
        chunk = os.read(IN_FD, 1 << 16)
        if not chunk:
            for fut in self.waiting.values():
                if not fut.done():
                    fut.set_exception(RunStopped("host closed the channel"))
            self.loop.remove_reader(IN_FD)
            return
        self.buffer += chunk
        while b"\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\n", 1)
            if line.strip():
                self._dispatch(json.loads(line))

    def _dispatch(self, msg):
        if isinstance(msg.get("cost"), dict):
            self.cost.update(msg["cost"])
        fut = self.waiting.pop(msg.get("id"), None)
        if fut is None or fut.done():
            return
        if msg.get("stop"):
            fut.set_exception(RunStopped(msg.get("error", "run stopped by the host")))
        elif msg.get("ok"):
            fut.set_result(msg.get("result"))
        else:
            fut.set_exception(OperatorError(msg.get("error", "operator failed")))

    async def call(self, op, args):
        call_id = self.next_id
        self.next_id += 1
        fut = self.loop.create_future()
        self.waiting[call_id] = fut
        try:
            self.send({"type": "call", "id": call_id, "op": op, "args": args})
        except MessageTooLarge as e:
            self.waiting.pop(call_id, None)
            raise OperatorError("%s: arguments too large (%s)" % (op, e)) from None
        return await fut


CHANNEL = None


class CostManager:
    """The cost bookkeeping shape graphs read (`self.llm.cost_manager.total_cost`); kept current by the host."""

    @property
    def total_cost(self):
        return CHANNEL.cost["total_cost"] if CHANNEL else 0.0

    @property
    def total_prompt_tokens(self):
        return CHANNEL.cost["total_prompt_tokens"] if CHANNEL else 0

    @property
    def total_completion_tokens(self):
        return CHANNEL.cost["total_completion_tokens"] if CHANNEL else 0

    def get_total_cost(self):
        return self.total_cost


class WorkerLLM:
    """Stands for the worker model; it holds no key and calls nothing itself."""

    def __init__(self, config=None):
        self.config = config
        self.cost_manager = CostManager()


def create_llm_instance(config=None):
    return WorkerLLM(config)


def make_operator_module(specs):
    """`operator.X(llm)` objects whose call sends X with named arguments (positional ones mapped by the interface)."""
    module = types.ModuleType("operator")

    def make(name, params):
        class Operator:
            def __init__(self, llm=None, name_=None, *args, **kwargs):
                self.llm = llm
                self.name = name_ or name

            async def __call__(self, *args, **kwargs):
                if len(args) > len(params):
                    raise TypeError("%s takes at most %d positional arguments (%s)" % (name, len(params), ", ".join(params)))
                for p, v in zip(params, args):
                    if p in kwargs:
                        raise TypeError("%s got two values for %s" % (name, p))
                    kwargs[p] = v
                unknown = [k for k in kwargs if k not in params]
                if unknown:
                    raise TypeError("%s got unexpected arguments: %s (it takes %s)" % (name, ", ".join(unknown), ", ".join(params)))
                missing = [p for p in params if p not in kwargs]
                if missing:
                    raise TypeError("%s is missing arguments: %s" % (name, ", ".join(missing)))
                return await CHANNEL.call(name, kwargs)

        Operator.__name__ = name
        Operator.__qualname__ = name
        return Operator

    for spec in specs:
        setattr(module, spec["name"], make(spec["name"], spec["params"]))
    return module


def build(init):
    prompt_module = types.ModuleType("prompt_custom")
    exec(compile(init["prompt"], "<prompt>", "exec"), prompt_module.__dict__)
    operator_module = make_operator_module(init["operators"])
    namespace = {
        "__name__": "workflow_graph",
        "operator": operator_module,
        "prompt_custom": prompt_module,
        "create_llm_instance": create_llm_instance,
        "CostManager": CostManager,
    }
    sys.modules["prompt_custom"] = prompt_module
    exec(compile(init["graph"], "<graph>", "exec"), namespace)
    cls = namespace.get("Workflow")
    if cls is None:
        raise NameError("the graph defines no class Workflow")
    try:
        return cls(name=init.get("name", "workflow"), llm_config={}, dataset=init.get("dataset", "code"))
    except TypeError:
        return cls("workflow", {}, init.get("dataset", "code"))


def graph_traceback(exc):
    """The traceback lines that point into the workflow's own code, for feedback."""
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    keep = [ln for ln in lines if "fr_workflow_runtime.py" not in ln]
    return "".join(keep)[-TEXT_CAP:]


def describe(exc):
    try:
        text = str(exc)
    except BaseException:  # the workflow's own exception class may break str(); the run must still report
        text = "<unprintable %s>" % type(exc).__name__
    return ("%s: %s" % (type(exc).__name__, text))[:TEXT_CAP]


async def main_async(init):
    global CHANNEL
    loop = asyncio.get_running_loop()
    CHANNEL = Channel(loop, int(init.get("limits", {}).get("maxLineBytes", DEFAULT_MAX_LINE_BYTES)))
    try:
        workflow = build(init)
    except BaseException as e:
        CHANNEL.send({"type": "error", "kind": "load-failed", "message": describe(e), "traceback": graph_traceback(e)})
        return
    try:
        out = await workflow(init["problem"], init["entryPoint"])
    except RunStopped as e:
        CHANNEL.send({"type": "error", "kind": "stopped", "message": str(e)[:TEXT_CAP], "traceback": ""})
        return
    except BaseException as e:
        CHANNEL.send({"type": "error", "kind": "workflow-raised", "message": describe(e), "traceback": graph_traceback(e)})
        return
    solution = out[0] if isinstance(out, tuple) and len(out) >= 1 else out
    if solution is None:
        CHANNEL.send({"type": "error", "kind": "no-solution", "message": "the workflow returned None", "traceback": ""})
    elif not isinstance(solution, str):
        CHANNEL.send({"type": "error", "kind": "bad-solution-type", "message": "the workflow returned %s, not a string" % type(solution).__name__, "traceback": ""})
    else:
        try:
            CHANNEL.send({"type": "done", "solution": solution})
        except MessageTooLarge as e:
            CHANNEL.send({"type": "error", "kind": "bad-solution-type", "message": "the solution is too large: %s" % e, "traceback": ""})


def main():
    # The first line on fd 3 is the run's definition; after it come only replies to operator calls.
    data = b""
    while b"\n" not in data:
        chunk = os.read(IN_FD, 1 << 20)
        if not chunk:
            return
        data += chunk
    first, rest = data.split(b"\n", 1)
    init = json.loads(first)
    limits = init.get("limits", {})
    try:
        import resource

        mem = int(limits.get("memoryMb", 0)) * 1024 * 1024
        if mem:
            resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        resource.setrlimit(resource.RLIMIT_NPROC, (int(limits.get("maxProcesses", 16)),) * 2)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ValueError, OSError):
        pass
    if rest.strip():
        raise RuntimeError("unexpected data after the run definition")
    # Candidate output goes nowhere the host reads as protocol.
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    asyncio.run(main_async(init))


if __name__ == "__main__":
    main()
