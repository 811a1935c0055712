"""code analysis service: reads workflow graphs, prompt modules and worker replies with Python's own ast, answering JSON lines.

Protocol: one JSON request per line on stdin ({"id", "op", ...}), one JSON answer per line on stdout
({"id", "ok": true, "result"} or {"id", "ok": false, "error": {"code", "message"}}). The first line written is
{"ready": true}. Requests run on a small thread pool, so answers may come back in another order than the requests.

Nothing read here is ever executed: ast.parse only parses. The input is still untrusted, so every text is capped in
size, the address space is capped with RLIMIT_AS, and RecursionError / MemoryError from hostile nesting become typed
answers instead of a dead process. The host runs this file under bubblewrap when it can. Standard library only.
"""
import ast
import importlib
import importlib.util
import json
import os
import re
import string
import sys
import textwrap
import threading
import time
import types
import warnings
from concurrent.futures import ThreadPoolExecutor

# Per-text cap; the host checks it too, this is the second line of defence.
DEFAULT_MAX_INPUT = 2 << 20
# A request line carries up to three capped texts, JSON-escaped (worst case 6 bytes per character).
MAX_LINE_SLACK = 6 * 3

# Expression and statement kinds that are not interesting as "nodes" of a program: contexts and operator kinds are
# shared leaf singletons, so counting them only inflates the node count without saying anything about structure.
LEAF_KINDS = (ast.expr_context, ast.boolop, ast.operator, ast.unaryop, ast.cmpop)

CONTROL_KINDS = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.Try, ast.With, ast.AsyncWith, ast.Match)
if hasattr(ast, "TryStar"):
    CONTROL_KINDS = CONTROL_KINDS + (ast.TryStar,)
COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
FUNCTION_KINDS = (ast.FunctionDef, ast.AsyncFunctionDef)
SCOPE_KINDS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef) + COMPREHENSIONS

LABEL_MAX = 48


class InputTooLarge(Exception):
    pass


class BadRequest(Exception):
    pass


# ---------------------------------------------------------------------------------------------------------------------
# Shared helpers


def normalize_newlines(src):
    # The host normalises too; Python's tokenizer treats a lone \r as a line break, so do the same before counting lines.
    return src.replace("\r\n", "\n").replace("\r", "\n")


def parse_module(src):
    """(tree, None) or (None, {message, line, col}); hostile nesting becomes an error, never a crash."""
    try:
        return ast.parse(src), None
    except SyntaxError as e:
        return None, {"message": e.msg or "invalid syntax", "line": e.lineno or None, "col": e.offset or None}
    except (RecursionError, MemoryError) as e:
        # CPython's own guards raise these for deep nesting (e.g. 100k chained operators); the text is not usable.
        return None, {"message": "too deeply nested or too large to parse (%s)" % type(e).__name__, "line": None, "col": None}
    except ValueError as e:
        # 3.11 reports NUL bytes as ValueError rather than SyntaxError.
        line = src[: src.find("\0")].count("\n") + 1 if "\0" in src else None
        return None, {"message": str(e), "line": line, "col": None}


class Source:
    """Line table for one module: converts ast's UTF-8 byte columns into 1-based character columns."""

    def __init__(self, src):
        self.src = src
        self.lines = src.split("\n")

    def line(self, lineno):
        if lineno is None or lineno < 1 or lineno > len(self.lines):
            return ""
        return self.lines[lineno - 1]

    def col(self, node):
        text = self.line(getattr(node, "lineno", None))
        offset = getattr(node, "col_offset", 0) or 0
        if text.isascii():
            return offset + 1
        return len(text.encode("utf-8")[:offset].decode("utf-8", "replace")) + 1

    def pos(self, node):
        return {"line": node.lineno, "col": self.col(node)}

    def segment(self, node):
        first = node.lineno
        decorators = getattr(node, "decorator_list", None)
        if decorators:
            first = min(first, min(d.lineno for d in decorators))
        return "\n".join(self.lines[first - 1 : node.end_lineno])


def label(node, limit=LABEL_MAX):
    try:
        text = ast.unparse(node)
    except (RecursionError, ValueError, AttributeError):
        text = type(node).__name__
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def walk_own(root):
    """Nodes of one function body, without descending into nested def/class bodies (they are walked on their own)."""
    stack = list(ast.iter_child_nodes(root))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        stack.extend(ast.iter_child_nodes(node))


def is_name(node, name=None):
    return isinstance(node, ast.Name) and (name is None or node.id == name)


# ---------------------------------------------------------------------------------------------------------------------
# Scopes: which loaded names are free (builtins or names the runtime provides) rather than bound by the graph itself


def scope_body(scope):
    """The nodes evaluated inside a scope (its own body, not the parts its definition evaluates outside)."""
    if isinstance(scope, ast.Lambda):
        return [scope.body]
    if isinstance(scope, COMPREHENSIONS):
        nodes = [scope.key, scope.value] if isinstance(scope, ast.DictComp) else [scope.elt]
        for i, gen in enumerate(scope.generators):
            nodes.append(gen.target)
            nodes.extend(gen.ifs)
            if i > 0:
                nodes.append(gen.iter)
        return nodes
    return list(scope.body)


def outer_parts(node):
    """Parts of a nested scope's definition that the enclosing scope evaluates (decorators, defaults, bases...)."""
    parts = []
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        a = node.args
        parts.extend(a.defaults + [d for d in a.kw_defaults if d is not None])
        if not isinstance(node, ast.Lambda):
            for arg in a.posonlyargs + a.args + a.kwonlyargs + [x for x in (a.vararg, a.kwarg) if x is not None]:
                if arg.annotation is not None:
                    parts.append(arg.annotation)
            if node.returns is not None:
                parts.append(node.returns)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        parts.extend(node.decorator_list)
    if isinstance(node, ast.ClassDef):
        parts.extend(node.bases + [k.value for k in node.keywords])
    if isinstance(node, COMPREHENSIONS):
        parts.append(node.generators[0].iter)
    return parts


