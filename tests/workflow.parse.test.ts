// Meta-agent replies as models write them: tag extraction, every typed failure with its line, AFlow compatibility, metrics.
import { afterAll, describe, expect, it } from 'vitest';
import { AnalysisClient } from '../pipeline/code-analysis/client.ts';
import { checkReply, checkWorkflow, FLOWREASONER_OPERATORS, type WorkflowCheck } from '../pipeline/workflow/check.ts';
import { formatFailure, WorkflowFailureSchema, type WorkflowFailure } from '../pipeline/workflow/failures.ts';
import { parseReply } from '../pipeline/workflow/reply.ts';
import { promptModule, WORKFLOW_LIBRARY } from '../pipeline/sim/workflow-library.ts';

const client = new AnalysisClient();
afterAll(() => client.close());

const opts = { knownOperators: FLOWREASONER_OPERATORS, client };

/** Joins lines so tests can count them: line n of the result is the n-th argument. */
const lines = (...ls: string[]): string => ls.join('\n');

const SEED_GRAPH = lines(
  'class Workflow:',
  '    def __init__(self, name, llm_config, dataset):',
  '        self.llm = create_llm_instance(llm_config)',
  '        self.custom_code_generate = operator.CustomCodeGenerate(self.llm)',
  '',
  '    async def __call__(self, problem: str, entry_point: str):',
  '        solution = await self.custom_code_generate(problem=problem, entry_point=entry_point, instruction=prompt_custom.CODE_PROMPT)',
  "        return solution['response'], self.llm.cost_manager.total_cost",
);
const SEED_PROMPT = 'CODE_PROMPT = """Write a complete, correct Python function."""';

function reply(graph: string, prompt = SEED_PROMPT, modification = 'Use a dedicated code prompt.'): string {
  return lines('<modification>', modification, '</modification>', '<graph>', graph, '</graph>', '<prompt>', prompt, '</prompt>');
}

async function check(graph: string, prompt = SEED_PROMPT): Promise<WorkflowCheck> {
  return checkWorkflow({ graph, prompt }, opts);
}

function only(failures: WorkflowFailure[]): Pick<WorkflowFailure, 'code' | 'where' | 'line' | 'col'> {
  expect(failures, failures.map(formatFailure).join('\n')).toHaveLength(1);
  const f = failures[0] as WorkflowFailure;
  expect(WorkflowFailureSchema.parse(f)).toEqual(f);
  return { code: f.code, where: f.where, line: f.line, col: f.col };
}

