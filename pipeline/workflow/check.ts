// Static checks of a generated workflow (graph + prompt module) before anything runs: typed failures, metrics, flow.
//
// The checks are advisory: they turn common mistakes and obvious escape attempts into typed feedback before a run,
// but Python is too dynamic for a static check to be complete. The sandbox the runtime runs in is the boundary.
import { z } from 'zod';
import { sharedAnalysisClient, type AnalysisClient, type WorkflowAnalysis, type RequestOptions } from '../code-analysis/client.ts';
import { sortFailures, workflowFailure, WorkflowFailureSchema, type WorkflowFailure } from './failures.ts';
import { WorkflowMetricsSchema, type WorkflowMetrics } from './metrics.ts';
import { FlowNodeSchema } from './render-mermaid.ts';
import { parseReply, type ParsedReply, type ParseReplyOptions, type WorkflowParts } from './reply.ts';

/** The operators of FlowReasoner's code configuration plus AFlow's Review/Revise (flowreasoner.md §5); tests use it. */
export const FLOWREASONER_OPERATORS: readonly string[] = ['Custom', 'CustomCodeGenerate', 'ScEnsemble', 'Test', 'Review', 'Revise'];

/**
 * Names a graph may use without importing them (flowreasoner.md §4). Importing one of them is allowed and the
 * import is removed (reported in `normalized`): models trained on AFlow repeat the module header, whose
 * `workspace.…` and `metagpt.…` modules do not exist here. `operator` doubles as the stdlib module's name; a graph's
 * `import operator` would shadow the operator module, so it is removed too.
 */
export const PROVIDED_NAMES: readonly string[] = ['operator', 'prompt_custom', 'create_llm_instance', 'CostManager'];

/**
 * Standard-library modules a graph may import: pure computation and the asyncio a workflow needs. Left out on
 * purpose: anything touching files, processes, the network, the interpreter or code loading (os, sys, subprocess,
 * pathlib, shutil, socket, urllib, importlib, inspect, pickle, ctypes, threading, multiprocessing, logging, io...).
 * `time` is in: time.time()/sleep are harmless (the runtime enforces wall-clock limits anyway).
 * Names are exact: a submodule is allowed only when listed itself (`collections.abc`), never because its package is
 * (`asyncio.subprocess`, `json.decoder`); the same holds for modules reached as attributes (see module-attribute).
 */
export const ALLOWED_IMPORTS: readonly string[] = [
  '__future__',
  'abc',
  'ast',
  'asyncio',
  'bisect',
  'cmath',
  'collections',
  'collections.abc',
  'contextlib',
  'copy',
  'dataclasses',
  'datetime',
  'decimal',
  'difflib',
  'enum',
  'fractions',
  'functools',
  'hashlib',
  'heapq',
  'itertools',
  'json',
  'math',
  'numbers',
  'pprint',
  'random',
  're',
  'statistics',
  'string',
  'textwrap',
  'time',
  'typing',
  'uuid',
];

/**
 * Builtins a graph may not name directly: code execution and loading (eval, exec, compile, __import__), files and
 * the terminal (open, input, breakpoint, help), the interpreter's namespaces (globals, locals, vars, __builtins__)
 * and process exits (exit, quit). A name the graph binds itself (a variable called `input`) is not a builtin use.
 */
export const FORBIDDEN_NAMES: readonly string[] = [
  '__builtins__',
  '__import__',
  '__loader__',
  '__spec__',
  'breakpoint',
  'compile',
  'eval',
  'exec',
  'exit',
  'globals',
  'help',
  'input',
  'locals',
  'memoryview',
  'open',
  'quit',
  'vars',
];

/**
 * Attribute names that reach processes or the network whatever the object (asyncio's subprocess and socket helpers),
 * or that evaluate text as code (typing.get_type_hints evaluates string annotations). `from M import name` counts too.
 */
export const FORBIDDEN_ATTRIBUTES: readonly string[] = [
  'create_subprocess_exec',
  'create_subprocess_shell',
  'subprocess_exec',
  'subprocess_shell',
  'open_connection',
  'open_unix_connection',
  'start_server',
  'start_unix_server',
  'create_connection',
  'create_server',
  'create_datagram_endpoint',
  'run_in_executor',
  'get_type_hints',
];