def bound_in(scope):
    """Names bound directly in one scope (not in nested scopes), roughly as Python's symbol table sees them."""
    names = set()
    if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        a = scope.args
        for arg in a.posonlyargs + a.args + a.kwonlyargs + [x for x in (a.vararg, a.kwarg) if x is not None]:
            names.add(arg.arg)
    stack = scope_body(scope)
    while stack:
        node = stack.pop()
        if isinstance(node, SCOPE_KINDS):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            stack.extend(outer_parts(node))
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, ast.NamedExpr) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name != "*":
                    names.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            names.update(node.names)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            names.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            names.add(node.rest)
        stack.extend(ast.iter_child_nodes(node))
    return names


def free_name_loads(tree):
    """Every Name load that no visible scope binds: a builtin, or a name the runtime provides (operator, ...)."""
    out = []
    module = (bound_in(tree),)
    # (scope, chain its own body sees, chain that scopes nested in it see): methods do not see class-level names.
    stack = [(tree, module, module)]
    while stack:
        scope, chain, nested_chain = stack.pop()
        todo = scope_body(scope)
        while todo:
            node = todo.pop()
            if isinstance(node, SCOPE_KINDS):
                todo.extend(outer_parts(node))
                own = bound_in(node)
                if isinstance(node, ast.ClassDef):
                    stack.append((node, nested_chain + (own,), nested_chain))
                else:
                    stack.append((node, nested_chain + (own,), nested_chain + (own,)))
                continue
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and not any(node.id in s for s in chain):
                out.append(node)
            todo.extend(ast.iter_child_nodes(node))
    return out


# ---------------------------------------------------------------------------------------------------------------------
# Module objects reachable through allowed modules (json.decoder, contextlib.os, enum.bltns, ...)

_ALLOWED_MODULES = {}
_MODULE_ATTRS = {}
_MODULE_LOCK = threading.Lock()


def allowed_module(name, allowed):
    """The module `name`, imported here only when the host's allow-list names it exactly; else None.

    The allow-list is the host's configuration (trusted standard-library names), so importing its modules runs no code
    the graph chose; a name the graph made up is never imported.
    """
    if name not in allowed:
        return None
    with _MODULE_LOCK:
        if name not in _ALLOWED_MODULES:
            try:
                _ALLOWED_MODULES[name] = importlib.import_module(name)
            except Exception:
                _ALLOWED_MODULES[name] = None
        return _ALLOWED_MODULES[name]


def child_module(mod, attr):
    """(True, the module or None when not loaded) when `mod.attr` is a module object, else (False, None)."""
    key = (id(mod), attr)  # modules live in sys.modules (and in _ALLOWED_MODULES), so their ids stay theirs
    with _MODULE_LOCK:
        if key in _MODULE_ATTRS:
            return _MODULE_ATTRS[key]
    # The module's dict, not getattr: a module-level __getattr__ would run code for a name the graph chose.
    value = mod.__dict__.get(attr)
    found = (True, value) if isinstance(value, types.ModuleType) else (False, None)
    if not found[0] and hasattr(mod, "__path__") and attr.isidentifier():
        # A submodule nobody imported yet is still an attribute once anything imports it; find_spec does not run it.
        full = "%s.%s" % (mod.__name__, attr)
        try:
            if importlib.util.find_spec(full) is not None:
                found = (True, sys.modules.get(full))
        except (ImportError, ValueError):
            pass
    with _MODULE_LOCK:
        _MODULE_ATTRS[key] = found
    return found


def format_field_attributes(text):
    """Attribute names that str.format replacement fields in `text` read ("{0.__class__}" gives __class__)."""
    out = []
    todo = [(text, 0)]
    while todo:
        part, depth = todo.pop()
        try:
            parsed = list(string.Formatter().parse(part))
        except (ValueError, TypeError):
            continue  # not a valid format string: str.format would raise before reading anything
        for _, field, spec, _ in parsed:
            # A field in a format spec ("{0:{1.x}}") is formatted too; str.format refuses deeper nesting, and not
            # following it keeps hostile "{0:{0:{0:..." text linear.
            if spec and "{" in spec and depth < 1:
                todo.append((spec, depth + 1))
            if not field:
                continue
            i = 0
            while i < len(field) and field[i] not in ".[":
                i += 1
            while i < len(field):
                if field[i] == ".":
                    j = i + 1
                    while j < len(field) and field[j] not in ".[":
                        j += 1
                    out.append(field[i + 1 : j])
                    i = j
                else:  # "[key]": an item lookup, its key is text, not an attribute
                    j = field.find("]", i)
                    if j < 0:
                        break
                    i = j + 1
    return out


# ---------------------------------------------------------------------------------------------------------------------
# analyze_workflow


