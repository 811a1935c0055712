// The table from judged samples: which tasks it covers, pass@k and bootstrap intervals with several samples, the best
// baseline, and marks only where a paired test says there is a difference.
import { describe, expect, it } from 'vitest';
import { EvalSchema } from '../eval/config-schema.ts';
import { renderCsv, renderMarkdown } from '../eval/render-table.ts';
import { EvalResultsSchema, type EvalSample } from '../eval/results-schema.ts';
import { buildResults } from '../eval/table.ts';
import { passAtK } from '../pipeline/evaluate/pass-at-k.ts';

function sample(method: string, kind: EvalSample['methodKind'], task: number, s: number, passed: boolean): EvalSample {
  return {
    kind: 'sample',
    key: `${method}|ds:T/${task}|${s}`,
    method,
    methodKind: kind,
    dataset: 'ds',
    taskId: `T/${task}`,
    sample: s,
    workflow: null,
    rounds: [],
    chosenRound: null,
    solution: 'def f(): pass',
    passed,
    status: passed ? 'pass' : 'fail',
    result: passed ? 'passed' : 'failed: ',
    failure: null,
    promptTokens: 10,
    completionTokens: 5,
    cost: 0.001,
    operatorCalls: kind === 'direct' ? 0 : 3,
    workerCalls: 1,
    roundsUsed: kind === 'meta-agent' ? 2 : 0,
    latencyMs: 1,
    finishedAt: '2026-01-01T00:00:00Z',
  };
}

const METHODS = [
  { name: 'direct', kind: 'direct' },
  { name: 'same-as-direct', kind: 'workflow', file: 'x.txt' },
  { name: 'strong', kind: 'workflow', file: 'y.txt' },
  { name: 'meta', kind: 'meta-agent', role: 'policy' },
] as const;

function build(samplesPerTask: number, make: (method: string, task: number, s: number) => boolean, tasks = 30, drop: (s: EvalSample) => boolean = () => false) {
  const cfg = EvalSchema.parse({ datasets: [{ name: 'ds' }], methods: METHODS, samples: samplesPerTask, passAtK: [1, 2, 5], bootstrapIterations: 2000 });
  const list: EvalSample[] = [];
  for (const m of METHODS) for (let t = 0; t < tasks; t++) for (let s = 0; s < samplesPerTask; s++) list.push(sample(m.name, m.kind, t, s, make(m.name, t, s)));
  return buildResults({
    cfg,
    partition: { seed: 'p', fractions: { train: 0.7, validation: 0.1, test: 0.2 } },
    datasets: [{ key: 'ds', label: 'DS' }],
    plannedTasks: new Map([['ds', Array.from({ length: tasks }, (_, t) => `ds:T/${t}`)]]),
    samples: list.filter((s) => !drop(s)),
    exclusions: [],
    sources: new Map(),
  });
}

describe('eval table', () => {
  it('marks a difference only when the paired test rejects equality', () => {
    // direct solves the even tasks; same-as-direct solves exactly those too; strong solves all; meta solves all but 2.
    const r = EvalResultsSchema.parse(build(1, (m, t) => (m === 'direct' || m === 'same-as-direct' ? t % 2 === 0 : m === 'strong' ? true : t >= 2)));
    const vs = (m: string) => r.comparisons.find((c) => c.method === m && c.against === 'direct' && c.dataset === 'overall');
    expect(vs('same-as-direct')).toMatchObject({ onlyMethod: 0, onlyAgainst: 0, pValue: 1, significant: false });
    expect(vs('strong')).toMatchObject({ onlyMethod: 15, onlyAgainst: 0, significant: true });
    expect(vs('strong')?.pValue).toBeCloseTo(2 * 0.5 ** 15, 12);
    expect(r.bestBaseline).toBe('strong');
    // meta vs the best baseline: 2 discordant tasks cannot be significant.
    expect(r.comparisons.find((c) => c.method === 'meta' && c.role === 'vs-best-baseline' && c.dataset === 'overall')).toMatchObject({ against: 'strong', onlyMethod: 0, onlyAgainst: 2, significant: false });
    const md = renderMarkdown(r);
    expect(md).toMatch(/\| strong \| 100\.0 ▲ \[/);
    expect(md).toMatch(/\| same-as-direct \| 50\.0 \[/);
    expect(md).not.toMatch(/\| same-as-direct \| 50\.0 [▲▼]/);
    expect(md).toContain('Best baseline (highest overall pass@1 without a meta-agent): strong.');
  });

  it('uses the unbiased pass@k and a task bootstrap when there are several samples per task', () => {
    // Task t: samples s < (t % 5) pass, so c = t % 5 of n = 5.
    const r = build(5, (_m, t, s) => s < t % 5);
    const cell = r.cells.find((c) => c.method === 'direct' && c.dataset === 'overall');
    const cs = Array.from({ length: 30 }, (_, t) => t % 5);
    expect(cell?.intervalMethod).toBe('bootstrap');
    expect(cell?.passAt1).toBeCloseTo(cs.reduce((a, c) => a + c / 5, 0) / 30, 12);
    expect(cell?.passAtK['pass@2']).toBeCloseTo(cs.reduce((a, c) => a + passAtK(5, c, 2), 0) / 30, 12);
    expect(cell?.passAtK['pass@5']).toBeCloseTo(cs.filter((c) => c > 0).length / 30, 12);
    expect((cell?.interval?.low ?? 1) < (cell?.passAt1 ?? 0) && (cell?.passAt1 ?? 1) < (cell?.interval?.high ?? 0)).toBe(true);
    const cmp = r.comparisons.find((c) => c.method === 'strong' && c.against === 'direct' && c.dataset === 'overall');
    expect(cmp).toMatchObject({ test: 'paired-bootstrap', difference: 0, significant: false, onlyMethod: null });
    expect(renderMarkdown(r)).toContain('## pass@2, pass@5 (%, unbiased estimator, overall)');
    expect(renderCsv(r).split('\n')[0]).toContain('pass_at_2');
  });

  it('leaves out tasks still owed a sample for every method, and counts them', () => {
    const r = build(1, () => true, 10, (s) => s.method === 'meta' && s.taskId === 'T/3');
    expect(r.incomplete).toEqual({ missingSamples: 1, tasksDropped: 1 });
    for (const c of r.cells) expect(c.tasks).toBe(9);
    expect(renderMarkdown(r)).toContain('Incomplete: 1 tasks left out because 1 samples are still owed');
    const totals = r.methods.find((m) => m.method === 'meta');
    expect(totals?.meanRounds).toBe(2);
    expect(r.methods.find((m) => m.method === 'direct')?.meanRounds).toBeNull();
  });
});
