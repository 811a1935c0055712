// The `messages` format (OpenAI-style role/content lists): TRL SFTTrainer and verl multi-turn SFT, as JSONL and Parquet.
import type { ReasoningFormat } from '../config-schema.ts';
import type { Conversation } from '../conversation.ts';
import { list, struct, utf8, type Column } from '../../pipeline/store/parquet.ts';

/** One row: `{id, messages: [{role, content, reasoning_content?}]}` (trainer-contract.md §3 and §1 SFT). */
export function messagesRow(c: Conversation): Record<string, unknown> {
  return { id: c.id, messages: c.messages.map((m) => ({ ...m })) };
}

/**
 * The Parquet schema: messages is list<struct<role, content>>; with reasoning in a separate field the struct
 * also has a nullable reasoning_content (null on system and user turns), so every row has the same type.
 */
export function messagesColumns(format: ReasoningFormat): Column[] {
  const fields: Array<[string, ReturnType<typeof utf8>, boolean?]> = [
    ['role', utf8()],
    ['content', utf8()],
  ];
  if (format === 'separate-field') fields.push(['reasoning_content', utf8(), true]);
  return [
    { name: 'id', type: utf8() },
    { name: 'messages', type: list(struct(fields)) },
  ];
}

export function messagesParquetRow(c: Conversation, format: ReasoningFormat): Record<string, unknown> {
  return {
    id: c.id,
    messages: c.messages.map((m) => ({ role: m.role, content: m.content, ...(format === 'separate-field' ? { reasoning_content: m.reasoning_content ?? null } : {}) })),
  };
}