def provided_imports(tree, provided):
    """Import statements that bind only names the runtime already provides (operator, prompt_custom, ...)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            bound = [a.asname or a.name.split(".")[0] for a in node.names]
            if "*" not in [a.name for a in node.names] and bound and all(b in provided for b in bound):
                found.append(node)
    return found


def strip_statements(src, nodes, module_level):
    """Removes statements in place, keeping every other line where it was so line numbers stay comparable."""
    blines = [ln.encode("utf-8") for ln in src.split("\n")]
    for node in sorted(nodes, key=lambda n: (n.lineno, n.col_offset), reverse=True):
        first, last = node.lineno - 1, node.end_lineno - 1
        pre = blines[first][: node.col_offset]
        post = blines[last][node.end_col_offset :]
        alone = pre.strip() == b"" and (post.strip() == b"" or post.lstrip().startswith(b"#"))
        if alone and id(node) in module_level:
            blines[first] = b""
        else:
            # `pass` keeps a block that held only this statement valid (and `a; b` stays a statement list)
            blines[first] = pre + b"pass" + (b"" if alone else post)
        for k in range(first + 1, last + 1):
            blines[k] = b""
    return "\n".join(b.decode("utf-8") for b in blines)


def describe_import(node):
    if isinstance(node, ast.Import):
        return [a.name for a in node.names], 0
    return [node.module or ""], node.level


class GraphFacts:
    """Everything the host needs to judge one graph module; built from the normalised tree."""

    def __init__(self, src, tree, provided):
        self.src = Source(src)
        self.tree = tree
        self.provided = set(provided)
        free = free_name_loads(tree)
        self.free_ids = {id(n) for n in free}
        self.free = free
        self.cls = None
        for stmt in tree.body:
            if isinstance(stmt, ast.ClassDef) and stmt.name == "Workflow":
                self.cls = stmt  # the last definition is the one Python would keep
        self.methods = {}
        if self.cls is not None:
            for stmt in self.cls.body:
                if isinstance(stmt, FUNCTION_KINDS):
                    self.methods[stmt.name] = stmt
        self.bindings = {}  # self.<attr> -> operator class
        self.binding_list = []
        for fn in self.methods.values():
            for node in walk_own(fn):
                targets = []
                if isinstance(node, ast.Assign):
                    targets, value = node.targets, node.value
                elif isinstance(node, ast.AnnAssign) and node.value is not None:
                    targets, value = [node.target], node.value
                else:
                    continue
                op = self.operator_class(value)
                if op is None:
                    continue
                for t in targets:
                    if isinstance(t, ast.Attribute) and is_name(t.value, "self"):
                        self.bindings[t.attr] = op
                        self.binding_list.append({"attr": t.attr, "operator": op, "line": node.lineno})

    def is_free(self, node, name):
        return is_name(node, name) and id(node) in self.free_ids

    def operator_class(self, node):
        """X for a call `operator.X(...)` on the provided operator module, else None."""
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and self.is_free(node.func.value, "operator"):
            return node.func.attr
        return None

    def local_aliases(self, fn):
        aliases = {}
        for node in walk_own(fn):
            if isinstance(node, ast.Assign):
                op = self.operator_class(node.value)
                if op is not None:
                    for t in node.targets:
                        if isinstance(t, ast.Name):
                            aliases[t.id] = op
        return aliases

    def call_target(self, call, aliases):
        """Operator class invoked by this call: self.<bound attr>(...), operator.X(...)(...), or a local alias."""
        f = call.func
        if isinstance(f, ast.Attribute) and is_name(f.value, "self") and f.attr in self.bindings:
            return self.bindings[f.attr], "self." + f.attr
        inline = self.operator_class(f)
        if inline is not None:
            return inline, "operator." + inline
        if isinstance(f, ast.Name) and f.id in aliases:
            return aliases[f.id], f.id
        return None, None

    # -- facts ----------------------------------------------------------------------------------------------------

    def imports(self, stripped_ids):
        out = []
        module_body = {id(s) for s in self.tree.body}
        for node in ast.walk(self.tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                modules, level = describe_import(node)
                rec = {
                    **self.src.pos(node),
                    "modules": modules,
                    "level": level,
                    "bound": [a.asname or a.name.split(".")[0] for a in node.names],
                    "nested": id(node) not in module_body,
                    "provided": id(node) in stripped_ids,
                    "text": self.src.segment(node),
                }
                out.append(rec)
        return sorted(out, key=lambda r: (r["line"], r["col"]))

    def attribute_refs(self, base):
        out = []
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Attribute) and self.is_free(node.value, base):
                out.append({"name": node.attr, **self.src.pos(node)})
        return sorted(out, key=lambda r: (r["line"], r["col"]))

    def free_names(self):
        first = {}
        for node in self.free:
            key = node.id
            pos = self.src.pos(node)
            if key not in first or (pos["line"], pos["col"]) < (first[key]["line"], first[key]["col"]):
                first[key] = {"name": key, **pos}
        return sorted(first.values(), key=lambda r: (r["line"], r["col"]))

    def attributes(self):
        first = {}
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Attribute):
                pos = self.src.pos(node)
                cur = first.get(node.attr)
                if cur is None or (pos["line"], pos["col"]) < (cur["line"], cur["col"]):
                    first[node.attr] = {"name": node.attr, **pos}
        return sorted(first.values(), key=lambda r: (r["line"], r["col"]))

    def from_imports(self):
        """Every name of `from M import name` (level 0): the same reach as the attribute M.name."""
        out = []
        for node in ast.walk(self.tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                for a in node.names:
                    out.append({"module": node.module or "", "name": a.name, **self.src.pos(node)})
        return sorted(out, key=lambda r: (r["line"], r["col"], r["name"]))

    def format_attributes(self):
        """Attribute names read by str.format fields in the graph's string constants, first use of each."""
        first = {}
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and "{" in node.value:
                pos = self.src.pos(node)
                for name in format_field_attributes(node.value):
                    cur = first.get(name)
                    if cur is None or (pos["line"], pos["col"]) < (cur["line"], cur["col"]):
                        first[name] = {"name": name, **pos}
        return sorted(first.values(), key=lambda r: (r["line"], r["col"], r["name"]))

    def module_attributes(self, allowed):
        """Every place a module object is reached through an allowed module: M.sub, getattr(M, "sub"), from M import sub.

        Names bound by imports are followed whatever the scope (an over-approximation: a local that shadows a module
        name can only add a report, never hide one). A dotted module the allow-list names itself is not reported.
        """
        if not allowed:
            return []
        bindings = {}  # name -> (dotted path as written, module object or None)
        out = []
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    path = a.name if a.asname else a.name.split(".")[0]
                    bindings[a.asname or path] = (path, allowed_module(path, allowed))
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                parent = allowed_module(node.module, allowed)
                for a in node.names:
                    if a.name == "*" or parent is None:
                        continue
                    is_mod, child = child_module(parent, a.name)
                    if is_mod:
                        full = node.module + "." + a.name
                        bindings[a.asname or a.name] = (full, child)
                        if full not in allowed:
                            out.append({"module": node.module, "name": a.name, **self.src.pos(node)})
        if not bindings:
            return out
        memo = {}  # id(expression) -> (dotted path, module object or None) it evaluates to, or None

        def step(node):
            """(base expression, attribute) when `node` reads one attribute of something, else None."""
            if isinstance(node, ast.Attribute):
                return node.value, node.attr
            if (isinstance(node, ast.Call) and is_name(node.func, "getattr") and id(node.func) in self.free_ids
                    and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)):
                return node.args[0], node.args[1].value
            return None

        def fold(node):
            # Iterative: a chain of thousands of attributes must not hit Python's recursion limit.
            chain = []
            cur = node
            while id(cur) not in memo:
                s = step(cur)
                if s is None:
                    memo[id(cur)] = bindings.get(cur.id) if isinstance(cur, ast.Name) and isinstance(cur.ctx, ast.Load) else None
                    break
                chain.append((cur, s[1]))
                cur = s[0]
            base = memo[id(cur)]
            for expr, attr in reversed(chain):
                reached = None
                if base is not None and base[1] is not None:
                    is_mod, child = child_module(base[1], attr)
                    if is_mod:
                        full = base[0] + "." + attr
                        if full not in allowed:
                            out.append({"module": base[0], "name": attr, **self.src.pos(expr)})
                        reached = (full, child)
                memo[id(expr)] = base = reached

        for node in ast.walk(self.tree):
            if step(node) is not None:
                fold(node)
        out.sort(key=lambda r: (r["line"], r["col"], r["module"], r["name"]))
        return out

    def reflective_calls(self):
        out = []
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and id(node.func) in self.free_ids:
                if node.func.id in ("getattr", "setattr", "delattr", "hasattr"):
                    attr = None
                    if len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str):
                        attr = node.args[1].value
                    out.append({"func": node.func.id, "attr": attr, **self.src.pos(node)})
        return out

    def call_signature(self):
        fn = self.methods.get("__call__")
        if fn is None:
            return None
        a = fn.args
        positional = [x.arg for x in a.posonlyargs + a.args]
        return {
            "line": fn.lineno,
            "isAsync": isinstance(fn, ast.AsyncFunctionDef),
            "params": positional,
            "defaults": len(a.defaults),
            "varargs": a.vararg is not None,
            "requiredKwonly": [x.arg for x, d in zip(a.kwonlyargs, a.kw_defaults) if d is None],
        }

    # -- metrics --------------------------------------------------------------------------------------------------

    def is_elif(self, parent, child):
        if len(parent.orelse) != 1 or parent.orelse[0] is not child:
            return False
        text = self.src.line(child.lineno).encode("utf-8")[child.col_offset :]
        return text.startswith(b"elif")

    def depth(self, stmts):
        best = 0
        stack = [(s, 0) for s in stmts]
        while stack:
            node, d = stack.pop()
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                continue
            here = d
            if isinstance(node, CONTROL_KINDS):
                here = d + 1
                best = max(best, here)
            for child in ast.iter_child_nodes(node):
                if isinstance(node, ast.If) and isinstance(child, ast.If) and self.is_elif(node, child):
                    stack.append((child, d))  # an elif sits beside its if, not inside it
                else:
                    stack.append((child, here))
        return best

    def metrics(self):
        loops = branches = nodes = gathers = sites = instantiations = 0
        used = set()
        for node in ast.walk(self.tree):
            if not isinstance(node, LEAF_KINDS):
                nodes += 1
            if isinstance(node, (ast.For, ast.AsyncFor, ast.While) + COMPREHENSIONS):
                loops += 1
            elif isinstance(node, (ast.If, ast.IfExp)):
                branches += 1
            elif isinstance(node, ast.Match):
                # like if/elif: every case but an irrefutable catch-all is one decision
                branches += sum(1 for c in node.cases if not (c.guard is None and irrefutable(c.pattern)))
            if isinstance(node, ast.Call):
                if self.operator_class(node) is not None:
                    instantiations += 1
                if is_gather(node):
                    gathers += 1
        for fn in self.all_functions():
            aliases = self.local_aliases(fn)
            for node in walk_own(fn):
                if isinstance(node, ast.Call):
                    op, _ = self.call_target(node, aliases)
                    if op is not None:
                        sites += 1
                        used.add(op)
        # operator.X(...)(...) at module level (outside any function) is still a call site
        for node in walk_own(self.tree):
            if isinstance(node, ast.Call) and self.operator_class(node.func) is not None:
                sites += 1
                used.add(self.operator_class(node.func))
        call = self.methods.get("__call__")
        return {
            "operatorCallSites": sites,
            "operatorInstantiations": instantiations,
            "distinctOperators": len(used),
            "loops": loops,
            "branches": branches,
            "maxDepth": self.depth(call.body) if call is not None else 0,
            "nonBlankLines": sum(1 for ln in self.src.lines if ln.strip()),
            "astNodes": nodes,
            "gatherSites": gathers,
        }

    def all_functions(self):
        return [n for n in ast.walk(self.tree) if isinstance(n, FUNCTION_KINDS)]


