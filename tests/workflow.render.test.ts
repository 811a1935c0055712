// Mermaid pictures of workflows: operator calls as nodes, loops as subgraphs, branches as diamonds, gather as parallel edges.
import { afterAll, describe, expect, it } from 'vitest';
import { AnalysisClient } from '../pipeline/code-analysis/client.ts';
import { checkWorkflow, FLOWREASONER_OPERATORS } from '../pipeline/workflow/check.ts';
import { renderMermaid, type FlowNode } from '../pipeline/workflow/render-mermaid.ts';

const client = new AnalysisClient();
afterAll(() => client.close());

const GRAPH = [
  'import asyncio',
  '',
  'class Workflow:',
  '    def __init__(self, name, llm_config, dataset):',
  '        self.llm = create_llm_instance(llm_config)',
  '        self.generate = operator.CustomCodeGenerate(self.llm)',
  '        self.ensemble = operator.ScEnsemble(self.llm)',
  '        self.test = operator.Test(self.llm)',
  '        self.fix = operator.Custom(self.llm)',
  '',
  '    async def __call__(self, problem, entry_point):',
  '        drafts = await asyncio.gather(*[self.generate(problem=problem, entry_point=entry_point, instruction="") for _ in range(3)])',
  '        best = await self.ensemble(solutions=[d["response"] for d in drafts], problem=problem)',
  '        solution = best["response"]',
  '        for attempt in range(3):',
  '            verdict = await self.test(problem=problem, solution=solution, entry_point=entry_point)',
  '            if verdict["result"]:',
  '                break',
  '            solution = (await self.fix(input=solution, instruction="Fix it."))["response"]',
  '        return solution, self.llm.cost_manager.total_cost',
].join('\n');

interface Parsed {
  nodes: Map<string, string>;
  edges: Array<{ from: string; to: string; label: string | null; parallel: boolean }>;
  subgraphs: Array<{ id: string; title: string; members: string[] }>;
}

/** Reads back the subset of Mermaid the renderer writes, so the test asserts structure rather than exact text. */
function parseMermaid(src: string): Parsed {
  const nodes = new Map<string, string>();
  const edges: Parsed['edges'] = [];
  const subgraphs: Parsed['subgraphs'] = [];
  const open: Parsed['subgraphs'] = [];
  const lines = src.trimEnd().split('\n');
  expect(lines[0]).toBe('flowchart TD');
  for (const raw of lines.slice(1)) {
    const line = raw.trim();
    const sub = /^subgraph (\w+) \["(.*)"\]$/.exec(line);
    if (sub !== null) {
      const s = { id: sub[1] as string, title: sub[2] as string, members: [] };
      subgraphs.push(s);
      open.push(s);
      continue;
    }
    if (line === 'end') {
      expect(open.pop()).toBeDefined();
      continue;
    }
    if (line === 'direction TB') continue;
    const edge = /^(\w+) (-->|==>)(?:\|"(.*?)"\|)? (\w+)$/.exec(line);
    if (edge !== null) {
      const [, from, arrow, label, to] = edge as unknown as [string, string, string, string | undefined, string];
      // every edge joins nodes declared before it: Mermaid would otherwise invent them (and misplace them in subgraphs)
      expect(nodes.has(from), `edge from undeclared ${from}`).toBe(true);
      expect(nodes.has(to), `edge to undeclared ${to}`).toBe(true);
      edges.push({ from, to, label: label ?? null, parallel: arrow === '==>' });
      continue;
    }
    const node = /^(\w+)(.*)$/.exec(line);
    expect(node, `unrecognised line: ${line}`).not.toBeNull();
    const [, id, shape] = node as unknown as [string, string, string];
    expect(nodes.has(id), `node ${id} declared twice`).toBe(false);
    nodes.set(id, shape);
    open[open.length - 1]?.members.push(id);
  }
  expect(open).toHaveLength(0);
  return { nodes, edges, subgraphs };
}

function reachable(p: Parsed, from: string): Set<string> {
  const seen = new Set([from]);
  const work = [from];
  while (work.length > 0) {
    const n = work.pop() as string;
    for (const e of p.edges) if (e.from === n && !seen.has(e.to)) (seen.add(e.to), work.push(e.to));
  }
  return seen;
}

const opNode = (p: Parsed, operator: string): string => {
  const hits = [...p.nodes].filter(([, shape]) => shape.startsWith(`["${operator}<br/>`));
  expect(hits, `one node for ${operator}`).toHaveLength(1);
  return (hits[0] as [string, string])[0];
};

