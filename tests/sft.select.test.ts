// sft selection and shaping on small traces built in code: thresholds, paths, duplicates, split, reasoning, percentiles.
import { describe, expect, it } from 'vitest';
import { SftSchema } from '../sft/config-schema.ts';
import { selectTraces, type Candidate } from '../sft/select.ts';
import { bestPath } from '../sft/best-path.ts';
import { roundReasoning } from '../sft/round-reasoning.ts';
import { splitOf } from '../sft/split.ts';
import { percentile, distribution } from '../sft/stats.ts';
import { singleTurnSample } from '../sft/single-turn.ts';
import { multiTurnSample } from '../sft/multi-turn.ts';
import { renderWorkflow } from '../sft/render-workflow.ts';
import { parseReply } from '../pipeline/workflow/reply.ts';
import type { RoundInput, TraceInput } from '../sft/trace-input.ts';

const cfg = SftSchema.parse({});

function round(n: number, parent: number | null, score: number | null, extra: Partial<RoundInput> = {}): RoundInput {
  const valid = score !== null;
  return {
    round: n,
    parent,
    valid,
    attempts: parent === null ? [] : [{ outcome: 'malformed', reasoning: 'draft that failed', reply: 'oops' }, { outcome: 'accepted', reasoning: `reasoning of round ${n}`, reply: '<modification>m</modification>' }],
    modification: valid ? `change ${n}` : '',
    graph: valid ? `class Workflow:\n    async def __call__(self, problem, entry_point):\n        return 'r${n}'` : '',
    prompt: valid ? `P${n} = """round ${n}"""` : '',
    score,
    feedback: score !== null && score < 1 ? [`Failing test: assert f(${n}) == ${n}`] : [],
    ...extra,
  };
}

function trace(id: string, rounds: RoundInput[], o: Partial<TraceInput> = {}): TraceInput {
  return { kind: 'trace', queryId: id, dataset: 'mbpp', taskId: id, query: `Write f for ${id}.`, entryPoint: 'f', rounds, bestRound: rounds.at(-1)!.round, seedScore: rounds[0]!.score ?? 0, bestScore: 1, hiddenScore: 1, ...o };
}

const cand = (t: TraceInput, source = 0): Candidate => ({ trace: t, source, where: `x:${t.queryId}` });

