// Reward components on hand-computed examples: bounds, the format and null paths, group diversity and clipping.
import { describe, expect, it } from 'vitest';
import { scoreGroup, scoreSample, type SampleInput, type SampleRun } from '../rewards/combine.ts';
import { complexityPenalty } from '../rewards/complexity.ts';
import { RewardSchema, type RewardConfigInput } from '../rewards/config-schema.ts';
import { graphTokens, groupDiversity, multisetJaccard } from '../rewards/diversity.ts';
import { efficiencyPenalty, meanUse } from '../rewards/efficiency.ts';
import { formatReward } from '../rewards/format.ts';
import { performanceReward } from '../rewards/performance.ts';
import type { WorkflowMetrics } from '../pipeline/workflow/metrics.ts';
import type { RunTotals } from '../pipeline/workflow/runtime/run-types.ts';

const cfg = (over: RewardConfigInput = {}) => RewardSchema.parse(over);

function metrics(over: Partial<WorkflowMetrics> = {}): WorkflowMetrics {
  return { operatorCallSites: 3, operatorInstantiations: 3, distinctOperators: 2, loops: 0, branches: 1, maxDepth: 1, nonBlankLines: 25, astNodes: 200, gatherSites: 0, ...over };
}

function totals(over: Partial<RunTotals> = {}): RunTotals {
  return { operatorCalls: 3, workerCalls: 3, promptTokens: 3000, completionTokens: 1000, cost: 0.01, cacheHits: 0, wallMs: 10_000, ...over };
}

function run(passRate: number | null, over: Partial<SampleRun> = {}): SampleRun {
  return { passRate, status: passRate === null ? 'no-solution' : 'ok', totals: totals(), ...over };
}

const GRAPH_A = ['class Workflow:', '    async def __call__(self, problem, entry_point):', '        sol = await self.custom_code_generate(problem=problem)', '        return sol'].join('\n');
const GRAPH_B = ['x = 1', 'y = 2', 'z = x + y'].join('\n');

function sample(over: Partial<SampleInput> = {}): SampleInput {
  return { failures: [], metrics: metrics(), graph: GRAPH_A, runs: [run(1), run(0.5), run(null)], ...over };
}

describe('reward config', () => {
  it('defaults every field', () => {
    const c = cfg();
    expect(c.weights).toEqual({ performance: 1, complexity: 0.1, efficiency: 0.1, diversity: 0, format: 1 });
    expect(c.complexity.budget.operatorCallSites).toEqual({ max: 8, perUnit: 0.1 });
    expect(c.complexity.budget.loops).toBeNull();
    expect(c.efficiency.budget).toEqual({ workerTokens: 20_000, costUsd: 0.05, wallS: 60 });
    expect(c.formatPenalty).toBe(-1);
    expect(c.clip).toEqual({ min: -1, max: 1 });
  });
  it('rejects unknown keys, a positive format penalty and an empty clip range', () => {
    expect(RewardSchema.safeParse({ weights: { perf: 1 } }).success).toBe(false);
    expect(RewardSchema.safeParse({ complexity: { budget: { lines: { max: 1, perUnit: 1 } } } }).success).toBe(false);
    expect(RewardSchema.safeParse({ formatPenalty: 0.5 }).success).toBe(false);
    expect(RewardSchema.safeParse({ clip: { min: 1, max: 1 } }).success).toBe(false);
  });
});

describe('performance', () => {
  it('is the mean pass rate over the K runs, a run without a solution counting 0', () => {
    expect(performanceReward([1, 0.5, null])).toBeCloseTo(0.5, 15);
    expect(performanceReward([1, 1, 1])).toBe(1);
    expect(performanceReward([null, null])).toBe(0);
  });
  it('rejects an empty list and rates outside [0, 1]', () => {
    expect(() => performanceReward([])).toThrow(RangeError);
    expect(() => performanceReward([1.5])).toThrow(RangeError);
    expect(() => performanceReward([Number.NaN])).toThrow(RangeError);
  });
});

describe('complexity', () => {
  const c = cfg().complexity;
  it('is exactly 0 within budget', () => {
    expect(Object.is(complexityPenalty(metrics({ operatorCallSites: 8, maxDepth: 3, nonBlankLines: 60, loops: 99 }), c), 0)).toBe(true);
  });
  it('charges perUnit per unit beyond each budget: 2·0.1 + 2·0.25 + 10·0.01 = 0.8', () => {
    expect(complexityPenalty(metrics({ operatorCallSites: 10, maxDepth: 5, nonBlankLines: 70 }), c)).toBeCloseTo(-0.8, 12);
  });
  it('caps the penalty, and budgets any metric named in the config', () => {
    expect(complexityPenalty(metrics({ nonBlankLines: 10_000 }), c)).toBe(-1);
    expect(complexityPenalty(metrics({ nonBlankLines: 10_000 }), cfg({ complexity: { cap: 0.3 } }).complexity)).toBe(-0.3);
    const loops = cfg({ complexity: { budget: { loops: { max: 1, perUnit: 0.2 }, nonBlankLines: null } } }).complexity;
    expect(complexityPenalty(metrics({ loops: 3, nonBlankLines: 10_000 }), loops)).toBeCloseTo(-0.4, 12);
  });
});

