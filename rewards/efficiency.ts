// The efficiency component: a penalty in [−1, 0] for worker tokens, cost and wall time beyond their budget.
import type { RunTotals } from '../pipeline/workflow/runtime/run-types.ts';
import type { RewardConfig } from './config-schema.ts';

export interface ResourceUse {
  workerTokens: number;
  costUsd: number;
  wallS: number;
}

/** Mean use per execution over the K executions; failed ones count, since they spent the budget too. */
export function meanUse(totals: readonly RunTotals[]): ResourceUse {
  const n = Math.max(1, totals.length);
  let tokens = 0;
  let cost = 0;
  let wallMs = 0;
  for (const t of totals) {
    tokens += t.promptTokens + t.completionTokens;
    cost += t.cost;
    wallMs += t.wallMs;
  }
  return { workerTokens: tokens / n, costUsd: cost / n, wallS: wallMs / 1000 / n };
}

/**
 * penalty = −mean_d min(1, max(0, use_d / budget_d − 1)) over the budgeted dimensions d (0 when none is budgeted).
 *
 * The abstract names efficiency without a formula (flowreasoner.md §8). Ratios make tokens, dollars and seconds
 * comparable; only use beyond the budget is charged, and each dimension saturates at twice its budget, so one
 * runaway execution costs at most its share and the penalty stays in [−1, 0].
 */
export function efficiencyPenalty(use: ResourceUse, cfg: RewardConfig['efficiency']): number {
  let sum = 0;
  let dims = 0;
  for (const key of Object.keys(cfg.budget) as (keyof ResourceUse)[]) {
    const budget = cfg.budget[key];
    if (budget === null) continue;
    sum += Math.min(1, Math.max(0, use[key] / budget - 1));
    dims++;
  }
  return dims === 0 ? 0 : 0 - sum / dims;
}
