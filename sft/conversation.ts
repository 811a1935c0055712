// One exported sample in neutral form (messages with roles), before it is written in each trainer's format.
import type { Split } from './split.ts';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
  /** Only with reasoningFormat separate-field, only on assistant messages. */
  reasoning_content?: string;
}

export interface Conversation {
  /** Stable sample id: `<queryId>` (the query id is unique after de-duplication). */
  id: string;
  queryId: string;
  dataset: string;
  taskId: string;
  split: Split;
  /** system, then user/assistant turns alternating, ending on the assistant. */
  messages: ChatMessage[];
  /** The rounds each assistant message came from, in order (for tracing a sample back to traces.jsonl). */
  rounds: number[];
}
