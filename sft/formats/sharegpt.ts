// LLaMA-Factory's ShareGPT format: human/gpt turns under `conversations`, the system text beside them (trainer-contract.md §4).
import type { Conversation } from '../conversation.ts';

const FROM = { user: 'human', assistant: 'gpt' } as const;

/**
 * `{id, system, conversations: [{from, value}]}`: human turns at odd positions, gpt at even ones, ending on gpt,
 * which LLaMA-Factory requires. A separate reasoning field rides on the gpt turn as `reasoning_content`, which
 * LLaMA-Factory does not read: use think-tags to train on reasoning there.
 */
export function sharegptRow(c: Conversation): Record<string, unknown> {
  const system = c.messages.find((m) => m.role === 'system')?.content ?? '';
  const conversations = c.messages
    .filter((m) => m.role !== 'system')
    .map((m) => ({ from: FROM[m.role as 'user' | 'assistant'], value: m.content, ...(m.reasoning_content !== undefined ? { reasoning_content: m.reasoning_content } : {}) }));
  return { id: c.id, system, conversations };
}