describe('sft selection', () => {
  it('follows parent links from the best round and leaves out siblings and invalid rounds', () => {
    const t = trace('a', [round(1, null, 0.5), round(2, 1, 0.5), round(3, 1, null), round(4, 2, 1)], { bestRound: 4 });
    const p = bestPath(t);
    expect(p.ok && p.rounds.map((r) => r.round)).toEqual([1, 2, 4]);
    const sel = selectTraces([cand(t)], cfg);
    expect(sel.kept).toHaveLength(1);
    expect(sel.rounds).toEqual({ total: 4, invalid: 1, onKeptPaths: 3, offPath: 1 });
    const single = singleTurnSample(sel.kept[0]!, 'train', 'think-tags');
    const answer = single.messages[2]!.content;
    // R̂ is the path's reasoning in order; the invalid and sibling rounds contribute nothing.
    expect(answer.indexOf('reasoning of round 2')).toBeLessThan(answer.indexOf('reasoning of round 4'));
    expect(answer).not.toContain('reasoning of round 3');
    expect(answer).not.toContain('draft that failed');
    const parsed = parseReply(answer);
    expect(parsed.ok && parsed.parts.graph).toBe(t.rounds[3]!.graph);
  });

  it('applies the hidden-score threshold, keepImproved and drops a best round that is the seed', () => {
    const pass = trace('pass', [round(1, null, 0), round(2, 1, 1)]);
    const other = (tag: string): Partial<RoundInput> => ({ graph: `class Workflow:\n    pass  # ${tag}` });
    const low = trace('low', [round(1, null, 0), round(2, 1, 1, other('low'))], { hiddenScore: 0.5, seedScore: 0, bestScore: 1 });
    const flat = trace('flat', [round(1, null, 1), round(2, 1, 1, other('flat'))], { hiddenScore: 0.5, seedScore: 1, bestScore: 1 });
    const seedBest = trace('seed', [round(1, null, 1), round(2, 1, 1)], { bestRound: 1 });
    const strict = selectTraces([pass, low, flat, seedBest].map((t) => cand(t)), cfg);
    expect(strict.kept.map((k) => k.trace.queryId)).toEqual(['pass']);
    expect(strict.dropped).toEqual({ 'below-hidden-threshold': 2, 'best-is-seed': 1 });
    const improved = selectTraces([pass, low, flat, seedBest].map((t) => cand(t)), { ...cfg, keepImproved: true });
    expect(improved.kept.map((k) => k.trace.queryId).sort()).toEqual(['low', 'pass']);
    const lenient = selectTraces([low].map((t) => cand(t)), { ...cfg, minHiddenScore: 0.5 });
    expect(lenient.kept).toHaveLength(1);
  });

  it('reports broken paths and rounds without an accepted reply instead of exporting them', () => {
    const broken = trace('b', [round(1, null, 0), round(3, 2, 1)], { bestRound: 3 });
    const invalidBest = trace('i', [round(1, null, 0), round(2, 1, null)], { bestRound: 2 });
    const noReply = trace('n', [round(1, null, 0), round(2, 1, 1, { attempts: [] })]);
    const sel = selectTraces([broken, invalidBest, noReply].map((t) => cand(t)), cfg);
    expect(sel.kept).toHaveLength(0);
    expect(sel.dropped).toEqual({ 'broken-path': 1, 'best-round-invalid': 1, 'missing-reply': 1 });
  });

  it('keeps one copy of a query (the best hidden score) and one query per identical final workflow', () => {
    const weak = trace('q1', [round(1, null, 0), round(2, 1, 1)], { hiddenScore: 1, bestScore: 0.9 });
    const strong = trace('q1', [round(1, null, 0), round(2, 1, 1, { graph: 'class Workflow:\n    pass  # other' })], { hiddenScore: 1, bestScore: 1 });
    const sameText = trace('q9', [round(1, null, 0), round(2, 1, 1, { graph: 'class Workflow:\n    pass  # third' })], { query: 'Write f for q1.\r\n' });
    const sameWorkflow = trace('q2', [round(1, null, 0), round(2, 1, 1)]);
    const sel = selectTraces([cand(weak, 0), cand(strong, 1), cand(sameText, 1), cand(sameWorkflow, 0)], cfg);
    expect(sel.kept.map((k) => [k.trace.queryId, k.source])).toEqual([['q1', 1], ['q2', 0]]);
    expect(sel.dropped).toEqual({ 'duplicate-query': 2 });
    // q2 shares its final workflow with the dropped weak copy only, so it stays; with q1's workflow it would go.
    const clash = selectTraces([cand(weak), cand(trace('q3', [round(1, null, 0), round(2, 1, 1)]))], cfg);
    expect(clash.dropped).toEqual({ 'duplicate-workflow': 1 });
    expect(selectTraces([cand(weak), cand(trace('q3', [round(1, null, 0), round(2, 1, 1)]))], { ...cfg, dedupeWorkflows: false }).kept).toHaveLength(2);
    expect(sel.distinctQueries.map((c) => c.trace.queryId)).toEqual(['q1', 'q2']);
  });

  it('splits by a seeded hash of the query id: stable, seed-dependent, close to the fraction', () => {
    const ids = Array.from({ length: 4000 }, (_, i) => `Mbpp/${i}`);
    const val = ids.filter((id) => splitOf(id, 0.1, 0) === 'validation');
    expect(val.length / ids.length).toBeGreaterThan(0.085);
    expect(val.length / ids.length).toBeLessThan(0.115);
    expect(ids.filter((id) => splitOf(id, 0.1, 0) === 'validation')).toEqual(val);
    expect(ids.filter((id) => splitOf(id, 0.1, 1) === 'validation')).not.toEqual(val);
    expect(ids.every((id) => splitOf(id, 0, 0) === 'train')).toBe(true);
    // A larger fraction only moves queries into validation, never back.
    expect(val.every((id) => splitOf(id, 0.3, 0) === 'validation')).toBe(true);
  });

  it('takes reasoning from the reasoning channel, else from the reply\'s <think> block, without stray think tags', () => {
    const channel = round(2, 1, 1, { attempts: [{ outcome: 'accepted', reasoning: 'plan </think> more', reply: 'x' }] });
    expect(roundReasoning(channel)).toBe('plan  more');
    const inline = round(2, 1, 1, { attempts: [{ outcome: 'accepted', reasoning: null, reply: '<think>\nweigh the options\n</think>\n<modification>m</modification>' }] });
    expect(roundReasoning(inline)).toBe('weigh the options');
    expect(roundReasoning(round(1, null, 0))).toBeNull();
  });

  it('shapes multi-turn samples as seed report, then one assistant turn per path round with public feedback between', () => {
    const t = trace('m', [round(1, null, 0), round(2, 1, 0.5), round(3, 2, 1)], { hiddenScore: 1 });
    const sel = selectTraces([cand(t)], cfg);
    for (const format of ['think-tags', 'none', 'separate-field'] as const) {
      const c = multiTurnSample(sel.kept[0]!, 'validation', format);
      expect(c.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user', 'assistant']);
      expect(c.messages[1]!.content).toContain('It scored 0.00 of 1.00');
      expect(c.messages[1]!.content).toContain('assert f(1) == 1');
      expect(c.messages[3]!.content).toContain('It scored 0.50 of 1.00');
      expect(c.messages[3]!.content).toContain('assert f(2) == 2');
      const last = c.messages[4]!;
      expect(last.content.includes('<think>')).toBe(format === 'think-tags');
      expect(last.reasoning_content).toBe(format === 'separate-field' ? 'reasoning of round 3' : undefined);
      const parsed = parseReply(last.content);
      expect(parsed.ok && parsed.parts.prompt).toBe(t.rounds[2]!.prompt);
      expect(c.rounds).toEqual([2, 3]);
    }
  });

  it('renders indented or padded modules so parseReply reads back the same text', () => {
    const r = { modification: ' m ', graph: '\n\nclass Workflow:\n    x = 1\n\n', prompt: '' };
    const p = parseReply(renderWorkflow(r));
    expect(p.ok && p.parts).toEqual({ modification: 'm', graph: 'class Workflow:\n    x = 1', prompt: '' });
  });

  it('computes nearest-rank percentiles', () => {
    const v = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(v, 50), percentile(v, 90), percentile(v, 99), percentile(v, 100)]).toEqual([50, 90, 99, 100]);
    expect(distribution([3, 1, 2])).toMatchObject({ count: 3, p50: 2, max: 3, mean: 2 });
    expect(distribution([])).toMatchObject({ count: 0, max: 0 });
  });
});
