// LLaMA-Factory's dataset_info.json for the exported files: names, formatting, columns and role tags (trainer-contract.md §4).
import type { Split } from '../split.ts';

const SHAREGPT_TAGS = { role_tag: 'from', content_tag: 'value', user_tag: 'human', assistant_tag: 'gpt', system_tag: 'system' };
const MESSAGES_TAGS = { role_tag: 'role', content_tag: 'content', user_tag: 'user', assistant_tag: 'assistant', system_tag: 'system' };

type PerSplit = Partial<Record<Split, string>>;

/** The files written for each format; a split without rows has no file and is left out. */
export interface RegisteredFiles {
  sharegpt: PerSplit;
  multiTurnSharegpt: PerSplit;
  alpaca: PerSplit;
  messages: PerSplit;
  multiTurnMessages: PerSplit;
}

/**
 * Registers every LLaMA-Factory-readable file that exists under a name (`dataset: flowreasoner_sft`, `eval_dataset:
 * flowreasoner_sft_val`). The messages files are registered too, as LLaMA-Factory reads OpenAI-style lists with
 * sharegpt formatting and role/content tags. File names are relative to dataset_dir (the export folder). A name
 * whose split was empty is absent, so a config naming it fails at once with LLaMA-Factory's "undefined dataset".
 */
export function datasetInfo(f: RegisteredFiles): Record<string, unknown> {
  const sharegpt = (file: string): Record<string, unknown> => ({ file_name: file, formatting: 'sharegpt', columns: { messages: 'conversations', system: 'system' }, tags: SHAREGPT_TAGS });
  const messages = (file: string): Record<string, unknown> => ({ file_name: file, formatting: 'sharegpt', columns: { messages: 'messages' }, tags: MESSAGES_TAGS });
  const alpaca = (file: string): Record<string, unknown> => ({ file_name: file, formatting: 'alpaca', columns: { prompt: 'instruction', query: 'input', response: 'output', system: 'system' } });
  const out: Record<string, unknown> = {};
  const add = (name: string, files: PerSplit, entry: (file: string) => Record<string, unknown>): void => {
    if (files.train !== undefined) out[name] = entry(files.train);
    if (files.validation !== undefined) out[`${name}_val`] = entry(files.validation);
  };
  add('flowreasoner_sft', f.sharegpt, sharegpt);
  add('flowreasoner_sft_multiturn', f.multiTurnSharegpt, sharegpt);
  add('flowreasoner_sft_alpaca', f.alpaca, alpaca);
  add('flowreasoner_sft_messages', f.messages, messages);
  add('flowreasoner_sft_multiturn_messages', f.multiTurnMessages, messages);
  return out;
}
