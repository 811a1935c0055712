// Float64 group advantages (GRPO, Dr.GRPO, RLOO with group, batch or no scaling) and the DAPO keep/drop rule.
import { PipelineError } from '../pipeline/errors.ts';
import type { AdvantageSettings } from './advantage-config.ts';

/**
 * Conventions follow trainer-contract.md §8 and are pinned by golden-advantages.json (§10.5: float64, tested
 * against the golden file). A null reward marks a sample we could not score (e.g. the sandbox failed): it gets
 * advantage 0 and is left out of every mean and std, so it neither pushes nor anchors its group.
 */
export interface AdvantageResult {
  /** Same shape as the input groups. */
  advantages: number[][];
  /** Mean and std (of the settings' kind) of every non-null reward in the call: the batch statistics, logged per step. */
  stats: { mean: number; std: number };
}

/**
 * The trainer conventions of §8 as settings. Notes on the less obvious ones:
 * - trl_none keeps the grpo estimator without scaling: it differs from verl_dr_grpo only in the G = 1 rule (TRL gives 0).
 * - openrlhf_group_norm and easyr1_grpo reject a one-sample group, as those trainers assert.
 * - art gives 0 where ART drops the group; dropping is the filter's job, not the estimator's.
 */
export const PRESETS = {
  verl_grpo: { estimator: 'grpo', std: 'unbiased', eps: 1e-6, scale: 'group', singleton: 'verl', filter: 'none' },
  verl_dr_grpo: { estimator: 'dr_grpo', std: 'unbiased', eps: 1e-6, scale: 'none', singleton: 'verl', filter: 'none' },
  verl_rloo: { estimator: 'rloo', std: 'unbiased', eps: 1e-6, scale: 'none', singleton: 'verl', filter: 'none' },
  verl_dapo: { estimator: 'grpo', std: 'unbiased', eps: 1e-6, scale: 'group', singleton: 'verl', filter: 'dapo_nonzero_std' },
  easyr1_grpo: { estimator: 'grpo', std: 'unbiased', eps: 1e-6, scale: 'group', singleton: 'reject', filter: 'none' },
  trl_group: { estimator: 'grpo', std: 'unbiased', eps: 1e-4, scale: 'group', singleton: 'zero', filter: 'none' },
  trl_none: { estimator: 'grpo', std: 'unbiased', eps: 1e-4, scale: 'none', singleton: 'zero', filter: 'none' },
  trl_batch: { estimator: 'grpo', std: 'unbiased', eps: 1e-4, scale: 'batch', singleton: 'zero', filter: 'none' },
  trl_async: { estimator: 'grpo', std: 'population', eps: 1e-8, scale: 'group', singleton: 'zero', filter: 'none' },
  openrlhf_group_norm: { estimator: 'grpo', std: 'unbiased', eps: 1e-9, scale: 'group', singleton: 'reject', filter: 'none' },
  art: { estimator: 'grpo', std: 'population', eps: 1e-6, scale: 'group', singleton: 'zero', filter: 'none' },
} as const satisfies Record<string, AdvantageSettings>;

export type PresetName = keyof typeof PRESETS;

function scoredOf(rewards: readonly (number | null)[]): number[] {
  return rewards.filter((r): r is number => r !== null);
}