describe('efficiency', () => {
  const c = cfg().efficiency;
  it('averages use per execution', () => {
    expect(meanUse([totals({ promptTokens: 1000, completionTokens: 1000, cost: 0.02, wallMs: 4000 }), totals({ promptTokens: 3000, completionTokens: 1000, cost: 0, wallMs: 2000 })])).toEqual({
      workerTokens: 3000,
      costUsd: 0.01,
      wallS: 3,
    });
  });
  it('is 0 within budget and −mean of capped excess ratios beyond it', () => {
    expect(efficiencyPenalty({ workerTokens: 20_000, costUsd: 0.05, wallS: 60 }, c)).toBe(0);
    // tokens 1.5× → 0.5; cost within → 0; wall 3× → capped at 1; mean = 1.5 / 3.
    expect(efficiencyPenalty({ workerTokens: 30_000, costUsd: 0.01, wallS: 180 }, c)).toBeCloseTo(-0.5, 12);
    expect(efficiencyPenalty({ workerTokens: 1e9, costUsd: 1e9, wallS: 1e9 }, c)).toBe(-1);
  });
  it('skips dimensions budgeted as null', () => {
    const noWall = cfg({ efficiency: { budget: { wallS: null } } }).efficiency;
    expect(efficiencyPenalty({ workerTokens: 30_000, costUsd: 0, wallS: 1e9 }, noWall)).toBeCloseTo(-0.25, 12);
    const none = cfg({ efficiency: { budget: { wallS: null, costUsd: null, workerTokens: null } } }).efficiency;
    expect(efficiencyPenalty({ workerTokens: 1e9, costUsd: 1e9, wallS: 1e9 }, none)).toBe(0);
  });
});

describe('format', () => {
  it('is 0 for no failures and the fixed penalty otherwise, with the root-cause code as reason', () => {
    expect(formatReward([], -1)).toEqual({ ok: true, value: 0, reason: null });
    expect(formatReward(['forbidden-import', 'syntax-error'], -1)).toEqual({ ok: false, value: -1, reason: 'syntax-error' });
    expect(formatReward(['prompt-not-constant'], -0.5)).toEqual({ ok: false, value: -0.5, reason: 'prompt-not-constant' });
  });
});

describe('diversity', () => {
  it('uses multiset Jaccard: [x,x,y] vs [x,y,z] shares 2 of 4', () => {
    expect(multisetJaccard(['x', 'x', 'y'], ['x', 'y', 'z'])).toBe(0.5);
    expect(multisetJaccard([], [])).toBe(1);
    expect(multisetJaccard(['a'], [])).toBe(0);
  });
  it('normalizes whitespace, drops blank and comment lines, and shingles', () => {
    expect(graphTokens('  a =  1\n\n# note\n\tb = 2 \n')).toEqual(['a = 1', 'b = 2']);
    expect(graphTokens('a\nb\nc', 2)).toEqual(['a\nb', 'b\nc']);
    expect(graphTokens('a', 3)).toEqual(['a']);
    expect(graphTokens('\n# only\n', 2)).toEqual([]);
  });
  it('is 0 for identical workflows, 1 for disjoint ones, 0 when alone, and follows the nearest neighbour', () => {
    const a = graphTokens(GRAPH_A);
    const b = graphTokens(GRAPH_B);
    expect(groupDiversity([a, a])).toEqual([0, 0]);
    expect(groupDiversity([a, b])).toEqual([1, 1]);
    expect(groupDiversity([a])).toEqual([0]);
    expect(groupDiversity([a, null])).toEqual([0, 0]);
    // Two clones and an outlier: the clones stay at 0.
    expect(groupDiversity([a, a, b])).toEqual([0, 0, 1]);
    expect(groupDiversity([['x', 'y'], ['x', 'z'], ['q']])).toEqual([1 - 1 / 3, 1 - 1 / 3, 1]);
  });
});

