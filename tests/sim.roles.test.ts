// The simulator's roles: worker answers from real benchmark references, selector letters, meta-agent workflows.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import path from 'node:path';
import OpenAI from 'openai';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../pipeline/random.ts';
import { mutateProgram } from '../pipeline/sim/mutate.ts';
import { breakReply, MALFORMATIONS } from '../pipeline/sim/roles/malformed-workflow.ts';
import { parseCandidates } from '../pipeline/sim/roles/selector.ts';
import { stubProgram } from '../pipeline/sim/roles/worker.ts';
import { startSimServer, type SimServer } from '../pipeline/sim/server.ts';
import type { SimOptionsInput } from '../pipeline/sim/options.ts';
import { mbppEntryPoint, TaskIndex } from '../pipeline/sim/task-index.ts';
import { graphSignature, promptModule, WORKFLOW_LIBRARY, type WorkflowParts } from '../pipeline/sim/workflow-library.ts';
import { assignedNames, fencedCode, parseAll, parsesAsPython, tag, TINY_TASKS, tinyIndex } from './sim.fixtures.ts';
import { sharedDatasets } from './helpers/tmp.ts';

interface HumanEvalRow {
  task_id: string;
  prompt: string;
  canonical_solution: string;
  entry_point: string;
}

async function readHumanEval(): Promise<HumanEvalRow[]> {
  const rows: HumanEvalRow[] = [];
  const lines = createInterface({ input: createReadStream(path.join(sharedDatasets, 'HumanEval.jsonl.gz')).pipe(createGunzip()) });
  for await (const line of lines) if (line.trim()) rows.push(JSON.parse(line) as HumanEvalRow);
  return rows;
}

const servers: SimServer[] = [];
async function sim(opts: SimOptionsInput, tasks?: TaskIndex): Promise<SimServer> {
  const s = await startSimServer({ port: 0, ...opts }, tasks ? { tasks } : {});
  servers.push(s);
  return s;
}
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function reply(s: SimServer, model: string, text: string, extra: Record<string, unknown> = {}) {
  const c = new OpenAI({ baseURL: s.url, apiKey: 'sim', maxRetries: 0 });
  const r = await c.chat.completions.create({ model, messages: [{ role: 'user', content: text }], ...extra } as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming);
  // reasoning_content is a DeepSeek/vLLM field the typed message does not declare.
  const message = r.choices[0]!.message as OpenAI.Chat.ChatCompletionMessage & { reasoning_content?: string };
  return { content: message.content ?? '', reasoning: message.reasoning_content ?? '', all: r.choices.map((ch) => ch.message.content ?? '') };
}

let real: TaskIndex;
let humanEval: HumanEvalRow[];
beforeAll(async () => {
  [real, humanEval] = await Promise.all([TaskIndex.fromDataDir(sharedDatasets), readHumanEval()]);
});

describe('task index', () => {
  it('loads HumanEval and MBPP from the data dir, and tolerates a dir without them', async () => {
    expect(real.size).toBe(164 + 974);
    expect(real.find(`Complete this:\n${humanEval[0]!.prompt}`)?.id).toBe('HumanEval/0');
    expect(real.find('Write a function to find the minimum cost path to reach (m, n) from (0, 0) for the given cost matrix cost[][] and a position (m, n) in cost[][].\nassert min_cost([[1, 2, 3]], 0, 0) == 1')?.id).toBe('Mbpp/1');
    expect((await TaskIndex.fromDataDir(path.join(sharedDatasets, 'no-such-dir'))).size).toBe(0);
  });

  it('tells tasks with the same entry point apart by their text, and ignores a bare call', () => {
    const index = tinyIndex();
    expect(index.size).toBe(3);
    expect(index.find(`Solve it.\n${TINY_TASKS[1]!.prompt}\nUse count_vowels(s).`)?.id).toBe('Tiny/1');
    expect(index.find(`Here:\n${TINY_TASKS[0]!.prompt.replace(/\n {4}/g, '\n\t')}`)?.id).toBe('Tiny/0');
    expect(index.find('def is_sorted(values):')?.id).toBe('Tiny/2');
    expect(index.find('print(is_sorted([1, 2]))')).toBeUndefined();
    expect(index.find('nothing to see')).toBeUndefined();
  });

  it('takes the MBPP entry point from the first function the first assert calls that the code defines', () => {
    expect(mbppEntryPoint('def helper(x):\n  return x\ndef area(a, b):\n  return helper(a) * b', 'assert math.isclose(area(2, 3), 6)')).toBe('area');
  });
});

