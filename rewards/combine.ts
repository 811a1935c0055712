// Turns one sample's checks, metrics and executions into its reward and logged components; diversity is filled per group.
import type { WorkflowFailureCode } from '../pipeline/workflow/failures.ts';
import type { WorkflowMetrics } from '../pipeline/workflow/metrics.ts';
import type { RunStatus, RunTotals } from '../pipeline/workflow/runtime/run-types.ts';
import { complexityPenalty } from './complexity.ts';
import type { RewardConfig } from './config-schema.ts';
import { graphTokens, groupDiversity } from './diversity.ts';
import { efficiencyPenalty, meanUse } from './efficiency.ts';
import { formatReward } from './format.ts';
import { performanceReward } from './performance.ts';

export interface SampleRun {
  /** Hidden-test pass rate of this execution's final solution; null when the execution produced none (counts 0). */
  passRate: number | null;
  status: RunStatus;
  totals: RunTotals;
}

export interface SampleInput {
  /** Codes from parsing the reply and the static checks of its workflow; empty when it is a valid workflow. */
  failures: readonly WorkflowFailureCode[];
  /** AST metrics of the graph; required when failures is empty. */
  metrics: WorkflowMetrics | null;
  /** The graph module's source, compared for diversity ('' when the reply has none). */
  graph: string;
  /** The K executions on the hidden tests. */
  runs: readonly SampleRun[];
  /** Set by the caller when scoring failed for a reason outside the policy (e.g. the hidden-test job itself broke). */
  unscorable?: string | null;
}

export const REWARD_COMPONENTS = ['performance', 'complexity', 'efficiency', 'diversity', 'format'] as const;
export type RewardComponent = (typeof REWARD_COMPONENTS)[number];

export interface ScoredSample {
  /** The clipped weighted total; null when the sample could not be scored (see scoreSample). */
  reward: number | null;
  /** The weighted total before clipping, so logs show how often the clip bites; null with reward. */
  unclipped: number | null;
  /** Unweighted component values, all five on every sample so per-sample logs keep one shape. */
  components: Record<RewardComponent, number>;
  formatOk: boolean;
  /** The format failure's code, or why the sample is unscorable; null for a plain valid score. */
  reason: string | null;
}

const zeroComponents = (): Record<RewardComponent, number> => ({ performance: 0, complexity: 0, efficiency: 0, diversity: 0, format: 0 });

function clip(x: number, c: RewardConfig['clip']): number {
  return Math.min(c.max, Math.max(c.min, x));
}

/**
 * Why a valid sample cannot be scored, or null. A run whose sandbox failed says nothing about the workflow, and
 * scoring it 0 would teach the policy to avoid whatever the infrastructure choked on; with no run at all there is
 * nothing to score. Such samples get a null reward, which grpo/advantages.ts turns into advantage 0, left out of
 * the group statistics.
 */
function unscorableReason(input: SampleInput): string | null {
  if (input.unscorable !== undefined && input.unscorable !== null) return input.unscorable;
  if (input.runs.length === 0) return 'no-runs';
  if (input.runs.some((r) => r.status === 'sandbox-error')) return 'sandbox-error';
  return null;
}

/**
 * Reward of one sample, in three paths:
 * - invalid reply (any failure code): weights.format · formatPenalty, clipped; performance and the rest are 0.
 *   The format check comes first: such a reply never ran, so nothing else can make it unscorable.
 * - unscorable valid reply: reward null; complexity and diversity are recorded (they need no execution),
 *   performance and efficiency stay 0.
 * - valid reply: clip(Σ_c weights.c · component_c), format component 0.
 * `diversity` is this sample's value from its group (scoreGroup fills it); alone it is 0.
 * Throws TypeError when a valid reply comes without metrics (a caller bug, not a policy failure).
 */
export function scoreSample(input: SampleInput, cfg: RewardConfig, diversity = 0): ScoredSample {
  if (!(diversity >= 0 && diversity <= 1)) throw new RangeError(`diversity ${diversity} is outside [0, 1]`);
  const w = cfg.weights;
  const fmt = formatReward(input.failures, cfg.formatPenalty);
  if (!fmt.ok) {
    const components = { ...zeroComponents(), format: fmt.value };
    const total = w.format * fmt.value;
    return { reward: clip(total, cfg.clip), unclipped: total, components, formatOk: false, reason: fmt.reason };
  }
  if (input.metrics === null) throw new TypeError('a valid workflow sample needs its metrics');
  const complexity = complexityPenalty(input.metrics, cfg.complexity);
  const unscorable = unscorableReason(input);
  if (unscorable !== null) {
    return { reward: null, unclipped: null, components: { ...zeroComponents(), complexity, diversity }, formatOk: true, reason: unscorable };
  }
  const components: Record<RewardComponent, number> = {
    performance: performanceReward(input.runs.map((r) => r.passRate)),
    complexity,
    efficiency: efficiencyPenalty(meanUse(input.runs.map((r) => r.totals)), cfg.efficiency),
    diversity,
    format: 0,
  };
  let total = 0;
  for (const c of REWARD_COMPONENTS) total += w[c] * components[c];
  return { reward: clip(total, cfg.clip), unclipped: total, components, formatOk: true, reason: null };
}

/**
 * Scores the G samples of one prompt. Diversity compares each valid workflow with the other valid ones, unscorable
 * ones included: distinctness is a property of the workflow, not of whether its executions could be judged.
 */
export function scoreGroup(samples: readonly SampleInput[], cfg: RewardConfig): ScoredSample[] {
  const tokens = samples.map((s) => (s.failures.length === 0 ? graphTokens(s.graph, cfg.diversity.shingle) : null));
  const diversity = groupDiversity(tokens);
  return samples.map((s, i) => scoreSample(s, cfg, diversity[i] ?? 0));
}
