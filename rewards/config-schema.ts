// The `reward` section of a config: component weights, complexity and efficiency budgets, format penalty, clip range.
import { z } from 'zod';
import type { WorkflowMetrics } from '../pipeline/workflow/metrics.ts';

/**
 * FlowReasoner names performance, complexity, efficiency (abstract) and diversity (Fig. 3) but publishes no formula
 * or weights (flowreasoner.md §8); every number below is our own default, kept here so runs can change it.
 */
const weight = (value: number, why: string) => z.number().min(0).default(value).describe(why);

export const RewardWeightsSchema = z.strictObject({
  performance: weight(1, 'Multiplies the hidden-test pass rate (mean over the K executions), in [0, 1].'),
  complexity: weight(0.1, 'Multiplies the complexity penalty, in [−1, 0].'),
  efficiency: weight(0.1, 'Multiplies the efficiency penalty, in [−1, 0].'),
  diversity: weight(0, 'Multiplies the group diversity bonus, in [0, 1]; 0 turns the term off (it is still logged).'),
  format: weight(1, 'Multiplies formatPenalty for a reply that does not parse or fails the static checks.'),
});

/** One budgeted metric: no penalty up to `max`, then `perUnit` per unit beyond it. */
const metricBudget = (max: number, perUnit: number) =>
  z
    .strictObject({ max: z.number().min(0), perUnit: z.number().min(0) })
    .nullable()
    .default({ max, perUnit })
    .describe('null leaves the metric unbudgeted.');
const unbudgeted = () => z.strictObject({ max: z.number().min(0), perUnit: z.number().min(0) }).nullable().default(null);

/** Keys are exactly the WorkflowMetrics fields (the `satisfies` fails to compile when they drift), so any can be budgeted. */
export const ComplexityBudgetSchema = z.strictObject({
  operatorCallSites: metricBudget(8, 0.1),
  operatorInstantiations: unbudgeted(),
  distinctOperators: unbudgeted(),
  loops: unbudgeted(),
  branches: unbudgeted(),
  maxDepth: metricBudget(3, 0.25),
  nonBlankLines: metricBudget(60, 0.01),
  astNodes: unbudgeted(),
  gatherSites: unbudgeted(),
} satisfies Record<keyof WorkflowMetrics, z.ZodType>);

export const ComplexityRewardSchema = z.strictObject({
  budget: ComplexityBudgetSchema.prefault({}),
  cap: z.number().min(0).max(1).default(1).describe('Largest penalty magnitude; the penalty stays in [−cap, 0].'),
});

const resourceBudget = (value: number, why: string) => z.number().positive().nullable().default(value).describe(`${why} null leaves it out.`);

export const EfficiencyBudgetSchema = z.strictObject({
  workerTokens: resourceBudget(20_000, 'Prompt + completion tokens of the worker model per execution.'),
  costUsd: resourceBudget(0.05, 'Worker cost in USD per execution.'),
  wallS: resourceBudget(60, 'Wall-clock seconds per execution (noisy under the response cache).'),
});

export const EfficiencyRewardSchema = z.strictObject({
  budget: EfficiencyBudgetSchema.prefault({}),
});

export const DiversityRewardSchema = z.strictObject({
  shingle: z.int().min(1).max(8).default(1).describe('Consecutive normalized graph lines per token; 1 compares the multisets of lines.'),
});

export const RewardSchema = z.strictObject({
  weights: RewardWeightsSchema.prefault({}),
  complexity: ComplexityRewardSchema.prefault({}),
  efficiency: EfficiencyRewardSchema.prefault({}),
  diversity: DiversityRewardSchema.prefault({}),
  formatPenalty: z.number().max(0).default(-1).describe('The format component of a reply that does not parse or fails the static checks (it then earns nothing else).'),
  clip: z
    .strictObject({ min: z.number().default(-1), max: z.number().default(1) })
    .prefault({})
    .refine((c) => c.min < c.max, { message: 'clip.min must be below clip.max' })
    .describe('The weighted total is clipped to [min, max].'),
});

export type RewardConfig = z.infer<typeof RewardSchema>;
export type RewardConfigInput = z.input<typeof RewardSchema>;
export type ComplexityBudget = z.infer<typeof ComplexityBudgetSchema>;
export type EfficiencyBudget = z.infer<typeof EfficiencyBudgetSchema>;