describe('parseReply: tags as models write them', () => {
  it('takes the three tags from a plain reply, with the reply line where each module starts', () => {
    const r = parseReply(reply(SEED_GRAPH));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.parts.graph).toBe(SEED_GRAPH);
    expect(r.parts.prompt).toBe(SEED_PROMPT);
    expect(r.parts.modification).toBe('Use a dedicated code prompt.');
    expect(r.tags.graph?.line).toBe(5);
    expect(r.tags.graph?.tagLine).toBe(4);
  });

  it('reads code fences inside tags, with prose around them, and dedents an indented block', () => {
    const text = lines(
      'Here is my plan.',
      '<modification>Add a test loop.</modification>',
      '<graph>',
      'The graph follows:',
      '```python',
      ...SEED_GRAPH.split('\n').map((l) => (l === '' ? '' : `  ${l}`)),
      '```',
      '</graph>',
      '<prompt>```python',
      SEED_PROMPT,
      '```</prompt>',
    );
    const r = parseReply(text);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.parts.graph).toBe(SEED_GRAPH);
    expect(r.parts.prompt).toBe(SEED_PROMPT);
    expect(r.tags.graph?.fenced).toBe(true);
    expect(r.tags.graph?.line).toBe(6);
  });

  it('drops a stray fence that was opened outside the tag', () => {
    const text = lines('```xml', '<modification>m</modification>', '<graph>', SEED_GRAPH, '```', '</graph>', '<prompt>', SEED_PROMPT, '</prompt>');
    const r = parseReply(text);
    expect(r.ok && r.parts.graph).toBe(SEED_GRAPH);
  });

  it('uses the LAST complete occurrence of a repeated tag', () => {
    const draft = SEED_GRAPH.replace('CODE_PROMPT', 'OLD_PROMPT');
    const text = lines(reply(draft, 'OLD_PROMPT = "x"', 'first try'), 'Wait, let me fix that.', reply(SEED_GRAPH));
    const r = parseReply(text);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.parts.graph).toBe(SEED_GRAPH);
    expect(r.parts.modification).toBe('Use a dedicated code prompt.');
    expect(r.tags.graph?.occurrences).toBe(2);
    expect(r.notes.some((n) => n.includes('2 complete <graph> blocks'))).toBe(true);
  });

  it('ignores draft tags inside <think> reasoning and reads the answer after it', () => {
    const text = lines('<think>', 'Maybe <graph>class Draft: pass</graph> would do.', '<modification>draft</modification>', '</think>', reply(SEED_GRAPH));
    const r = parseReply(text);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.parts.graph).toBe(SEED_GRAPH);
    expect(r.parts.modification).toBe('Use a dedicated code prompt.');
    expect(r.answerLine).toBe(4);
  });

  it('handles a distilled model that only emits the closing </think>', () => {
    const r = parseReply(lines('reasoning <graph>x</graph> here', '</think>', reply(SEED_GRAPH)));
    expect(r.ok && r.parts.graph).toBe(SEED_GRAPH);
  });

  it('does not take tags that appear only in the reasoning', () => {
    const r = parseReply(lines('<think>', reply(SEED_GRAPH), '</think>', 'Final answer: see above.'));
    expect(r.ok).toBe(false);
    const codes = r.failures.map((f) => f.code);
    expect(codes).toEqual(['missing-modification', 'missing-graph', 'missing-prompt']);
    expect(r.failures[1]?.message).toMatch(/only inside the reasoning/);
  });

  it('reports a truncated reply (tag never closed) as missing at the line of the opening tag', () => {
    const text = lines('<modification>m</modification>', '<graph>', SEED_GRAPH, '</graph>', '<prompt>', 'CODE_PROMPT = """Write a compl');
    const r = parseReply(text);
    expect(r.ok).toBe(false);
    expect(only(r.failures)).toEqual({ code: 'missing-prompt', where: 'reply', line: 12, col: null });
    expect(r.failures[0]?.message).toMatch(/never closed/);
  });

  it('can accept an unclosed trailing tag when asked to', () => {
    const text = lines('<modification>m</modification>', '<graph>', SEED_GRAPH, '</graph>', '<prompt>', SEED_PROMPT);
    const r = parseReply(text, { acceptUnclosed: true });
    expect(r.ok && r.parts.prompt).toBe(SEED_PROMPT);
    expect(r.tags.prompt?.unclosed).toBe(true);
  });

  it('reasoning cut off before any answer is an empty reply', () => {
    expect(only(parseReply('').failures)).toEqual({ code: 'empty-reply', where: 'reply', line: null, col: null });
    expect(only(parseReply('  \n\t\n').failures).code).toBe('empty-reply');
    expect(only(parseReply('<think>\nLet me consider <graph> options...').failures).code).toBe('empty-reply');
  });

  it('reports each missing tag, and an empty graph at its line', () => {
    const noMod = parseReply(lines('<graph>', SEED_GRAPH, '</graph>', '<prompt>', SEED_PROMPT, '</prompt>'));
    expect(only(noMod.failures)).toEqual({ code: 'missing-modification', where: 'reply', line: null, col: null });
    const noPrompt = parseReply(lines('<modification>m</modification>', '<graph>', SEED_GRAPH, '</graph>'));
    expect(only(noPrompt.failures).code).toBe('missing-prompt');
    const emptyGraph = parseReply(lines('<modification>m</modification>', 'ok', '<graph>', '', '</graph>', '<prompt></prompt>'));
    expect(only(emptyGraph.failures)).toEqual({ code: 'missing-graph', where: 'reply', line: 3, col: null });
  });

  it('accepts an empty prompt module', () => {
    const r = parseReply(lines('<modification>m</modification>', '<graph>', SEED_GRAPH, '</graph>', '<prompt>', '</prompt>'));
    expect(r.ok && r.parts.prompt).toBe('');
  });
});

