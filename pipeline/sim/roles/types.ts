// What every simulated role receives and produces, so the server can treat roles alike.
import type { Rng } from '../../random.ts';
import type { PromptMessage } from '../tokens.ts';
import type { TaskIndex } from '../task-index.ts';

export interface RoleInput {
  messages: readonly PromptMessage[];
  tasks: TaskIndex;
  /** Probability that a worker answers with the reference solution. */
  accuracy: number;
  /** Seeded per (server seed, sample hash, choice index): the only source of variation. */
  rng: Rng;
}

/** A reply before it is rendered into a reasoning channel, tokenised and possibly truncated. */
export interface Draft {
  reasoning: string;
  content: string;
}

/** The user turns joined (all turns when there is none): what a role reads to find the query or task. */
export function userText(messages: readonly PromptMessage[]): string {
  const users = messages.filter((m) => m.role === 'user');
  return (users.length > 0 ? users : messages).map((m) => m.text).join('\n\n');
}

export function lastUserText(messages: readonly PromptMessage[]): string {
  return messages.findLast((m) => m.role === 'user')?.text ?? '';
}
