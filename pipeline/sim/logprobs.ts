// Made-up but well-formed log-probabilities for generated tokens, in OpenAI's logprobs.content shape.
import type { Rng } from '../random.ts';
import { tokenBytes } from './tokens.ts';

export interface TopLogprob {
  token: string;
  logprob: number;
  bytes: number[];
}

export interface LogprobEntry extends TopLogprob {
  top_logprobs: TopLogprob[];
}

// Alternatives offered in top_logprobs; any plausible pieces do, they are never sampled.
// At least 21 of them, so top_logprobs can reach the API's maximum of 20 even after dropping the sampled one.
const ALTERNATIVES = [
  ' the', ' a', '\n', ' return', '(', ')', ':', ' if', ' x', ' in', ',', ' =', ' of', ' for', '.',
  ' and', ' not', ' i', ' n', ' def', ' while', ' is', ' to',
];

/**
 * The sampled token gets a probability in (0.3, 1); the alternatives share part of the rest, so the
 * top-k probabilities never sum past 1 and are listed from most to least likely.
 */
export function logprobEntries(pieces: readonly string[], topK: number, rng: Rng): LogprobEntry[] {
  return pieces.map((token) => {
    const p = 0.3 + 0.7 * Math.sqrt(rng.next());
    const logprob = round(Math.log(p));
    const top: TopLogprob[] = [];
    if (topK > 0) {
      top.push({ token, logprob, bytes: tokenBytes(token) });
      let rest = 1 - p;
      const others = rng.shuffle(ALTERNATIVES.filter((a) => a !== token)).slice(0, topK - 1);
      for (const alt of others) {
        rest *= 0.5;
        top.push({ token: alt, logprob: round(Math.log(Math.max(rest, 1e-12))), bytes: tokenBytes(alt) });
      }
      top.sort((a, b) => b.logprob - a.logprob);
    }
    return { token, logprob, bytes: tokenBytes(token), top_logprobs: top };
  });
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