describe('checkWorkflow: typed failures with their lines', () => {
  it('passes the seed workflow', async () => {
    const c = await check(SEED_GRAPH);
    expect(c.failures.map(formatFailure)).toEqual([]);
    expect(c.ok).toBe(true);
    expect(c.operatorsUsed).toEqual(['CustomCodeGenerate']);
    expect(c.promptNames).toEqual(['CODE_PROMPT']);
  });

  it('syntax-error in the graph carries Python’s line and column', async () => {
    const graph = SEED_GRAPH.replace("return solution['response']", "return solution['response'")
    const c = await check(graph);
    const f = only(c.failures);
    expect(f.code).toBe('syntax-error');
    expect(f.where).toBe('graph');
    expect(f.line).toBe(8);
    expect(f.col).toBeGreaterThan(1);
    expect(c.metrics).toBeNull();
  });

  it('syntax-error in the prompt module is reported against the prompt', async () => {
    const c = await check(SEED_GRAPH, lines('A = "ok"', 'CODE_PROMPT = """unterminated'));
    expect(only(c.failures)).toMatchObject({ code: 'syntax-error', where: 'prompt', line: 2 });
  });

  it('missing-workflow-class', async () => {
    const c = await check(SEED_GRAPH.replace('class Workflow:', 'class Graph:'));
    expect(only(c.failures)).toEqual({ code: 'missing-workflow-class', where: 'graph', line: null, col: null });
  });

  it('missing-call: no __call__, a sync __call__, or the wrong parameters', async () => {
    const none = await check(SEED_GRAPH.replace('async def __call__', 'async def run'));
    expect(only(none.failures)).toEqual({ code: 'missing-call', where: 'graph', line: 1, col: null });
    const sync = await check(SEED_GRAPH.replace('async def __call__', 'def __call__').replace('await ', ''));
    expect(only(sync.failures)).toEqual({ code: 'missing-call', where: 'graph', line: 6, col: null });
    const params = await check(SEED_GRAPH.replace('problem: str, entry_point: str', 'question'));
    expect(only(params.failures)).toMatchObject({ code: 'missing-call', line: 6 });
    const extra = await check(SEED_GRAPH.replace('entry_point: str)', 'entry_point: str, retries=2)'));
    expect(extra.ok).toBe(true);
  });

  it('unknown-operator at the operator.X reference', async () => {
    const c = await check(SEED_GRAPH.replace('operator.CustomCodeGenerate', 'operator.Programmer'));
    expect(only(c.failures)).toEqual({ code: 'unknown-operator', where: 'graph', line: 4, col: 37 });
    expect(c.failures[0]?.message).toMatch(/operator\.Programmer/);
  });

  it('undefined-prompt at the prompt_custom.X reference', async () => {
    const c = await check(SEED_GRAPH, 'OTHER_PROMPT = "x"');
    expect(only(c.failures)).toMatchObject({ code: 'undefined-prompt', where: 'graph', line: 7 });
  });

  it('forbidden-import for modules outside the allow-list, relative imports included', async () => {
    const c = await check(lines('import os', 'import json, re', 'from subprocess import run', 'from . import helpers', SEED_GRAPH));
    expect(c.failures.map((f) => [f.code, f.line])).toEqual([
      ['forbidden-import', 1],
      ['forbidden-import', 3],
      ['forbidden-import', 4],
    ]);
  });

  it('forbidden-name for dangerous builtins and reflective access, private-attribute for dunder escapes, but nothing for a local named like one', async () => {
    const graph = lines(
      SEED_GRAPH,
      '',
      'def helper(text):',
      '    data = open("/etc/passwd").read()', // 11
      '    eval(text)', // 12
      '    base = ().__class__.__base__', // 13
      '    getattr(text, "__globals__")', // 14
      '    getattr(text, text)', // 15
      '    getattr(text, "upper")', // 16: fine
      '    input = text.strip()', // 17: a local, fine
      '    return input',
    );
    const c = await check(graph);
    expect(c.failures.map((f) => [f.code, f.line, f.col])).toEqual([
      ['forbidden-name', 11, 12],
      ['forbidden-name', 12, 5],
      ['private-attribute', 13, 12],
      ['private-attribute', 13, 12],
      ['private-attribute', 14, 5],
      ['forbidden-name', 15, 5],
    ]);
  });

  it('forbidden-name for asyncio subprocess helpers', async () => {
    const graph = lines('import asyncio', SEED_GRAPH, 'async def sneaky():', '    await asyncio.create_subprocess_shell("ls")');
    const c = await check(graph);
    expect(only(c.failures)).toMatchObject({ code: 'forbidden-name', line: 11 });
  });

  it('prompt-not-constant for anything but string constants in the prompt module', async () => {
    const prompt = lines(
      '"""Prompts for round 3."""',
      'CODE_PROMPT = "Write code. " + "Be careful."',
      'import os', // 3
      'NAME = f"{os.getcwd()}"', // 4
      'LIMIT = 3', // 5
      'TEXT = "x".upper()', // 6
    );
    const c = await check(SEED_GRAPH, prompt);
    expect(c.failures.map((f) => [f.code, f.where, f.line])).toEqual([
      ['prompt-not-constant', 'prompt', 3],
      ['prompt-not-constant', 'prompt', 4],
      ['prompt-not-constant', 'prompt', 5],
      ['prompt-not-constant', 'prompt', 6],
    ]);
    expect(c.promptNames).toEqual(['CODE_PROMPT']);
  });

  it('reports several failures at once, sorted by place', async () => {
    const graph = SEED_GRAPH.replace('operator.CustomCodeGenerate', 'operator.Nope').replace('class Workflow:', 'import os\nclass Workflow:');
    const c = await check(graph, 'X = 1');
    expect(c.failures.map((f) => `${f.where}:${f.line}:${f.code}`)).toEqual([
      'graph:1:forbidden-import',
      'graph:5:unknown-operator',
      'graph:8:undefined-prompt',
      'prompt:1:prompt-not-constant',
    ]);
  });
});