/**
 * Dunder attributes a graph may use: each gives a string or a bound method, and whatever it could lead further is
 * again an `_` name. Every other attribute starting with `_` is a private-attribute failure, dunder or not (the
 * `().__class__.__base__.__subclasses__()` family of escapes, `random._os`, `x.__globals__`). getattr/setattr/
 * delattr/hasattr need a constant attribute name, held to the same rule.
 */
export const ALLOWED_DUNDER_ATTRIBUTES: readonly string[] = ['__init__', '__call__', '__name__', '__qualname__', '__doc__'];

const REFLECTIVE = new Set(['getattr', 'setattr', 'delattr', 'hasattr']);

export const NormalizedImportSchema = z.strictObject({
  line: z.int().min(1),
  text: z.string().describe('The import statement as written.'),
});

export const WorkflowCheckSchema = z.strictObject({
  ok: z.boolean(),
  failures: z.array(WorkflowFailureSchema),
  metrics: WorkflowMetricsSchema.nullable().describe('Null when the graph does not parse.'),
  operatorsUsed: z.array(z.string()).describe('Distinct X of every operator.X in the graph, sorted (unknown ones included).'),
  promptNames: z.array(z.string()).describe('Constants the prompt module defines, in order.'),
  normalizedGraph: z.string().describe('The graph to run: provided-name imports removed, other lines unmoved.'),
  normalized: z.array(NormalizedImportSchema).describe('Provided-name imports that were removed.'),
  flow: z.array(FlowNodeSchema).describe('Operator-call structure of __call__, for renderMermaid.'),
});
export type WorkflowCheck = z.infer<typeof WorkflowCheckSchema>;

export interface CheckOptions {
  /** Operator class names the runtime provides (from the operator registry). */
  knownOperators: readonly string[];
  allowedImports?: readonly string[];
  client?: AnalysisClient;
  request?: RequestOptions;
}

function oversize(client: AnalysisClient, parts: Pick<WorkflowParts, 'graph' | 'prompt'>): WorkflowFailure[] {
  const limit = client.options.maxInputBytes;
  const out: WorkflowFailure[] = [];
  for (const where of ['graph', 'prompt'] as const) {
    const bytes = Buffer.byteLength(parts[where], 'utf8');
    if (bytes > limit) out.push(workflowFailure('syntax-error', where, `the ${where} is ${bytes} bytes; at most ${limit} are analysed`));
  }
  return out;
}

