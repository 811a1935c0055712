// What the teacher thought in a round: the accepted reply's reasoning channel, or the <think> block inside its text.
import { answerSpan } from '../pipeline/workflow/reply.ts';
import type { RoundInput } from './trace-input.ts';

const THINK_TAG = /<\s*\/?\s*think(?:ing)?\s*>/gi;

/**
 * The reasoning behind a round's workflow, or null when the round has no accepted teacher reply (the seed).
 * Providers return R1 reasoning either as a separate channel or inline before the answer; both end up here.
 * Think tags inside the text are removed: the exported sample wraps the reasoning in its own tags, and a stray
 * `</think>` inside would end the reasoning early for every parser (ours included).
 */
export function roundReasoning(round: RoundInput): string | null {
  const accepted = round.attempts.filter((a) => a.outcome === 'accepted').at(-1);
  if (accepted === undefined) return null;
  let text = accepted.reasoning ?? '';
  if (text.trim() === '') {
    const reply = accepted.reply.replace(/\r\n?/g, '\n');
    text = reply.slice(0, answerSpan(reply).start);
  }
  return text.replace(THINK_TAG, '').trim();
}