describe('renderMermaid', () => {
  it('draws a graph with gather, a loop and a branch', async () => {
    const c = await checkWorkflow({ graph: GRAPH, prompt: '' }, { knownOperators: FLOWREASONER_OPERATORS, client });
    expect(c.ok).toBe(true);
    const src = renderMermaid(c.flow);
    const p = parseMermaid(src);

    const gen = opNode(p, 'CustomCodeGenerate');
    const ens = opNode(p, 'ScEnsemble');
    const test = opNode(p, 'Test');
    const fix = opNode(p, 'Custom');

    // gather: a fork node, a parallel edge into the generator labelled with the fan-out, parallel edges into a join
    const fork = [...p.nodes].find(([, s]) => s.startsWith('[["asyncio.gather'))?.[0] as string;
    expect(fork).toBeDefined();
    expect(p.edges).toContainEqual({ from: 'start', to: fork, label: null, parallel: false });
    expect(p.edges).toContainEqual({ from: fork, to: gen, label: 'for _ in range(3)', parallel: true });
    const join = p.edges.find((e) => e.from === gen)?.to as string;
    expect(p.nodes.get(join)).toBe('(("join"))');
    expect(p.edges.find((e) => e.from === gen)?.parallel).toBe(true);
    expect(p.edges).toContainEqual({ from: join, to: ens, label: null, parallel: false });

    // the loop is a subgraph titled by its line, holding its head and its body
    expect(p.subgraphs).toHaveLength(1);
    const loop = p.subgraphs[0] as Parsed['subgraphs'][number];
    expect(loop.title).toBe('loop (line 15)');
    const head = loop.members.find((m) => p.nodes.get(m)?.startsWith('{{')) as string;
    expect(p.nodes.get(head)).toBe('{{"for attempt in range(3)"}}');
    expect(loop.members).toEqual(expect.arrayContaining([test, fix]));
    expect(loop.members).not.toContain(ens);
    expect(p.edges).toContainEqual({ from: ens, to: head, label: null, parallel: false });
    expect(p.edges).toContainEqual({ from: head, to: test, label: 'each', parallel: false });
    expect(p.edges).toContainEqual({ from: fix, to: head, label: 'next', parallel: false }); // back edge

    // the branch is a diamond after Test: "yes" breaks out of the loop, "no" goes on to the fix
    const diamond = [...p.nodes].find(([, s]) => /^\{".*"\}$/.test(s))?.[0] as string;
    expect(p.nodes.get(diamond)).toBe(`{"verdict['result']"}`); // labels are ast.unparse text
    expect(p.edges).toContainEqual({ from: test, to: diamond, label: null, parallel: false });
    expect(p.edges).toContainEqual({ from: diamond, to: fix, label: 'no', parallel: false });
    const ret = [...p.nodes].find(([, s]) => s.startsWith('(["return'))?.[0] as string;
    expect(p.edges).toContainEqual({ from: diamond, to: ret, label: 'yes, break', parallel: false });
    expect(p.edges).toContainEqual({ from: head, to: ret, label: 'done', parallel: false });
    expect(p.edges).toContainEqual({ from: ret, to: 'done', label: null, parallel: false });

    // every operator node lies on a path from start to done
    const fromStart = reachable(p, 'start');
    for (const n of [gen, ens, test, fix, 'done']) expect(fromStart.has(n)).toBe(true);
  });

  it('inlines helper methods as subgraphs and escapes labels', () => {
    const flow: FlowNode[] = [
      {
        kind: 'call',
        label: 'self.solve()',
        line: 12,
        operator: null,
        arms: [{ label: 'solve', body: [{ kind: 'op', label: 'self.custom', line: 20, operator: 'Custom', arms: [] }, { kind: 'return', label: 'x', line: 21, operator: null, arms: [] }] }],
      },
      { kind: 'branch', label: 'a < "b" # c', line: 13, operator: null, arms: [{ label: 'yes', body: [] }, { label: 'no', body: [{ kind: 'raise', label: 'ValueError()', line: 14, operator: null, arms: [] }] }] },
    ];
    const p = parseMermaid(renderMermaid(flow));
    expect(p.subgraphs.map((s) => s.title)).toEqual(['self.solve() (line 12)']);
    const custom = opNode(p, 'Custom');
    expect(p.subgraphs[0]?.members).toContain(custom);
    const diamond = [...p.nodes].find(([, s]) => s.startsWith('{"'))?.[0] as string;
    expect(p.nodes.get(diamond)).toBe('{"a #lt; #quot;b#quot; #35; c"}');
    // the helper's return continues the workflow; the raise ends its path; "yes" falls through to done
    const helperReturn = [...p.nodes].find(([, s]) => s.startsWith('(["return x'))?.[0] as string;
    expect(p.edges).toContainEqual({ from: helperReturn, to: diamond, label: null, parallel: false });
    expect(p.edges).toContainEqual({ from: diamond, to: 'done', label: 'yes', parallel: false });
    expect(p.edges.some((e) => p.nodes.get(e.from)?.startsWith('>') === true)).toBe(false);
  });

  it('draws an empty flow as start to done', () => {
    const p = parseMermaid(renderMermaid([]));
    expect(p.edges).toEqual([{ from: 'start', to: 'done', label: null, parallel: false }]);
  });
});
