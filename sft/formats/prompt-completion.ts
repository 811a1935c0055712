// TRL's conversational prompt/completion format: the loss falls on the completion only, whatever the chat template.
import type { Conversation } from '../conversation.ts';

/**
 * `{id, prompt: [system, user], completion: [assistant]}`. TRL's SFTTrainer masks the prompt of such rows by default
 * (completion_only_loss), so the student is trained on the teacher's answer alone, with no generation markers needed
 * in the chat template (trainer-contract.md §3). Single-turn samples only: a multi-turn sample has several assistant turns.
 */
export function promptCompletionRow(c: Conversation): Record<string, unknown> {
  const answer = c.messages.at(-1);
  if (answer?.role !== 'assistant' || c.messages.filter((m) => m.role === 'assistant').length !== 1) {
    throw new Error(`prompt/completion rows are single-turn (sample ${c.id})`);
  }
  return { id: c.id, prompt: c.messages.slice(0, -1).map((m) => ({ ...m })), completion: [{ ...answer }] };
}