/** Pure core: applies the rules to what the code analysis service found. */
export function judgeAnalysis(a: WorkflowAnalysis, opts: Pick<CheckOptions, 'knownOperators' | 'allowedImports'>): WorkflowCheck {
  const known = new Set(opts.knownOperators);
  const allowed = new Set(opts.allowedImports ?? ALLOWED_IMPORTS);
  const forbiddenNames = new Set(FORBIDDEN_NAMES);
  const forbiddenAttrs = new Set(FORBIDDEN_ATTRIBUTES);
  const okDunders = new Set(ALLOWED_DUNDER_ATTRIBUTES);
  const isPrivate = (name: string): boolean => name.startsWith('_') && !okDunders.has(name);
  const failures: WorkflowFailure[] = [];
  const g = a.graph;
  const p = a.prompt;

  if (p.syntaxError !== null) {
    failures.push(workflowFailure('syntax-error', 'prompt', `prompt module: ${p.syntaxError.message}`, p.syntaxError));
  }
  for (const v of p.violations) {
    failures.push(workflowFailure('prompt-not-constant', 'prompt', `${v.message}; the prompt module may only assign string constants (NAME = "...")`, v));
  }
  const promptNames = [...new Set(p.constants.map((c) => c.name))];

  if (g.syntaxError !== null) {
    failures.push(workflowFailure('syntax-error', 'graph', `graph: ${g.syntaxError.message}`, g.syntaxError));
    return { ok: false, failures: sortFailures(failures), metrics: null, operatorsUsed: [], promptNames, normalizedGraph: g.normalized, normalized: [], flow: [] };
  }

  if (g.workflowClass === null) {
    failures.push(workflowFailure('missing-workflow-class', 'graph', 'the graph defines no top-level class Workflow'));
  } else if (g.call === null) {
    failures.push(workflowFailure('missing-call', 'graph', 'class Workflow has no `async def __call__(self, problem, entry_point)`', { line: g.workflowClass.line }));
  } else {
    const c = g.call;
    const [s, prob, entry] = c.params;
    const required = c.params.length - c.defaults;
    if (!c.isAsync) {
      failures.push(workflowFailure('missing-call', 'graph', '__call__ must be `async def` (the runtime awaits it)', { line: c.line }));
    } else if (s !== 'self' || prob !== 'problem' || entry !== 'entry_point' || required > 3 || c.requiredKwonly.length > 0) {
      failures.push(
        workflowFailure('missing-call', 'graph', `__call__ takes (${c.params.join(', ')}); it must take (self, problem, entry_point), any further parameters with defaults`, {
          line: c.line,
        }),
      );
    }
  }

  const normalized: Array<{ line: number; text: string }> = [];
  for (const imp of g.imports) {
    if (imp.provided) {
      normalized.push({ line: imp.line, text: imp.text });
      continue;
    }
    if (imp.level > 0) {
      failures.push(workflowFailure('forbidden-import', 'graph', `relative import \`${imp.text.trim()}\` is not allowed`, imp));
      continue;
    }
    // Every prefix must be allowed: `import a.b` binds `a`, and `a.b` is a module reached through it.
    const prefixes = (m: string): string[] => m.split('.').map((_, i, parts) => parts.slice(0, i + 1).join('.'));
    const bad = imp.modules.filter((m) => !prefixes(m).every((p) => allowed.has(p)));
    if (bad.length > 0) {
      failures.push(
        workflowFailure('forbidden-import', 'graph', `import of ${bad.map((m) => `\`${m}\``).join(', ')} is not allowed; allowed modules: ${[...allowed].join(', ')}`, imp),
      );
    } else if (imp.bound.includes('*')) {
      failures.push(workflowFailure('forbidden-import', 'graph', `\`${imp.text.trim()}\`: a star import hides which names the graph uses; import them by name`, imp));
    }
  }

  for (const ref of g.operatorRefs) {
    if (!known.has(ref.name)) {
      failures.push(workflowFailure('unknown-operator', 'graph', `operator.${ref.name} is not an available operator (available: ${[...known].join(', ')})`, ref));
    }
  }

  if (p.syntaxError === null) {
    const defined = new Set(promptNames);
    for (const ref of g.promptRefs) {
      if (!defined.has(ref.name)) {
        failures.push(workflowFailure('undefined-prompt', 'graph', `prompt_custom.${ref.name} is not defined in the prompt module`, ref));
      }
    }
  }

  for (const n of g.freeNames) {
    if (forbiddenNames.has(n.name)) failures.push(workflowFailure('forbidden-name', 'graph', `\`${n.name}\` may not be used in a workflow`, n));
  }
  for (const at of g.attributes) {
    if (isPrivate(at.name)) {
      failures.push(workflowFailure('private-attribute', 'graph', `attribute \`${at.name}\` starts with \`_\`: private and dunder attributes may not be used in a workflow`, at));
    } else if (forbiddenAttrs.has(at.name)) {
      failures.push(workflowFailure('forbidden-name', 'graph', `\`.${at.name}\` (processes, network or code evaluation) may not be used in a workflow`, at));
    }
  }
  for (const f of g.fromImports) {
    if (f.name === '*') continue; // reported with the import
    if (isPrivate(f.name)) {
      failures.push(workflowFailure('private-attribute', 'graph', `\`from ${f.module} import ${f.name}\`: private names may not be imported`, f));
    } else if (forbiddenAttrs.has(f.name)) {
      failures.push(workflowFailure('forbidden-name', 'graph', `\`from ${f.module} import ${f.name}\` (processes, network or code evaluation) may not be used in a workflow`, f));
    }
  }
  for (const m of g.moduleAttributes) {
    failures.push(
      workflowFailure('module-attribute', 'graph', `\`${m.module}.${m.name}\` is a module reached through \`${m.module}\`; only the allowed modules themselves may be used`, m),
    );
  }
  for (const at of g.formatAttributes) {
    if (isPrivate(at.name)) {
      failures.push(workflowFailure('private-attribute', 'graph', `a format string reads attribute \`${at.name}\`; private and dunder attributes may not be used in a workflow`, at));
    }
  }
  for (const r of g.reflectiveCalls) {
    if (!REFLECTIVE.has(r.func)) continue;
    if (r.attr === null) {
      failures.push(workflowFailure('forbidden-name', 'graph', `${r.func}() needs a constant attribute name`, r));
    } else if (isPrivate(r.attr)) {
      failures.push(workflowFailure('private-attribute', 'graph', `${r.func}() on \`${r.attr}\`: private and dunder attributes may not be used in a workflow`, r));
    } else if (forbiddenAttrs.has(r.attr)) {
      failures.push(workflowFailure('forbidden-name', 'graph', `${r.func}() on \`${r.attr}\` (processes, network or code evaluation) may not be used in a workflow`, r));
    }
  }

  return {
    ok: failures.length === 0,
    failures: sortFailures(failures),
    metrics: g.metrics,
    operatorsUsed: [...new Set(g.operatorRefs.map((r) => r.name))].sort(),
    promptNames,
    normalizedGraph: g.normalized,
    normalized,
    flow: g.flow,
  };
}

