// The complexity component: a penalty in [−cap, 0] for AST metrics beyond their budget, 0 within it.
import type { WorkflowMetrics } from '../pipeline/workflow/metrics.ts';
import type { ComplexityBudget, RewardConfig } from './config-schema.ts';

/**
 * penalty = −min(cap, Σ_m perUnit_m · max(0, metric_m − max_m)) over the budgeted metrics.
 *
 * The paper names an "AST complexity" term without a formula (flowreasoner.md §8). We charge only the excess
 * so that a workflow which needs a few operators pays nothing for them: the term should stop bloat, not push the
 * policy toward the bare one-call workflow. Per-metric rates let a unit of depth cost more than a line. The cap
 * keeps complexity from outweighing correctness (performance lives in [0, 1]).
 */
export function complexityPenalty(metrics: WorkflowMetrics, cfg: RewardConfig['complexity']): number {
  let excess = 0;
  for (const key of Object.keys(cfg.budget) as (keyof ComplexityBudget)[]) {
    const b = cfg.budget[key];
    if (b === null) continue;
    excess += b.perUnit * Math.max(0, metrics[key] - b.max);
  }
  // `0 - x` rather than `-x` so that no excess gives +0, not −0, in logs and equality checks.
  return 0 - Math.min(cfg.cap, excess);
}