def irrefutable(pattern):
    return isinstance(pattern, ast.MatchAs) and pattern.pattern is None


def is_gather(call):
    f = call.func
    return (isinstance(f, ast.Attribute) and f.attr == "gather" and is_name(f.value, "asyncio")) or is_name(f, "gather")


# ---------------------------------------------------------------------------------------------------------------------
# Flow: a simplified picture of __call__ for Mermaid (operator calls, loops, branches, gather, inlined helper methods)


def flow_node(kind, text, line, operator=None, arms=None):
    return {"kind": kind, "label": text, "line": line, "operator": operator, "arms": arms or []}


class FlowBuilder:
    MAX_INLINE = 4

    def __init__(self, facts):
        self.facts = facts
        self.inlining = []
        self.aliases = {}

    def function(self, fn):
        saved = self.aliases
        self.aliases = self.facts.local_aliases(fn)
        try:
            return self.stmts(fn.body)
        finally:
            self.aliases = saved

    def stmts(self, body):
        out = []
        for s in body:
            out.extend(self.stmt(s))
        return out

    def stmt(self, s):
        if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return []
        if isinstance(s, ast.If):
            pre = self.expr(s.test)
            yes, no = self.stmts(s.body), self.stmts(s.orelse)
            if not yes and not no:
                return pre
            return pre + [flow_node("branch", label(s.test), s.lineno, arms=[{"label": "yes", "body": yes}, {"label": "no", "body": no}])]
        if isinstance(s, (ast.For, ast.AsyncFor)):
            pre = self.expr(s.iter)
            body = self.stmts(s.body)
            after = self.stmts(s.orelse)
            if not body:
                return pre + after
            head = "for %s in %s" % (label(s.target, 16), label(s.iter, 32))
            return pre + [flow_node("loop", head, s.lineno, arms=[{"label": "body", "body": body}])] + after
        if isinstance(s, ast.While):
            body = self.expr(s.test) + self.stmts(s.body)
            after = self.stmts(s.orelse)
            if not body:
                return after
            return [flow_node("loop", "while " + label(s.test, 40), s.lineno, arms=[{"label": "body", "body": body}])] + after
        if isinstance(s, ast.Match):
            pre = self.expr(s.subject)
            arms = [{"label": "case " + label(c.pattern, 24), "body": self.stmts(c.body)} for c in s.cases]
            if not any(a["body"] for a in arms):
                return pre
            return pre + [flow_node("branch", "match " + label(s.subject, 40), s.lineno, arms=arms)]
        if isinstance(s, (ast.Try,) + ((ast.TryStar,) if hasattr(ast, "TryStar") else ())):
            body = self.stmts(s.body)
            arms = [{"label": "ok", "body": self.stmts(s.orelse)}]
            for h in s.handlers:
                arms.append({"label": "except " + (label(h.type, 24) if h.type is not None else ""), "body": self.stmts(h.body)})
            tail = self.stmts(s.finalbody)
            if any(a["body"] for a in arms):
                return body + [flow_node("branch", "exception?", s.lineno, arms=arms)] + tail
            return body + tail
        if isinstance(s, (ast.With, ast.AsyncWith)):
            out = []
            for item in s.items:
                out.extend(self.expr(item.context_expr))
            return out + self.stmts(s.body)
        if isinstance(s, ast.Return):
            pre = self.expr(s.value) if s.value is not None else []
            return pre + [flow_node("return", label(s.value, 32) if s.value is not None else "None", s.lineno)]
        if isinstance(s, ast.Raise):
            pre = self.expr(s.exc) if s.exc is not None else []
            return pre + [flow_node("raise", label(s.exc, 32) if s.exc is not None else "raise", s.lineno)]
        if isinstance(s, ast.Break):
            return [flow_node("break", "break", s.lineno)]
        if isinstance(s, ast.Continue):
            return [flow_node("continue", "continue", s.lineno)]
        out = []
        for child in ast.iter_child_nodes(s):
            if isinstance(child, ast.expr):
                out.extend(self.expr(child))
        return out

    def expr(self, e):
        """Flow nodes of one expression in evaluation order (arguments before the call that uses them)."""
        if e is None or isinstance(e, ast.Lambda):
            return []
        if isinstance(e, ast.Call):
            if is_gather(e):
                arms = []
                for arg in e.args:
                    inner = arg.value if isinstance(arg, ast.Starred) else arg
                    if isinstance(inner, COMPREHENSIONS):
                        gen = inner.generators[0]
                        body = self.comp_body(inner)
                        arms.append({"label": "for %s in %s" % (label(gen.target, 16), label(gen.iter, 32)), "body": body})
                    else:
                        body = self.expr(inner)
                        arms.append({"label": "" if body else label(arg, 32), "body": body})
                return [flow_node("gather", "asyncio.gather", e.lineno, arms=arms)]
            out = []
            op, who = self.facts.call_target(e, self.aliases)
            if op is None:
                out.extend(self.expr(e.func))
            elif isinstance(e.func, ast.Call):
                out.extend(self.expr_children(e.func))
            for arg in e.args:
                out.extend(self.expr(arg))
            for kw in e.keywords:
                out.extend(self.expr(kw.value))
            if op is not None:
                out.append(flow_node("op", who, e.lineno, operator=op))
                return out
            method = self.helper_method(e)
            if method is not None:
                name = method.name
                if name in self.inlining or len(self.inlining) >= self.MAX_INLINE:
                    body = []
                else:
                    self.inlining.append(name)
                    try:
                        body = self.function(method)
                    finally:
                        self.inlining.pop()
                if body or name in self.inlining:
                    out.append(flow_node("call", "self.%s()" % name, e.lineno, arms=[{"label": name, "body": body}]))
            return out
        if isinstance(e, ast.IfExp):
            pre = self.expr(e.test)
            yes, no = self.expr(e.body), self.expr(e.orelse)
            if not yes and not no:
                return pre
            return pre + [flow_node("branch", label(e.test), e.lineno, arms=[{"label": "yes", "body": yes}, {"label": "no", "body": no}])]
        if isinstance(e, COMPREHENSIONS):
            gen = e.generators[0]
            pre = self.expr(gen.iter)
            body = self.comp_body(e)
            if not body:
                return pre
            head = "for %s in %s" % (label(gen.target, 16), label(gen.iter, 32))
            return pre + [flow_node("loop", head, e.lineno, arms=[{"label": "body", "body": body}])]
        return self.expr_children(e)

    def expr_children(self, e):
        out = []
        for child in ast.iter_child_nodes(e):
            if isinstance(child, ast.expr):
                out.extend(self.expr(child))
            elif isinstance(child, ast.keyword):
                out.extend(self.expr(child.value))
        return out

    def comp_body(self, comp):
        body = []
        for i, gen in enumerate(comp.generators):
            if i > 0:
                body.extend(self.expr(gen.iter))
            for cond in gen.ifs:
                body.extend(self.expr(cond))
        if isinstance(comp, ast.DictComp):
            body.extend(self.expr(comp.key))
            body.extend(self.expr(comp.value))
        else:
            body.extend(self.expr(comp.elt))
        return body

    def helper_method(self, call):
        f = call.func
        if isinstance(f, ast.Attribute) and is_name(f.value, "self") and f.attr in self.facts.methods and f.attr != "__call__":
            return self.facts.methods[f.attr]
        return None


