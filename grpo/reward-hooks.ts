// Glue between rollout outcomes and the pure reward and advantage functions (rewards/, grpo/advantages.ts).
import { scoreGroup as scoreRewardGroup, type SampleInput } from '../rewards/combine.ts';
import type { RewardConfig } from '../rewards/config-schema.ts';
import type { WorkflowFailureCode } from '../pipeline/workflow/failures.ts';
import type { WorkflowMetrics } from '../pipeline/workflow/metrics.ts';
import { computeAdvantages, keepGroup } from './advantages.ts';
import type { AdvantageSettings } from './advantage-config.ts';
import type { SampleOutcome } from './sample.ts';
import type { ScoredSample, StepHooks } from './run-step.ts';

export function toRewardInput(o: SampleOutcome): SampleInput {
  if (o.status === 'timeout' || o.status === 'sampling-failed') {
    // The policy's text never arrived whole: no reward either way (advantage 0), counted as unscorable.
    return { failures: [], metrics: null, graph: '', runs: [], unscorable: o.status };
  }
  if (o.status === 'invalid-format') {
    return { failures: o.formatFailures as WorkflowFailureCode[], metrics: null, graph: '', runs: [] };
  }
  return { failures: [], metrics: o.metrics as unknown as WorkflowMetrics, graph: o.workflow?.graph ?? '', runs: o.hiddenRuns };
}

export function rewardHooks(rewards: RewardConfig, advantage: AdvantageSettings): StepHooks {
  return {
    scoreGroup(outcomes): ScoredSample[] {
      return scoreRewardGroup(outcomes.map(toRewardInput), rewards).map((s) => ({ reward: s.reward, components: { ...s.components } }));
    },
    keepGroup(rs) {
      return keepGroup(rs, advantage);
    },
    advantages(groups) {
      return computeAdvantages(groups, advantage).advantages.map((g) => g.map((a) => a ?? 0));
    },
  };
}
