// LLaMA-Factory's Alpaca format for single-turn samples: instruction (the task), empty input, output, system (trainer-contract.md §4).
import type { Conversation } from '../conversation.ts';

/** The task goes in `instruction`, not `input`: LLaMA-Factory joins them with a newline, and an empty input adds nothing. */
export function alpacaRow(c: Conversation): Record<string, unknown> {
  const system = c.messages.find((m) => m.role === 'system')?.content ?? '';
  const user = c.messages.find((m) => m.role === 'user')?.content ?? '';
  const answer = c.messages.at(-1);
  if (c.messages.length !== 3 || answer?.role !== 'assistant') throw new Error(`alpaca rows are single-turn (sample ${c.id})`);
  return { id: c.id, instruction: user, input: '', output: answer.content, system, ...(answer.reasoning_content !== undefined ? { reasoning_content: answer.reasoning_content } : {}) };
}