# ---------------------------------------------------------------------------------------------------------------------


def analyze_graph(src, provided, allowed_modules=frozenset()):
    empty = {
        "syntaxError": None,
        "normalized": src,
        "imports": [],
        "operatorRefs": [],
        "promptRefs": [],
        "freeNames": [],
        "attributes": [],
        "fromImports": [],
        "moduleAttributes": [],
        "formatAttributes": [],
        "reflectiveCalls": [],
        "workflowClass": None,
        "call": None,
        "operatorBindings": [],
        "metrics": None,
        "flow": [],
    }
    tree, err = parse_module(src)
    if err is not None:
        return {**empty, "syntaxError": err}
    try:
        stripped = provided_imports(tree, set(provided))
        # Imports are reported against the text the model wrote; everything else is read from the normalised text.
        imports = GraphFacts(src, tree, provided).imports({id(n) for n in stripped})
        normalized = src
        if stripped:
            normalized = strip_statements(src, stripped, {id(s) for s in tree.body})
            tree2, err2 = parse_module(normalized)
            if err2 is None:
                tree = tree2
            else:  # cannot happen for well-formed edits; keep the original rather than invent an error
                normalized = src
                for rec in imports:
                    rec["provided"] = False
        facts = GraphFacts(normalized, tree, provided)
        call = facts.call_signature()
        flow = []
        if call is not None:
            flow = FlowBuilder(facts).function(facts.methods["__call__"])
        cls = facts.cls
        return {
            "syntaxError": None,
            "normalized": normalized,
            "imports": imports,
            "operatorRefs": facts.attribute_refs("operator"),
            "promptRefs": facts.attribute_refs("prompt_custom"),
            "freeNames": facts.free_names(),
            "attributes": facts.attributes(),
            "fromImports": facts.from_imports(),
            "moduleAttributes": facts.module_attributes(allowed_modules),
            "formatAttributes": facts.format_attributes(),
            "reflectiveCalls": facts.reflective_calls(),
            "workflowClass": {"line": cls.lineno} if cls is not None else None,
            "call": call,
            "operatorBindings": sorted(facts.binding_list, key=lambda b: b["line"]),
            "metrics": facts.metrics(),
            "flow": flow,
        }
    except (RecursionError, MemoryError) as e:
        # The parser accepted it, but it is too deep for our own walks: still the graph's fault, so a typed error.
        return {**empty, "syntaxError": {"message": "too deeply nested to analyse (%s)" % type(e).__name__, "line": None, "col": None}}