function mean(values: readonly number[]): number {
  if (values.length === 0) return 0;
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

/** Unbiased (÷ n−1) or population (÷ n) std; 0 where it is undefined (n = 0, or n = 1 unbiased). */
function stdOf(values: readonly number[], mu: number, kind: AdvantageSettings['std']): number {
  const n = values.length;
  const denom = kind === 'unbiased' ? n - 1 : n;
  if (denom <= 0) return 0;
  let ss = 0;
  for (const v of values) ss += (v - mu) * (v - mu);
  return Math.sqrt(ss / denom);
}

/**
 * Exact equality rather than std > 0: the rounding in a float mean can leave a tiny nonzero std for equal rewards,
 * and an all-equal group must give exactly 0 (§8, last column) and be dropped by the DAPO filter.
 */
function allEqual(values: readonly number[]): boolean {
  return values.every((v) => v === values[0]);
}

function checkFinite(groups: readonly (readonly (number | null)[])[]): void {
  groups.forEach((g, gi) =>
    g.forEach((r, i) => {
      if (r !== null && !Number.isFinite(r)) throw new PipelineError('data-invalid', `reward ${i} of group ${gi} is ${r}; rewards must be finite numbers or null`);
    }),
  );
}

/**
 * verl's G = 1 rule sets the group's mean to 0 and its std to 1 (§8). We keep std := 1 under batch scaling too:
 * batch scaling is TRL's and has no verl counterpart, and dividing a lone reward by a batch std that may be 0 explodes.
 */
function verlSingleton(r: number, s: AdvantageSettings): number {
  return s.estimator === 'grpo' && s.scale !== 'none' ? r / (1 + s.eps) : r;
}

function groupAdvantages(rewards: readonly (number | null)[], s: AdvantageSettings, batchStd: number, index: number): number[] {
  const scored = scoredOf(rewards);
  const zeros = rewards.map(() => 0);
  if (scored.length === 0) return zeros;
  if (scored.length === 1) {
    if (s.singleton === 'zero') return zeros;
    if (s.singleton === 'reject')
      throw new PipelineError('data-invalid', `group ${index} has one scored sample, which this advantage setting rejects (as OpenRLHF and EasyR1 assert)`, {
        hint: 'Sample more than one completion per prompt, or set advantage.singleton to zero or verl.',
      });
    return rewards.map((r) => (r === null ? 0 : verlSingleton(r, s)));
  }
  if (allEqual(scored)) return zeros;
  const n = scored.length;
  let sum = 0;
  for (const r of scored) sum += r;
  const mu = sum / n;
  const advantage = (r: number): number => {
    switch (s.estimator) {
      case 'rloo':
        // Leave-one-out baseline (arXiv 2402.14740): the mean of the other n − 1 scored samples.
        return r - (sum - r) / (n - 1);
      case 'dr_grpo':
        return r - mu;
      case 'grpo':
        if (s.scale === 'none') return r - mu;
        return (r - mu) / ((s.scale === 'group' ? stdOf(scored, mu, s.std) : batchStd) + s.eps);
    }
  };
  return rewards.map((r) => (r === null ? 0 : advantage(r)));
}

/**
 * Advantages of every sample, group by group. Under scale 'batch' the std is taken over every non-null reward of the
 * groups passed in, so filter groups (keepGroup) before calling. Throws PipelineError('data-invalid') on a non-finite
 * reward, and on a group with exactly one non-null reward when settings.singleton is 'reject' (the golden file's null).
 */
export function computeAdvantages(groups: readonly (readonly (number | null)[])[], settings: AdvantageSettings): AdvantageResult {
  checkFinite(groups);
  const all = groups.flatMap(scoredOf);
  const batchMean = mean(all);
  const batchStd = stdOf(all, batchMean, settings.std);
  return {
    advantages: groups.map((g, gi) => groupAdvantages(g, settings, batchStd, gi)),
    stats: { mean: batchMean, std: batchStd },
  };
}

/**
 * DAPO dynamic sampling (arXiv 2503.14476) keeps a group only when its rewards differ, i.e. its population std is
 * above 0. verl's recipe also keeps a group with one sample (§8, golden D). Null rewards do not count; a group with
 * none scored is dropped, having nothing to learn from.
 */
export function dapoKeep(rewards: readonly (number | null)[]): boolean {
  const scored = scoredOf(rewards);
  if (scored.length === 1) return true;
  return scored.length > 1 && !allEqual(scored);
}

/** Whether a group goes to the trainer under the configured filter (§10.5: drop only when advantage.filter says so). */
export function keepGroup(rewards: readonly (number | null)[], settings: Pick<AdvantageSettings, 'filter'>): boolean {
  return settings.filter === 'none' || dapoKeep(rewards);
}