describe('scoreSample', () => {
  it('sums weighted components for a valid sample', () => {
    const s = scoreSample(sample({ metrics: metrics({ operatorCallSites: 10 }), runs: [run(1, { totals: totals({ wallMs: 90_000 }) }), run(0.5), run(null)] }), cfg());
    // performance 0.5; complexity −0.2; mean wall 110/3 s < 60 s, so efficiency 0.
    expect(s.components.performance).toBeCloseTo(0.5, 15);
    expect(s.components.complexity).toBeCloseTo(-0.2, 12);
    expect(s.components.efficiency).toBe(0);
    expect(s.components.format).toBe(0);
    expect(s.reward).toBeCloseTo(0.5 - 0.02, 12);
    expect(s.formatOk).toBe(true);
    expect(s.reason).toBeNull();
  });

  it('gives an invalid reply only the format value', () => {
    const s = scoreSample(sample({ failures: ['missing-graph'], metrics: null, runs: [] }), cfg({ weights: { format: 0.5 } }));
    expect(s).toEqual({
      reward: -0.5,
      unclipped: -0.5,
      components: { performance: 0, complexity: 0, efficiency: 0, diversity: 0, format: -1 },
      formatOk: false,
      reason: 'missing-graph',
    });
  });

  it('returns a null reward for unscorable samples: sandbox error, no runs, or a caller-given reason', () => {
    const sandbox = scoreSample(sample({ runs: [run(1), run(null, { status: 'sandbox-error' })] }), cfg());
    expect(sandbox.reward).toBeNull();
    expect(sandbox.unclipped).toBeNull();
    expect(sandbox.reason).toBe('sandbox-error');
    expect(sandbox.formatOk).toBe(true);
    expect(sandbox.components.performance).toBe(0);
    expect(scoreSample(sample({ runs: [] }), cfg()).reason).toBe('no-runs');
    expect(scoreSample(sample({ unscorable: 'hidden-tests-broken' }), cfg()).reward).toBeNull();
    // Format comes first: an invalid reply is scored even with no runs.
    expect(scoreSample(sample({ failures: ['syntax-error'], runs: [] }), cfg()).reward).toBe(-1);
  });

  it('clips the total to the configured range', () => {
    const high = scoreSample(sample({ runs: [run(1)] }), cfg({ weights: { performance: 3 } }));
    expect(high.unclipped).toBeCloseTo(3, 12);
    expect(high.reward).toBe(1);
    const low = scoreSample(sample({ failures: ['empty-reply'] }), cfg({ formatPenalty: -5 }));
    expect(low.unclipped).toBe(-5);
    expect(low.reward).toBe(-1);
    expect(scoreSample(sample({ runs: [run(1)] }), cfg({ clip: { max: 0.7 } })).reward).toBe(0.7);
  });

  it('keeps every component within its bounds', () => {
    const worst = scoreSample(
      sample({ metrics: metrics({ operatorCallSites: 1e6, maxDepth: 1e6, nonBlankLines: 1e6 }), runs: [run(0, { totals: totals({ promptTokens: 1e9, cost: 1e9, wallMs: 1e12 }) })] }),
      cfg(),
    );
    expect(worst.components).toMatchObject({ performance: 0, complexity: -1, efficiency: -1 });
    expect(worst.reward).toBeCloseTo(-0.2, 12);
  });

  it('rejects a valid sample without metrics and an out-of-range diversity', () => {
    expect(() => scoreSample(sample({ metrics: null }), cfg())).toThrow(TypeError);
    expect(() => scoreSample(sample(), cfg(), 1.5)).toThrow(RangeError);
  });
});

describe('scoreGroup', () => {
  it('fills diversity from the group and adds it with its weight', () => {
    const c = cfg({ weights: { diversity: 0.5 } });
    const same = scoreGroup([sample({ runs: [run(1)] }), sample({ runs: [run(1)] })], c);
    expect(same.map((s) => s.components.diversity)).toEqual([0, 0]);
    expect(same.map((s) => s.reward)).toEqual([1, 1]);
    const apart = scoreGroup([sample({ runs: [run(0.5)] }), sample({ graph: GRAPH_B, runs: [run(0.5)] })], c);
    expect(apart.map((s) => s.components.diversity)).toEqual([1, 1]);
    expect(apart.map((s) => s.reward)).toEqual([1, 1]);
  });

  it('compares valid workflows only, counting unscorable ones as peers', () => {
    const out = scoreGroup(
      [sample(), sample({ failures: ['syntax-error'], graph: GRAPH_B }), sample({ graph: GRAPH_A, runs: [run(null, { status: 'sandbox-error' })] })],
      cfg(),
    );
    expect(out.map((s) => s.components.diversity)).toEqual([0, 0, 0]);
    expect(out[2]?.reward).toBeNull();
    expect(scoreGroup([sample(), sample({ failures: ['syntax-error'], graph: GRAPH_B })], cfg())[0]?.components.diversity).toBe(0);
  });
});