def is_string_expr(node):
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    # "a" "b" is already one Constant; "a" + "b" is a constant too, just spelled across lines
    return isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and is_string_expr(node.left) and is_string_expr(node.right)


def why_not_constant(node):
    if isinstance(node, ast.JoinedStr):
        return "an f-string is not a constant (its placeholders would be evaluated)"
    if isinstance(node, ast.Call):
        return "a call is not a constant (%s)" % label(node.func, 32)
    if isinstance(node, ast.Constant):
        return "%s is not a string" % type(node.value).__name__
    return "%s is not a string constant" % type(node).__name__


def analyze_prompt(src):
    tree, err = parse_module(src)
    if err is not None:
        return {"syntaxError": err, "constants": [], "violations": []}
    source = Source(src)
    constants, violations = [], []
    try:
        for stmt in tree.body:
            pos = source.pos(stmt)
            if isinstance(stmt, ast.Expr) and is_string_expr(stmt.value):
                continue  # docstring or stray string: harmless
            if isinstance(stmt, ast.Pass):
                continue
            if isinstance(stmt, ast.Assign):
                if not all(isinstance(t, ast.Name) for t in stmt.targets):
                    violations.append({**pos, "message": "only plain NAME = \"...\" assignments are allowed"})
                elif not is_string_expr(stmt.value):
                    violations.append({**pos, "message": why_not_constant(stmt.value)})
                else:
                    constants.extend({"name": t.id, **pos} for t in stmt.targets)
                continue
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
                if is_string_expr(stmt.value):
                    constants.append({"name": stmt.target.id, **pos})
                else:
                    violations.append({**pos, "message": why_not_constant(stmt.value)})
                continue
            kind = type(stmt).__name__
            what = {"Import": "an import", "ImportFrom": "an import", "FunctionDef": "a function", "AsyncFunctionDef": "a function",
                    "ClassDef": "a class", "Expr": "an expression statement"}.get(kind, "a %s statement" % kind)
            violations.append({**pos, "message": "%s is not allowed in the prompt module" % what})
    except (RecursionError, MemoryError) as e:
        return {"syntaxError": {"message": "too deeply nested to analyse (%s)" % type(e).__name__, "line": None, "col": None},
                "constants": [], "violations": []}
    return {"syntaxError": None, "constants": constants, "violations": violations}


def analyze_workflow(req, max_input):
    graph = normalize_newlines(text_field(req, "graph", max_input))
    prompt = normalize_newlines(text_field(req, "prompt", max_input))
    provided = req.get("providedNames") or ["operator", "prompt_custom", "create_llm_instance", "CostManager"]
    if not isinstance(provided, list) or not all(isinstance(p, str) for p in provided):
        raise BadRequest("providedNames must be a list of strings")
    allowed = req.get("allowedModules") or []
    if not isinstance(allowed, list) or not all(isinstance(m, str) for m in allowed):
        raise BadRequest("allowedModules must be a list of strings")
    return {"graph": analyze_graph(graph, provided, frozenset(allowed)), "prompt": analyze_prompt(prompt)}


# ---------------------------------------------------------------------------------------------------------------------
# extract_code: the code a worker meant, from a free-form reply (flowreasoner.md §6, without its cubic scan)

FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})[ \t]*([A-Za-z0-9_+.#-]*)")
PY_LANGS = {"", "python", "py", "python3", "py3", "ipython"}
EOF_HINTS = ("never closed", "unterminated triple-quoted", "unexpected EOF", "expected an indented block")

# Total characters the span scan may hand to the parser, as a multiple of the reply's length: keeps the worst case
# linear even for adversarial replies (each parse is cheap, but a pathological text could otherwise retry forever).
SCAN_BUDGET_FACTOR = 40
WINDOW0 = 32
BACKOFF_TRIES = 12


class Candidate:
    def __init__(self, kind, lines, start, tree):
        self.kind = kind
        self.lines = lines  # the candidate's own lines
        self.start = start  # index of its first line in the reply
        self.tree = tree
        self.nonblank = sum(1 for ln in lines if ln.strip())

    def text(self):
        return "\n".join(self.lines).strip("\n")


def tolerant_parse(src):
    try:
        return ast.parse(src)
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        return None


def fenced_blocks(lines):
    blocks = []
    i, n = 0, len(lines)
    while i < n:
        m = FENCE.match(lines[i])
        if m is None:
            i += 1
            continue
        fence, lang = m.group(1), m.group(2).lower()
        j = i + 1
        while j < n:
            s = lines[j].strip()
            if s.startswith(fence[0] * len(fence)) and s.strip(fence[0]) == "":
                break
            j += 1
        blocks.append((lang, i + 1, j))
        i = j + 1
    return blocks


class SpanScanner:
    """Finds maximal runs of lines that parse as Python, in near-linear time.

    EvalPlus tries every (start, end) pair, O(n^2) parses of O(n) text. Here a run may only start at an unindented
    line; from there a window of lines is parsed and doubled while it parses (or while the parser only complains
    that the window cut a statement off). A real error at line e bounds the run; the longest parsing prefix is then
    found by stepping back to where the parser says the prefix breaks (a few tries). The scan resumes at the run's
    end, so each line is parsed O(log n) times in the common case; a global character budget bounds the worst case.
    """

    def __init__(self, lines):
        self.lines = lines
        self.n = len(lines)
        self.budget = SCAN_BUDGET_FACTOR * (sum(len(ln) + 1 for ln in lines) + 1) + 100_000

    def try_parse(self, i, j):
        """None if lines[i:j] parse, else (absolute error line index, looks like the text was cut short)."""
        src = "\n".join(self.lines[i:j])
        self.budget -= len(src) + 1
        try:
            ast.parse(src)
            return None
        except SyntaxError as e:
            line = i + (e.lineno or 1) - 1
            msg = e.msg or ""
            cut = line >= j - 1 or any(h in msg for h in EOF_HINTS)
            return max(i, min(line, j)), cut
        except (RecursionError, MemoryError, ValueError):
            return i, False

    def longest_from(self, i):
        best, w = i, WINDOW0
        while self.budget > 0:
            end = min(self.n, i + w)
            err = self.try_parse(i, end)
            if err is None:
                best = end
                if end == self.n:
                    return best
                w *= 2
                continue
            e, cut = err
            if cut and end < self.n:
                w *= 2
                continue
            return self.backoff(i, e, best)
        return best

    def backoff(self, i, e, best):
        k = e
        for _ in range(BACKOFF_TRIES):
            if k <= best or self.budget <= 0:
                return best
            err = self.try_parse(i, k)
            if err is None:
                return k
            k = min(k - 1, err[0])
        return best

    def spans(self):
        out = []
        i = 0
        while i < self.n and self.budget > 0:
            ln = self.lines[i]
            if not ln.strip() or ln[0] in " \t":
                i += 1
                continue
            j = self.longest_from(i)
            if j > i:
                while j > i and not self.lines[j - 1].strip():
                    j -= 1
                out.append((i, j))
                i = j
            else:
                i += 1
        return out


def defined_names(stmt):
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [stmt.name]
    targets = []
    if isinstance(stmt, ast.Assign):
        targets = stmt.targets
    elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign)) and (not isinstance(stmt, ast.AnnAssign) or stmt.value is not None):
        targets = [stmt.target]
    names = []
    for t in targets:
        for n in ast.walk(t):
            if isinstance(n, ast.Name):
                names.append(n.id)
    return names


def is_main_guard(stmt):
    return isinstance(stmt, ast.If) and "__name__" in {n.id for n in ast.walk(stmt.test) if isinstance(n, ast.Name)}


def is_recursion_limit(stmt):
    # Kept on purpose although it is a call: deep-recursion solutions depend on it.
    return (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and isinstance(stmt.value.func, ast.Attribute)
            and stmt.value.func.attr == "setrecursionlimit")


def names_used(node):
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def defines(cand, name):
    return any(name in defined_names(s) for s in cand.tree.body)


def stmt_lines(stmt):
    first = stmt.lineno
    decorators = getattr(stmt, "decorator_list", None)
    if decorators:
        first = min(first, min(d.lineno for d in decorators))
    return first - 1, stmt.end_lineno  # [first, end) in the candidate's lines


