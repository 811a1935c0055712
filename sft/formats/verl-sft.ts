// verl's single-turn SFT Parquet: plain-string prompt and response columns, named as its SFT config defaults expect.
import type { ReasoningFormat } from '../config-schema.ts';
import type { Conversation } from '../conversation.ts';
import { utf8, type Column } from '../../pipeline/store/parquet.ts';

/**
 * verl's SFTDataset reads `data.prompt_key` (default `question`) and `data.response_key` (default `answer`) as
 * strings, wraps the prompt in a single user message and applies the chat template (trainer-contract.md §1). It
 * has no system turn, so the system text leads the question, separated by a blank line.
 */
export function verlSftColumns(format: ReasoningFormat): Column[] {
  return [
    { name: 'id', type: utf8() },
    { name: 'question', type: utf8() },
    { name: 'answer', type: utf8() },
    ...(format === 'separate-field' ? [{ name: 'reasoning_content', type: utf8() }] : []),
  ];
}

export function verlSftRow(c: Conversation): Record<string, unknown> {
  const system = c.messages.find((m) => m.role === 'system')?.content ?? '';
  const user = c.messages.find((m) => m.role === 'user')?.content ?? '';
  const answer = c.messages.at(-1);
  if (c.messages.length !== 3 || answer?.role !== 'assistant') throw new Error(`verl single-turn rows are single-turn (sample ${c.id})`);
  return { id: c.id, question: `${system}\n\n${user}`, answer: answer.content, ...(answer.reasoning_content !== undefined ? { reasoning_content: answer.reasoning_content } : {}) };
}
