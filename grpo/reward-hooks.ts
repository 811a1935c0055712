// Glue between rollout outcomes and the pure reward and advantage functions (rewards/, grpo/advantages.ts).
import { scoreGroup as scoreRewardGroup, type SampleInput } from '../rewards/combine.ts';
import type { RewardConfig } from '../rewards/config-schema.ts';
import type { WorkflowFailureCode } from '../pipeline/workflow/failures.ts';
import type { WorkflowMetrics } from '../pipeline/workflow/metrics.ts';
import { computeAdvantages, keepGroup } from './advantages.ts';
import type { AdvantageSettings } from './advantage-config.ts';
import type { JudgedReply } from './judge.ts';
import type { SampleReward, StepHooks } from './run-step.ts';

export function toRewardInput(o: JudgedReply): SampleInput {
  if (o.status === 'timeout' || o.status === 'sampling-failed') {
    // The policy's text never arrived whole: no reward either way (advantage 0), counted as unscorable.
    return { failures: [], metrics: null, graph: '', runs: [], unscorable: o.status };
  }
  if (o.status === 'invalid-format') {
    return { failures: o.formatFailures as WorkflowFailureCode[], metrics: null, graph: '', runs: [] };
  }
  return { failures: [], metrics: o.metrics as unknown as WorkflowMetrics, graph: o.workflow?.graph ?? '', runs: o.hiddenRuns };
}

/**
 * The one scoring function of GRPO: the samples of one prompt, judged, to rewards. The in-run step and both HTTP
 * scorers (grpo/remote-scorer.ts) call it, so run limits, unscorable samples and diversity agree on every path.
 */
export function scoreJudgedGroup(judged: readonly JudgedReply[], rewards: RewardConfig): ScoredGroupSample[] {
  return scoreRewardGroup(judged.map(toRewardInput), rewards);
}

export type ScoredGroupSample = ReturnType<typeof scoreRewardGroup>[number];

export function rewardHooks(rewards: RewardConfig, advantage: AdvantageSettings): StepHooks {
  return {
    scoreGroup(outcomes): SampleReward[] {
      return scoreJudgedGroup(outcomes, rewards).map((s) => ({ reward: s.reward, components: { ...s.components } }));
    },
    keepGroup(rs) {
      return keepGroup(rs, advantage);
    },
    advantages(groups) {
      return computeAdvantages(groups, advantage).advantages.map((g) => g.map((a) => a ?? 0));
    },
  };
}