/**
 * Checks a graph and its prompt module (as extracted by parseReply) with the shared code analysis service. Advisory: a graph
 * that passes can still misbehave (Python reaches objects in ways no static check sees), so the runtime's sandbox,
 * not this check, is what keeps a workflow from files, processes and the network.
 */
export async function checkWorkflow(parts: Pick<WorkflowParts, 'graph' | 'prompt'>, opts: CheckOptions): Promise<WorkflowCheck> {
  const client = opts.client ?? sharedAnalysisClient();
  const tooBig = oversize(client, parts);
  if (tooBig.length > 0) {
    return { ok: false, failures: tooBig, metrics: null, operatorsUsed: [], promptNames: [], normalizedGraph: parts.graph, normalized: [], flow: [] };
  }
  const analysis = await client.analyzeWorkflow(parts.graph, parts.prompt, {
    providedNames: PROVIDED_NAMES,
    allowedModules: opts.allowedImports ?? ALLOWED_IMPORTS,
    ...opts.request,
  });
  return judgeAnalysis(analysis, opts);
}

export type ReplyCheck =
  | {
      ok: true;
      modification: string;
      /** The graph to run (provided-name imports removed); `writtenGraph` is the text as extracted from the tag. */
      graph: string;
      writtenGraph: string;
      prompt: string;
      metrics: WorkflowMetrics;
      failures: [];
      reply: ParsedReply;
      check: WorkflowCheck;
    }
  | { ok: false; failures: WorkflowFailure[]; reply: ParsedReply; check: WorkflowCheck | null };

/**
 * parseReply, then checkWorkflow when the graph and prompt tags were found. Failures of both steps are reported
 * together (a reply with a missing <modification> still gets its graph checked), so feedback lists everything.
 */
export async function checkReply(reply: string, opts: CheckOptions & ParseReplyOptions): Promise<ReplyCheck> {
  const parsed = parseReply(reply, opts);
  const graph = parsed.tags.graph;
  const prompt = parsed.tags.prompt;
  if (graph === undefined || prompt === undefined || graph.text.trim() === '') {
    return { ok: false, failures: parsed.failures, reply: parsed, check: null };
  }
  const check = await checkWorkflow({ graph: graph.text, prompt: prompt.text }, opts);
  if (parsed.ok && check.ok && check.metrics !== null) {
    return {
      ok: true,
      modification: parsed.parts.modification,
      graph: check.normalizedGraph,
      writtenGraph: parsed.parts.graph,
      prompt: parsed.parts.prompt,
      metrics: check.metrics,
      failures: [],
      reply: parsed,
      check,
    };
  }
  return { ok: false, failures: [...parsed.failures, ...check.failures], reply: parsed, check };
}