describe('private attributes and modules reached through allowed modules', () => {
  const codes = (c: WorkflowCheck): Array<[string, number | null]> => c.failures.map((f) => [f.code, f.line]);

  it('private-attribute for every `_` attribute (dunders included), with its line', async () => {
    const graph = lines(
      'import re', // 1
      'import random', // 2
      SEED_GRAPH, // 3-10
      '',
      'def sneaky(x):', // 12
      '    a = re._os', // 13
      '    b = x._private', // 14
      '    c = x.__class__', // 15
      '    d = x.__init__.__globals__', // 16: __init__ is allowed, __globals__ is not
      '    e = ().__reduce__.__self__', // 17: two private attributes
      '    f = x.__builtins__', // 18
      '    g = x.__dict__', // 19
      '    h = object.__subclasses__()', // 20
      '    i = getattr(x, "_secret")', // 21
      '    j = "{0.__globals__}".format(x)', // 22: str.format reads attributes too
      '    k = "{0:{1.__mro__}}".format(x, x)', // 23: ... also in a nested field
      '    return x.__name__, x.__doc__', // 24: harmless strings, allowed
    );
    const c = await check(graph);
    expect(codes(c)).toEqual([
      ['private-attribute', 13],
      ['private-attribute', 14],
      ['private-attribute', 15],
      ['private-attribute', 16],
      ['private-attribute', 17],
      ['private-attribute', 17],
      ['private-attribute', 18],
      ['private-attribute', 19],
      ['private-attribute', 20],
      ['private-attribute', 21],
      ['private-attribute', 22],
      ['private-attribute', 23],
    ]);
    expect(c.ok).toBe(false);
    for (const f of c.failures) expect(WorkflowFailureSchema.parse(f)).toEqual(f);
    expect(c.failures.map((f) => f.message).join('\n')).toMatch(/`_os`[\s\S]*`_private`[\s\S]*`__class__`[\s\S]*`__globals__`/);
  });

  it('private-attribute and forbidden-name for names imported with `from M import name`', async () => {
    const c = await check(lines('from random import _os', 'from asyncio import create_subprocess_exec', 'from typing import get_type_hints', SEED_GRAPH));
    expect(codes(c)).toEqual([
      ['module-attribute', 1], // random._os is the os module, too
      ['private-attribute', 1],
      ['forbidden-name', 2],
      ['forbidden-name', 3],
    ]);
  });

  it('module-attribute for a module object reached through an allowed module, however it is reached', async () => {
    const graph = lines(
      'import json', // 1
      'import asyncio', // 2
      'import contextlib, enum, uuid', // 3
      'from asyncio import subprocess', // 4: asyncio.subprocess
      'from json import decoder as dec', // 5: json.decoder
      SEED_GRAPH, // 6-13
      '',
      'def reach(x):', // 15
      '    a = json.decoder', // 16
      '    b = asyncio.base_events._os', // 17: a module, then a private name
      '    c = contextlib.os.system', // 18: contextlib imports os
      '    d = enum.bltns.eval', // 19: enum imports builtins as bltns
      '    e = getattr(uuid, "os")', // 20
      '    f = dec.scanner', // 21: json.decoder.scanner, through the alias
      '    g = subprocess.subprocess.run', // 22: asyncio.subprocess.subprocess
      '    h = asyncio.tasks.events', // 23: two modules in one chain
      '    return json.dumps(x)', // 24: fine
    );
    const c = await check(graph);
    expect(c.failures.map((f) => [f.code, f.line, f.message.match(/`([\w.]+)` is a module/)?.[1]])).toEqual([
      ['module-attribute', 4, 'asyncio.subprocess'],
      ['module-attribute', 5, 'json.decoder'],
      ['module-attribute', 16, 'json.decoder'],
      ['module-attribute', 17, 'asyncio.base_events'],
      ['private-attribute', 17, undefined],
      ['module-attribute', 18, 'contextlib.os'],
      ['module-attribute', 19, 'enum.bltns'],
      ['module-attribute', 20, 'uuid.os'],
      ['module-attribute', 21, 'json.decoder.scanner'],
      ['module-attribute', 22, 'asyncio.subprocess.subprocess'],
      ['module-attribute', 23, 'asyncio.tasks'],
      ['module-attribute', 23, 'asyncio.tasks.events'],
    ]);
  });

  it('a module-attribute deep in a long chain is found without recursion trouble', async () => {
    const chain = `json.decoder${'.x'.repeat(2000)}`;
    const c = await check(lines('import json', SEED_GRAPH, `y = ${chain}`));
    expect(codes(c)).toEqual([['module-attribute', 10]]);
  });

  it('forbidden-import for a submodule the allow-list does not name, and for star imports', async () => {
    const c = await check(lines('import asyncio.subprocess', 'from json.decoder import JSONDecoder', 'from asyncio import *', 'import collections.abc', 'from collections.abc import Mapping', SEED_GRAPH));
    expect(codes(c)).toEqual([
      ['forbidden-import', 1],
      ['forbidden-import', 2],
      ['forbidden-import', 3],
    ]);
  });

  it('passes every workflow of the simulator library', async () => {
    for (const shape of WORKFLOW_LIBRARY) {
      const c = await check(shape.graph, promptModule(shape.prompts));
      expect(c.failures.map(formatFailure), shape.id).toEqual([]);
    }
  });

  it('passes legitimate code that uses allowed modules, string methods, format strings and harmless dunders', async () => {
    const graph = lines(
      'import asyncio',
      'import json',
      'import re',
      'from collections import Counter, abc',
      'import collections.abc',
      'from typing import List, Optional',
      '',
      'class Helper:',
      '    def __init__(self, n: int) -> None:',
      '        self.n = n',
      '',
      'class Workflow:',
      '    def __init__(self, name, llm_config, dataset) -> None:',
      '        self.name = name',
      '        self.llm = create_llm_instance(llm_config)',
      '        self.custom = operator.Custom(self.llm)',
      '        self.gen = operator.CustomCodeGenerate(self.llm)',
      '        self.helper = Helper(3)',
      '',
      '    async def __call__(self, problem: str, entry_point: str):',
      '        try:',
      '            plan = await asyncio.wait_for(self.custom(input=problem, instruction=prompt_custom.PLAN), timeout=60)',
      '        except asyncio.TimeoutError as e:',
      "            plan = {'response': type(e).__name__}",
      "        drafts = await asyncio.gather(*[self.gen(problem=problem, entry_point=entry_point, instruction=prompt_custom.CODE) for _ in range(self.helper.n)])",
      "        codes: List[str] = [re.sub(r'\\s+$', '', d['response']).strip() for d in drafts]",
      '        votes = Counter(codes)',
      '        best: Optional[str] = votes.most_common(1)[0][0] if votes else None',
      '        assert isinstance(votes, collections.abc.Mapping) and isinstance(votes, abc.Mapping)',
      "        note = json.dumps({'plan': plan['response'][:100]})",
      "        summary = '{0} drafts, {n} votes, {d[plan]}'.format(len(codes), n=len(votes), d=json.loads(note))",
      "        summary = f'{summary} from {self.name.upper()} ({self.__call__.__name__})'",
      "        return (best or '').replace('\\t', '    '), self.llm.cost_manager.total_cost",
    );
    const c = await check(graph, lines('PLAN = "Outline the steps."', 'CODE = "Write the function."'));
    expect(c.failures.map(formatFailure)).toEqual([]);
    expect(c.ok).toBe(true);
  });
});