def assemble(cands, primary, entry_point):
    """Imports plus the definitions reachable from the entry point, pulling helpers from the other candidates."""
    prim = cands[primary]
    # name -> statement indices per candidate, built once: lookups stay linear in the reply however many names there are
    index = []
    for c in cands:
        by_name = {}
        for k, s in enumerate(c.tree.body):
            if is_main_guard(s):
                continue
            for name in defined_names(s):
                by_name.setdefault(name, []).append(k)
        index.append(by_name)
    prim_defs = index[primary]
    # for names the primary lacks, a later candidate wins: it is a revision of an earlier one
    owner_of = {}
    for k in sorted(range(len(cands)), key=lambda k: cands[k].start):
        if k != primary:
            for name in index[k]:
                owner_of[name] = k
    if entry_point and entry_point in prim_defs:
        roots, pruned = [entry_point], True
    else:
        roots, pruned = sorted(prim_defs), False
    kept = {}  # candidate index -> statement indices
    seen = set()
    work = list(roots)
    while work:
        name = work.pop()
        if name in seen:
            continue
        seen.add(name)
        owner = primary if name in prim_defs else owner_of.get(name)
        if owner is None:
            continue
        idx = kept.setdefault(owner, set())
        for k in index[owner][name]:
            if k not in idx:
                idx.add(k)
                work.extend(names_used(cands[owner].tree.body[k]) - seen)
    contributing = sorted((k for k in kept if kept[k]), key=lambda k: cands[k].start)
    defines_code = any(isinstance(cands[c].tree.body[k], (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) for c in contributing for k in kept[c])
    if not defines_code:
        # A script (no function or class): its calls are the program, so pruning them would leave nothing useful.
        return None, pruned, 0
    imports, defs = [], []
    seen_imports = set()
    for ci in contributing:
        c = cands[ci]
        for k, s in enumerate(c.tree.body):
            if isinstance(s, (ast.Import, ast.ImportFrom)) or is_recursion_limit(s):
                a, b = stmt_lines(s)
                text = "\n".join(c.lines[a:b])
                if text.strip() not in seen_imports:
                    seen_imports.add(text.strip())
                    imports.append(text)
            elif k in kept[ci]:
                a, b = stmt_lines(s)
                defs.append("\n".join(c.lines[a:b]))
    parts = imports + ([""] if imports and defs else []) + ["\n\n".join(defs)]
    return "\n".join(parts).strip("\n") + "\n", pruned, len(contributing)


def extract_code(req, max_input):
    text = normalize_newlines(text_field(req, "text", max_input))
    entry = req.get("entryPoint") or None
    if entry is not None and not isinstance(entry, str):
        raise BadRequest("entryPoint must be a string")
    lines = text.split("\n")
    fenced = []
    for lang, a, b in fenced_blocks(lines):
        if lang not in PY_LANGS:
            continue
        body = textwrap.dedent("\n".join(lines[a:b])).split("\n")
        tree = tolerant_parse("\n".join(body))
        if tree is not None and any(ln.strip() for ln in body):
            fenced.append(Candidate("fence", body, a, tree))

    def pick(cands):
        if not cands:
            return None
        if entry:
            defining = [k for k, c in enumerate(cands) if defines(c, entry)]
            if defining:
                return defining[-1]  # the last block that defines it: later code revises earlier drafts
        best = 0
        for k, c in enumerate(cands):
            if c.nonblank > cands[best].nonblank:
                best = k
        return best

    cands, primary = fenced, None
    if fenced and (not entry or any(defines(c, entry) for c in fenced)):
        primary = pick(fenced)
    else:
        spans = []
        for a, b in SpanScanner(lines).spans():
            tree = tolerant_parse("\n".join(lines[a:b]))
            if tree is not None:
                spans.append(Candidate("span", lines[a:b], a, tree))
        if entry and any(defines(c, entry) for c in spans):
            cands, primary = spans, pick(spans)
        elif fenced:
            cands, primary = fenced, pick(fenced)
        elif spans:
            cands, primary = spans, pick(spans)
    if primary is None:
        return {"code": "", "source": "none", "candidates": 0, "joined": 0, "pruned": False, "entryPointFound": False}
    prim = cands[primary]
    code, pruned, joined = assemble(cands, primary, entry)
    if code is None:
        code = prim.text() + "\n"  # a script: the block itself is the best guess
        joined = 1
    return {
        "code": code,
        "source": prim.kind,
        "candidates": len(cands),
        "joined": joined,
        "pruned": pruned,
        "entryPointFound": bool(entry) and defines(prim, entry),
    }


# ---------------------------------------------------------------------------------------------------------------------
# Service loop


def text_field(req, key, max_input):
    value = req.get(key, "")
    if not isinstance(value, str):
        raise BadRequest("%s must be a string" % key)
    if len(value.encode("utf-8", "surrogatepass")) > max_input:
        raise InputTooLarge("%s is larger than %d bytes" % (key, max_input))
    # Lone surrogates (valid in JSON, not in UTF-8) would make every later encode fail; they become U+FFFD.
    return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


class Service:
    def __init__(self, max_input, threads):
        self.max_input = max_input
        self.out = sys.stdout.buffer
        self.lock = threading.Lock()
        self.pool = ThreadPoolExecutor(max_workers=threads)

    def send(self, obj):
        data = (json.dumps(obj, ensure_ascii=True) + "\n").encode("ascii")
        with self.lock:
            self.out.write(data)
            self.out.flush()

    def handle(self, req):
        rid = req.get("id")
        try:
            op = req.get("op")
            if op == "analyze_workflow":
                result = analyze_workflow(req, self.max_input)
            elif op == "extract_code":
                result = extract_code(req, self.max_input)
            elif op == "ping":
                result = {"pid": os.getpid(), "python": sys.version.split()[0]}
            elif op == "sleep":
                # Diagnostics for the host's tests: holds one pool thread without holding the GIL.
                time.sleep(min(max(float(req.get("ms", 0)), 0.0), 10_000.0) / 1000.0)
                result = {}
            else:
                raise BadRequest("unknown op %r" % (op,))
            answer = {"id": rid, "ok": True, "result": result}
        except InputTooLarge as e:
            answer = {"id": rid, "ok": False, "error": {"code": "input-too-large", "message": str(e)}}
        except BadRequest as e:
            answer = {"id": rid, "ok": False, "error": {"code": "bad-request", "message": str(e)}}
        except MemoryError:
            answer = {"id": rid, "ok": False, "error": {"code": "out-of-memory", "message": "analysis ran out of memory"}}
        except RecursionError:
            answer = {"id": rid, "ok": False, "error": {"code": "too-deep", "message": "input nested too deeply to analyse"}}
        except Exception as e:  # a bug of ours: answered, so the host sees it instead of a silent hang
            answer = {"id": rid, "ok": False, "error": {"code": "internal", "message": "%s: %s" % (type(e).__name__, e)}}
        try:
            self.send(answer)
        except (BrokenPipeError, OSError):
            os._exit(0)  # host is gone

    def run(self):
        limit = self.max_input * MAX_LINE_SLACK + 4096
        stdin = sys.stdin.buffer
        self.send({"ready": True, "pid": os.getpid(), "python": sys.version.split()[0]})
        while True:
            line = stdin.readline(limit)
            if not line:
                break
            if not line.endswith(b"\n") and len(line) >= limit:
                while True:  # discard the rest of an oversized line; the host never sends one
                    rest = stdin.readline(limit)
                    if not rest or rest.endswith(b"\n"):
                        break
                self.send({"id": None, "ok": False, "error": {"code": "input-too-large", "message": "request line too long"}})
                continue
            try:
                req = json.loads(line)
            except ValueError:
                self.send({"id": None, "ok": False, "error": {"code": "bad-request", "message": "not JSON"}})
                continue
            if not isinstance(req, dict):
                self.send({"id": None, "ok": False, "error": {"code": "bad-request", "message": "not an object"}})
                continue
            self.pool.submit(self.handle, req)
        # EOF: the host closed us or is gone, so nobody waits for the answers still being worked on.
        sys.stdout.flush()
        os._exit(0)


def main():
    opts = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    memory_mb = int(opts.get("memoryMb", 2048))
    if memory_mb > 0:
        import resource

        limit = memory_mb << 20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    # ast.parse reports invalid escapes in candidate text as SyntaxWarning on stderr; they are not our business.
    warnings.simplefilter("ignore")
    # Worker threads get a roomy C stack: CPython's own nesting guards then trip long before the stack does.
    threading.stack_size(64 << 20)
    Service(int(opts.get("maxInputBytes", DEFAULT_MAX_INPUT)), max(1, int(opts.get("threads", 4)))).run()


if __name__ == "__main__":
    main()
