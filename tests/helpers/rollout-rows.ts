// Synthetic grpo-exchange/v1 rollout rows for the exchange and consumer tests: each test gives what it checks (ids,
// mask, logprobs, reward, advantage, versions) and gets the rest of a valid single-segment, single-turn row.
import type { RolloutRowInput } from '../../grpo/exchange/schema.ts';

type Given = Pick<RolloutRowInput, 'group_id' | 'group_size' | 'sample_idx' | 'prompt_uid' | 'input_ids' | 'loss_mask' | 'logprobs' | 'reward' | 'advantage' | 'policy_version_start' | 'policy_version_end'>;

export function rolloutRow(given: Given & Partial<RolloutRowInput>): RolloutRowInput {
  return {
    segment_idx: 0,
    data_source: 'bigcodebench',
    prompt_len: 3,
    reward_components: { performance: given.reward ?? 0, complexity: 0, efficiency: 0, diversity: 0, format: 0 },
    served_model: 'policy',
    finish_reason: 'stop',
    truncated: false,
    num_turns: 1,
    messages_json: '[]',
    tools_json: null,
    sampling_json: '{}',
    metrics_json: '{}',
    ...given,
  };
}