describe('compatibility with graphs written by AFlow/FlowReasoner-trained models', () => {
  const HEADER = [
    'from typing import Literal',
    'import workspace.HumanEval.workflows.template.operator as operator',
    'import workspace.HumanEval.workflows.round_2.prompt as prompt_custom',
    'from metagpt.provider.llm_provider_registry import create_llm_instance',
    'from metagpt.utils.cost_manager import CostManager',
    '',
    'DatasetType = Literal["HumanEval", "MBPP", "MATH"]',
    '',
  ];
  const AFLOW_GRAPH = lines(
    ...HEADER,
    'class Workflow:',
    '    def __init__(',
    '        self,',
    '        name: str,',
    '        llm_config,',
    '        dataset: DatasetType,',
    '    ) -> None:',
    '        self.name = name',
    '        self.dataset = dataset',
    '        self.llm = create_llm_instance(llm_config)',
    '        self.llm.cost_manager = CostManager()',
    '        self.custom = operator.Custom(self.llm)',
    '        self.custom_code_generate = operator.CustomCodeGenerate(self.llm)',
    '',
    '    async def __call__(self, problem: str, entry_point: str):',
    '        """',
    '        Implementation of the workflow',
    '        """',
    '        import operator',
    '        plan = await self.custom(input=problem, instruction=prompt_custom.PLAN_PROMPT)',
    "        solution = await self.custom_code_generate(problem=problem + plan['response'], entry_point=entry_point, instruction=\"\")",
    "        return solution['response']",
  );

  it('passes, strips the provided-name imports (reported in `normalized`) and keeps every other line in place', async () => {
    const r = await checkReply(reply(AFLOW_GRAPH, 'PLAN_PROMPT = """Outline the algorithm step by step."""'), opts);
    expect(r.failures.map(formatFailure)).toEqual([]);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.check.normalized.map((n) => n.line)).toEqual([2, 3, 4, 5, 27]);
    expect(r.check.normalized[0]?.text).toBe('import workspace.HumanEval.workflows.template.operator as operator');
    const out = r.graph.split('\n');
    expect(out).toHaveLength(AFLOW_GRAPH.split('\n').length);
    expect(out[0]).toBe('from typing import Literal');
    expect(out.slice(1, 5)).toEqual(['', '', '', '']);
    expect(out[26]).toBe('        pass');
    expect(out[27]).toBe(AFLOW_GRAPH.split('\n')[27]);
    expect(r.writtenGraph).toBe(AFLOW_GRAPH);
    // `__call__` returning the bare solution (no cost) is accepted too.
    expect(r.metrics.operatorCallSites).toBe(2);
  });
});

