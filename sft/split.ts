// The deterministic train/validation split: a seeded hash of the query id, so a query keeps its side across exports.
import { hash32 } from '../pipeline/random.ts';

export type Split = 'train' | 'validation';

/**
 * Hashing the id (not shuffling the list) keeps the split stable when traces are added or removed, and the same
 * rule serves the SFT sets and the RL prompts, so a query validated in SFT is never trained on in RL.
 */
export function splitOf(queryId: string, validationFraction: number, seed: number): Split {
  if (validationFraction <= 0) return 'train';
  return hash32('flowreasoner-sft-split', seed, queryId) / 2 ** 32 < validationFraction ? 'validation' : 'train';
}
