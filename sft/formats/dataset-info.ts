// LLaMA-Factory's dataset_info.json for the exported files: names, formatting, columns and role tags (trainer-contract.md §4).

const SHAREGPT_TAGS = { role_tag: 'from', content_tag: 'value', user_tag: 'human', assistant_tag: 'gpt', system_tag: 'system' };
const MESSAGES_TAGS = { role_tag: 'role', content_tag: 'content', user_tag: 'user', assistant_tag: 'assistant', system_tag: 'system' };

export interface DatasetFiles {
  sharegpt: { train: string; validation: string };
  multiTurnSharegpt: { train: string; validation: string };
  alpaca: { train: string; validation: string };
  messages: { train: string; validation: string };
  multiTurnMessages: { train: string; validation: string };
}

/**
 * Registers every LLaMA-Factory-readable file under a name (`dataset: flowreasoner_sft`, `eval_dataset:
 * flowreasoner_sft_val`). The messages files are registered too, as LLaMA-Factory reads OpenAI-style lists with
 * sharegpt formatting and role/content tags. File names are relative to dataset_dir (the export folder).
 */
export function datasetInfo(f: DatasetFiles): Record<string, unknown> {
  const sharegpt = (file: string): Record<string, unknown> => ({ file_name: file, formatting: 'sharegpt', columns: { messages: 'conversations', system: 'system' }, tags: SHAREGPT_TAGS });
  const messages = (file: string): Record<string, unknown> => ({ file_name: file, formatting: 'sharegpt', columns: { messages: 'messages' }, tags: MESSAGES_TAGS });
  const alpaca = (file: string): Record<string, unknown> => ({ file_name: file, formatting: 'alpaca', columns: { prompt: 'instruction', query: 'input', response: 'output', system: 'system' } });
  return {
    flowreasoner_sft: sharegpt(f.sharegpt.train),
    flowreasoner_sft_val: sharegpt(f.sharegpt.validation),
    flowreasoner_sft_multiturn: sharegpt(f.multiTurnSharegpt.train),
    flowreasoner_sft_multiturn_val: sharegpt(f.multiTurnSharegpt.validation),
    flowreasoner_sft_alpaca: alpaca(f.alpaca.train),
    flowreasoner_sft_alpaca_val: alpaca(f.alpaca.validation),
    flowreasoner_sft_messages: messages(f.messages.train),
    flowreasoner_sft_messages_val: messages(f.messages.validation),
    flowreasoner_sft_multiturn_messages: messages(f.multiTurnMessages.train),
    flowreasoner_sft_multiturn_messages_val: messages(f.multiTurnMessages.validation),
  };
}
