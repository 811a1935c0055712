// An assistant message holding a round's reasoning and workflow, in the configured reasoning format.
import type { ReasoningFormat } from './config-schema.ts';
import type { ChatMessage } from './conversation.ts';

/**
 * think-tags puts the reasoning before the answer as R1-distilled students emit it (`<think>…</think>`, then
 * the tags); none leaves it out; separate-field moves it to `reasoning_content`, the field chat templates of
 * reasoning models (Qwen3, DeepSeek) read.
 */
export function assistantTurn(reasoning: string, workflow: string, format: ReasoningFormat): ChatMessage {
  if (format === 'think-tags') return { role: 'assistant', content: `<think>\n${reasoning}\n</think>\n\n${workflow}` };
  if (format === 'separate-field') return { role: 'assistant', content: workflow, reasoning_content: reasoning };
  return { role: 'assistant', content: workflow };
}
