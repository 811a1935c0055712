// Parent selection for the next round (flowreasoner.md §2): the seed round plus the best others, drawn by a mix of uniform and score-softmax.
import type { Rng } from '../pipeline/random.ts';

export interface Candidate {
  round: number;
  score: number;
}

export interface SelectionSettings {
  /** Candidates kept: the seed round and the best others (FlowReasoner: 4). */
  candidates: number;
  /** Weight of the uniform part (λ, FlowReasoner: 0.3). */
  uniformWeight: number;
  /** Softmax temperature factor on scores in percent (α, FlowReasoner: 0.2). */
  alpha: number;
}

/** FlowReasoner's published settings, the defaults of distill.selection. */
export const FLOWREASONER_SELECTION: SelectionSettings = { candidates: 4, uniformWeight: 0.3, alpha: 0.2 };

/** The candidate set: round 1 always, then the highest-scoring other rounds (ties: the earlier round). */
export function candidateRounds(rounds: readonly Candidate[], s: SelectionSettings): Candidate[] {
  const seed = rounds.find((r) => r.round === 1);
  const others = rounds
    .filter((r) => r.round !== 1)
    .slice()
    .sort((a, b) => b.score - a.score || a.round - b.round)
    .slice(0, Math.max(0, s.candidates - (seed !== undefined ? 1 : 0)));
  return seed !== undefined ? [seed, ...others] : others;
}

/** p_i = λ/n + (1-λ)·softmax(α·(100·s_i − 100·max s)); pure, for golden tests. */
export function selectionProbabilities(cands: readonly Candidate[], s: SelectionSettings): number[] {
  const n = cands.length;
  if (n === 0) return [];
  const pct = cands.map((c) => c.score * 100);
  const max = Math.max(...pct);
  const w = pct.map((p) => Math.exp(s.alpha * (p - max)));
  const z = w.reduce((a, b) => a + b, 0);
  return w.map((x) => s.uniformWeight / n + (1 - s.uniformWeight) * (x / z));
}

export function selectParent(rounds: readonly Candidate[], s: SelectionSettings, rng: Rng): Candidate {
  const cands = candidateRounds(rounds, s);
  if (cands.length === 0) throw new Error('selectParent needs at least one scored round');
  const p = selectionProbabilities(cands, s);
  let u = rng.next();
  for (let i = 0; i < cands.length; i++) {
    u -= p[i] as number;
    if (u < 0) return cands[i] as Candidate;
  }
  return cands[cands.length - 1] as Candidate;
}