describe('worker', () => {
  it('answers a known HumanEval task with the exact reference program at accuracy 1', async () => {
    const s = await sim({ worker: { accuracy: 1 }, dataDir: sharedDatasets });
    for (const row of [humanEval[0]!, humanEval[53]!, humanEval[163]!]) {
      const { content } = await reply(s, 'sim-worker', `Complete the function below.\n\n${row.prompt}`);
      expect(fencedCode(content)).toBe((row.prompt + row.canonical_solution).trimEnd());
    }
  });

  it('answers with a different but parseable program at accuracy 0', async () => {
    const s = await sim({ worker: { accuracy: 0 } }, real);
    const programs: string[] = [];
    for (const row of humanEval.slice(0, 12)) {
      const code = fencedCode((await reply(s, 'sim-worker', row.prompt)).content);
      expect(code).toBeDefined();
      expect(code).not.toBe((row.prompt + row.canonical_solution).trimEnd());
      programs.push(code!);
    }
    expect(parseAll(programs).every(Boolean)).toBe(true);
  });

  it('works from a tiny in-code index too, and mixes right and wrong at accuracy 0.5 over n samples', async () => {
    const s = await sim({ worker: { accuracy: 0.5 } }, tinyIndex());
    const { all } = await reply(s, 'sim-worker', TINY_TASKS[2]!.prompt, { n: 16 });
    const right = all.filter((c) => fencedCode(c) === TINY_TASKS[2]!.solution.trimEnd()).length;
    expect(right).toBeGreaterThan(0);
    expect(right).toBeLessThan(16);
  });

  it('mutates every HumanEval reference into a different program that still parses', () => {
    const mutated: string[] = [];
    for (const [i, row] of humanEval.entries()) {
      const reference = row.prompt + row.canonical_solution;
      for (const seed of [0, 1]) {
        const m = mutateProgram(reference, new Rng('mutate-test', i, seed), row.entry_point);
        expect(m).not.toBe(reference);
        mutated.push(m);
      }
    }
    expect(parseAll(mutated).every(Boolean)).toBe(true);
  });

  it('mutates every MBPP reference into a different program that still parses', async () => {
    const rows: Array<{ code: string }> = [];
    const lines = createInterface({ input: createReadStream(path.join(sharedDatasets, 'mbpp.jsonl')) });
    for await (const line of lines) if (line.trim()) rows.push(JSON.parse(line) as { code: string });
    const mutated = rows.map((r, i) => {
      const code = r.code.replace(/\r\n/g, '\n');
      const m = mutateProgram(code, new Rng('mbpp-mutate', i));
      expect(m).not.toBe(code);
      return m;
    });
    const ok = parseAll(mutated);
    expect(ok.filter((x) => !x)).toHaveLength(0);
  });

  it('never mutates inside strings or comments', () => {
    const src = 'def f(x):\n    """x < 1 is True"""\n    # x == 2\n    s = "a > b"\n    return x\n';
    const mutated = Array.from({ length: 10 }, (_, i) => mutateProgram(src, new Rng('strings', i), 'f'));
    for (const m of mutated) {
      expect(m).toContain('"""x < 1 is True"""');
      expect(m).toContain('# x == 2');
      expect(m).toContain('"a > b"');
      // Only the return value is code that can change here.
      expect(m).toMatch(/\n {4}return (0|None|False|\[\]|'')\n$/);
    }
    expect(parseAll(mutated).every(Boolean)).toBe(true);
  });

  it('stubs an unknown task with the signature it finds, or a trivial program', async () => {
    const s = await sim({}, tinyIndex());
    const { content } = await reply(s, 'sim-worker', 'Implement def frobnicate(items: List[int], k: int = 3) -> int: please');
    const code = fencedCode(content)!;
    expect(code).toMatch(/^def frobnicate\(items, k\):/);
    expect(parsesAsPython(code)).toBe(true);
    expect(stubProgram('no function here')).toMatch(/^def solve\(/);
  });
});

describe('selector', () => {
  const task = TINY_TASKS[2]!;
  const wrong = task.solution.replace('<=', '<');
  const question = (cands: string[]) =>
    `Question:\n${task.prompt}\nCandidate solutions:\n${cands.map((c, i) => `${String.fromCharCode(65 + i)}: \n${c}\n\n`).join('')}\nPick the most consistent one. Reply with the letter only inside <solution_letter>.`;

  const otherWrong = task.solution.replace('<=', '>=');
  const right = `\`\`\`python\n${task.solution.replace(/\n/g, '\n\n')}\`\`\``;

  it('recognises the reference among tied candidates as often as its accuracy, whitespace aside', async () => {
    const sure = await sim({ worker: { accuracy: 1 } }, tinyIndex());
    expect((await reply(sure, 'sim-worker', question([wrong, otherWrong, right]))).content).toMatch(/^<thought>[\s\S]+<\/thought>\n<solution_letter>C<\/solution_letter>$/);
    const blind = await sim({ worker: { accuracy: 0 } }, tinyIndex());
    expect(tag((await reply(blind, 'sim-worker', question([wrong, otherWrong, right]))).content, 'solution_letter')).toBe('A');
    const half = await sim({ worker: { accuracy: 0.5 } }, tinyIndex());
    const letters = await Promise.all(Array.from({ length: 40 }, (_, seed) => reply(half, 'sim-worker', question([wrong, otherWrong, right]), { seed })));
    const picks = letters.map((r) => tag(r.content, 'solution_letter'));
    expect(new Set(picks)).toEqual(new Set(['A', 'C']));
  });

  it('is self-consistency, not an oracle: two agreeing wrong drafts outvote the right one', async () => {
    const sure = await sim({ worker: { accuracy: 1 } }, tinyIndex());
    expect(tag((await reply(sure, 'sim-worker', question([right, wrong, wrong]))).content, 'solution_letter')).toBe('B');
    expect(tag((await reply(sure, 'sim-worker', question([wrong, right, otherWrong, right]))).content, 'solution_letter')).toBe('B');
  });

  it('falls back to the most frequent candidate for an unknown task, else A', async () => {
    const s = await sim({}, new TaskIndex());
    expect(tag((await reply(s, 'sim-worker', question(['x = 1', 'y = 2', 'y  =  2']))).content, 'solution_letter')).toBe('B');
    expect(tag((await reply(s, 'sim-worker', question(['x = 1', 'y = 2', 'z = 3']))).content, 'solution_letter')).toBe('A');
  });

  it('keeps the closing instruction out of the last candidate, and needs the word "letter"', () => {
    const cands = parseCandidates('A: one\nB: two\n\nAnswer with a single letter.');
    expect(cands).toEqual([
      { letter: 'A', text: 'one' },
      { letter: 'B', text: 'two' },
    ]);
    expect(parseCandidates('A: x\nC: not next\nB: y').map((c) => c.letter)).toEqual(['A', 'B']);
  });

  it('is not triggered without the word letter', async () => {
    const s = await sim({ worker: { accuracy: 1 } }, tinyIndex());
    const text = question([wrong, task.solution]).replace(/letter/g, 'option');
    expect((await reply(s, 'sim-worker', text)).content).toContain('```python');
  });
});

describe('reviewer', () => {
  const task = TINY_TASKS[2]!;
  const ask = (solution: string) => `Problem:\n${task.prompt}\nSolution:\n${solution}\nAnswer with <review_result>true or false</review_result> and <feedback>.`;
  const verdict = async (s: SimServer, solution: string, seed: number) => tag((await reply(s, 'sim-worker', ask(solution), { seed })).content, 'review_result');

  it('always approves the reference, and catches a wrong solution only as often as its accuracy', async () => {
    const wrong = task.solution.replace('<=', '<');
    const sure = await sim({ worker: { accuracy: 1 } }, tinyIndex());
    const blind = await sim({ worker: { accuracy: 0 } }, tinyIndex());
    const half = await sim({ worker: { accuracy: 0.5 } }, tinyIndex());
    expect(await verdict(sure, wrong, 0)).toBe('false');
    expect(await verdict(blind, wrong, 0)).toBe('true');
    const seeds = Array.from({ length: 40 }, (_, i) => i);
    for (const s of [sure, blind, half]) for (const seed of seeds.slice(0, 5)) expect(await verdict(s, task.solution, seed)).toBe('true');
    const halfVerdicts = await Promise.all(seeds.map((seed) => verdict(half, wrong, seed)));
    expect(new Set(halfVerdicts)).toEqual(new Set(['true', 'false']));
  });
});

describe('meta-agent', () => {
  it('every graph in the library parses, uses only known operators, and defines every prompt it references', () => {
    const known = new Set(['Custom', 'CustomCodeGenerate', 'ScEnsemble', 'Test', 'Review', 'Revise']);
    expect(WORKFLOW_LIBRARY.length).toBeGreaterThanOrEqual(5);
    expect(new Set(WORKFLOW_LIBRARY.map((s) => graphSignature(s.graph))).size).toBe(WORKFLOW_LIBRARY.length);
    const definedPerShape = assignedNames(WORKFLOW_LIBRARY.map((shape) => promptModule(shape.prompts)));
    for (const [i, shape] of WORKFLOW_LIBRARY.entries()) {
      expect(parsesAsPython(shape.graph), shape.id).toBe(true);
      expect(shape.graph).toMatch(/def __init__\(self, name: str, llm_config, dataset\) -> None:/);
      expect(shape.graph).toMatch(/self\.llm = create_llm_instance\(llm_config\)/);
      expect(shape.graph).toMatch(/async def __call__\(self, problem: str, entry_point: str\):/);
      expect(shape.graph).toMatch(/return .*, self\.llm\.cost_manager\.total_cost/);
      for (const m of shape.graph.matchAll(/operator\.(\w+)\(/g)) expect(known.has(m[1]!), m[1]).toBe(true);
      const defined = new Set(definedPerShape[i]);
      const referenced = [...shape.graph.matchAll(/prompt_custom\.(\w+)/g)].map((m) => m[1]!);
      expect(referenced.length).toBeGreaterThan(0);
      for (const name of referenced) expect(defined.has(name), `${shape.id}: ${name}`).toBe(true);
    }
  });

  it('reasons about the entry point, then answers with modification, graph and prompt', async () => {
    const s = await sim({}, real);
    const row = humanEval[12]!;
    const { content, reasoning } = await reply(s, 'deepseek-r1', `Optimise a workflow for this query:\n${row.prompt}`);
    expect(reasoning).toContain(row.entry_point);
    expect(reasoning.split('. ').length).toBeGreaterThanOrEqual(3);
    const graph = tag(content, 'graph');
    expect(tag(content, 'modification')).toBeTruthy();
    expect(graph).toMatch(/^(import asyncio\n+)?class Workflow:/);
    expect(parsesAsPython(graph!)).toBe(true);
    const defined = new Set(assignedNames([tag(content, 'prompt')!])[0]);
    for (const m of graph!.matchAll(/prompt_custom\.(\w+)/g)) expect(defined.has(m[1]!)).toBe(true);
  });

  it('proposes a design different from the parent workflow it is shown', async () => {
    const s = await sim({}, tinyIndex());
    for (const parent of WORKFLOW_LIBRARY) {
      const prompt = `Here is the current graph:\n<graph>\n${parent.graph}</graph>\nIts score was 0.5. Improve it for:\n${TINY_TASKS[2]!.prompt}`;
      for (let seed = 0; seed < 3; seed++) {
        const { content } = await reply(s, 'sim-teacher', prompt, { seed });
        expect(graphSignature(tag(content, 'graph')!)).not.toBe(graphSignature(parent.graph));
      }
    }
  });

  it('breaks a workflow reply in each of the four ways on request', () => {
    const shape = WORKFLOW_LIBRARY[2]!;
    const parts: WorkflowParts = { modification: shape.modification, graph: shape.graph, prompt: promptModule(shape.prompts) };
    const defined = new Set(Object.keys(shape.prompts));
    const broken = Object.fromEntries(MALFORMATIONS.map((k) => [k, breakReply(parts, k)]));
    expect(broken['missing-graph-tag']).not.toContain('<graph>');
    expect(broken['missing-graph-tag']).toContain('<prompt>');
    expect(parsesAsPython(tag(broken['python-syntax-error']!, 'graph')!)).toBe(false);
    const unknownOp = tag(broken['unknown-operator']!, 'graph')!;
    expect(unknownOp).toContain('operator.Telepathy(self.llm)');
    expect(parsesAsPython(unknownOp)).toBe(true);
    const undefinedPrompt = tag(broken['undefined-prompt']!, 'graph')!;
    expect([...undefinedPrompt.matchAll(/prompt_custom\.(\w+)/g)].some((m) => !defined.has(m[1]!))).toBe(true);
    expect(parsesAsPython(undefinedPrompt)).toBe(true);
  });
});
