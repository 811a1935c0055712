// The chain of rounds from the seed to the best round (each round modified its parent), or why there is none.
import type { RoundInput, TraceInput } from './trace-input.ts';

export type PathProblem = 'best-round-missing' | 'best-round-invalid' | 'broken-path';

export type BestPath = { ok: true; rounds: RoundInput[] } | { ok: false; problem: PathProblem; detail: string };

/**
 * Follows `parent` links back from the best round. Only these rounds make a coherent story: sibling rounds
 * started from other parents, and invalid rounds produced no workflow, so neither enters a sample.
 */
export function bestPath(trace: TraceInput): BestPath {
  const byRound = new Map(trace.rounds.map((r) => [r.round, r]));
  const best = byRound.get(trace.bestRound);
  if (best === undefined) return { ok: false, problem: 'best-round-missing', detail: `round ${trace.bestRound} is not in the trace` };
  if (!best.valid || best.score === null) return { ok: false, problem: 'best-round-invalid', detail: `round ${best.round} is invalid` };
  const chain: RoundInput[] = [best];
  const seen = new Set([best.round]);
  for (let r = best; r.parent !== null; ) {
    const parent = byRound.get(r.parent);
    if (parent === undefined || !parent.valid || seen.has(parent.round)) {
      return { ok: false, problem: 'broken-path', detail: `round ${r.round} names parent ${r.parent}, which is missing, invalid or a cycle` };
    }
    chain.push(parent);
    seen.add(parent.round);
    r = parent;
  }
  return { ok: true, rounds: chain.reverse() };
}
