// The `advantage` settings of the grpo config: which estimator, std, eps, scaling, G = 1 rule and group filter.
import { z } from 'zod';

/**
 * Every choice here is one of the conventions recorded in trainer-contract.md §8, so a run can reproduce the
 * advantages of the trainer it feeds (§10.5 "Parity settings"). The default is verl's GRPO.
 */
export const AdvantageSettingsSchema = z.strictObject({
  estimator: z
    .enum(['grpo', 'dr_grpo', 'rloo'])
    .default('grpo')
    .describe(
      'grpo = (r − group mean) / (std + eps); dr_grpo = r − group mean, never divided (Dr.GRPO, arXiv 2503.20783); rloo = r − mean of the other samples (arXiv 2402.14740). std, eps and scale apply to grpo only.',
    ),
  std: z
    .enum(['unbiased', 'population'])
    .default('unbiased')
    .describe('unbiased divides by G − 1 (verl, TRL, OpenRLHF, EasyR1); population divides by G (ART, TRL AsyncGRPO).'),
  eps: z.number().min(0).default(1e-6).describe('Added to the std before dividing: verl/EasyR1/ART 1e-6, TRL 1e-4, TRL AsyncGRPO 1e-8, OpenRLHF 1e-9.'),
  scale: z
    .enum(['group', 'batch', 'none'])
    .default('group')
    .describe('grpo only. group = divide by the group std; batch = centre on the group mean, divide by the std of every reward in the batch (TRL scale_rewards="batch"); none = centre only (TRL scale_rewards="none").'),
  singleton: z
    .enum(['zero', 'verl', 'reject'])
    .default('verl')
    .describe(
      'A group with one scored sample: verl = mean 0 and std 1, so grpo gives r/(1+eps) and dr_grpo/rloo give r; zero = advantage 0 (TRL, ART); reject = throw (OpenRLHF asserts n > 1, EasyR1 asserts too).',
    ),
  filter: z
    .enum(['dapo_nonzero_std', 'none'])
    .default('none')
    .describe('dapo_nonzero_std drops groups whose rewards are all equal (DAPO dynamic sampling, arXiv 2503.14476; verl keeps G = 1 groups); none keeps every group.'),
});

export type AdvantageSettings = z.infer<typeof AdvantageSettingsSchema>;
export type AdvantageSettingsInput = z.input<typeof AdvantageSettingsSchema>;
