// Where each exported file goes inside the sft output folder (names follow trainer-contract.md §10.1's datasets/sft and datasets/rl).
import type { Split } from './split.ts';

type PerSplit = Readonly<Record<Split, string>>;

const pair = (stem: string, ext: string): PerSplit => ({ train: `train.${stem}${ext}`, validation: `val.${stem}${ext}` });

/**
 * Unsuffixed names hold the single-turn (FlowReasoner-style) shape; `multiturn` names hold one turn per round.
 * `rl/` holds the GRPO prompt set, as `datasets/rl/` does in the exchange layout.
 */
export const LAYOUT = {
  messages: pair('messages', '.jsonl'),
  messagesParquet: pair('messages', '.parquet'),
  promptCompletion: pair('prompt-completion', '.jsonl'),
  multiTurnMessages: pair('multiturn.messages', '.jsonl'),
  multiTurnMessagesParquet: pair('multiturn.messages', '.parquet'),
  sharegpt: pair('sharegpt', '.jsonl'),
  multiTurnSharegpt: pair('multiturn.sharegpt', '.jsonl'),
  alpaca: pair('alpaca', '.json'),
  verlSft: pair('verl-sft', '.parquet'),
  rl: { train: 'rl/train.parquet', validation: 'rl/val.parquet' } as PerSplit,
  datasetInfo: 'dataset_info.json',
  stats: 'stats.json',
} as const;