describe('metrics of a realistic graph', () => {
  const GRAPH = lines(
    'import asyncio',
    '',
    'class Workflow:',
    '    def __init__(self, name, llm_config, dataset):',
    '        self.llm = create_llm_instance(llm_config)',
    '        self.generate = operator.CustomCodeGenerate(self.llm)',
    '        self.ensemble = operator.ScEnsemble(self.llm)',
    '        self.test = operator.Test(self.llm)',
    '        self.review = operator.Custom(self.llm)',
    '',
    '    async def __call__(self, problem, entry_point):',
    '        drafts = await asyncio.gather(*[self.generate(problem=problem, entry_point=entry_point, instruction=prompt_custom.DRAFT) for _ in range(3)])',
    '        chosen = await self.ensemble(solutions=[d["response"] for d in drafts], problem=problem)',
    '        solution = chosen["response"]',
    '        for _ in range(2):',
    '            verdict = await self.test(problem=problem, solution=solution, entry_point=entry_point)',
    '            if verdict["result"]:',
    '                return verdict["solution"], self.llm.cost_manager.total_cost',
    '            elif len(solution) > 4000:',
    '                break',
    '            else:',
    '                note = await self.review(input=solution, instruction=prompt_custom.REVIEW)',
    '                solution = note["response"] if note["response"] else solution',
    '        return solution, self.llm.cost_manager.total_cost',
  );
  const PROMPT = lines('DRAFT = "Write the function."', 'REVIEW = "Review the code and return a corrected version."');

  it('counts call sites, loops, branches, depth, lines, nodes and gather exactly', async () => {
    const c = await check(GRAPH, PROMPT);
    expect(c.failures).toEqual([]);
    expect(c.metrics).toEqual({
      operatorCallSites: 4, // generate, ensemble, test, review
      operatorInstantiations: 4,
      distinctOperators: 4,
      loops: 3, // the gather comprehension, the list comprehension, the for
      branches: 3, // if, elif, the conditional expression
      maxDepth: 2, // for > if (the elif sits beside the if)
      nonBlankLines: 22,
      astNodes: 162, // checked against an independent ast.NodeVisitor count
      gatherSites: 1,
    });
    expect(c.operatorsUsed).toEqual(['Custom', 'CustomCodeGenerate', 'ScEnsemble', 'Test']);
  });

  it('counts match cases as branches (not the catch-all) and while loops as loops', async () => {
    const graph = lines(
      SEED_GRAPH,
      '',
      'def pick(kind, n):',
      '    while n > 0:',
      '        n -= 1',
      '    match kind:',
      '        case "a":',
      '            return 1',
      '        case "b" if n:',
      '            return 2',
      '        case _:',
      '            return 3',
    );
    const c = await check(graph);
    expect(c.metrics).toMatchObject({ loops: 1, branches: 2, maxDepth: 0, operatorCallSites: 1 });
  });
});
