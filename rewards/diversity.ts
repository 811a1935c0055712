// The diversity component: how far a sample's workflow is from the nearest other valid workflow of its group, in [0, 1].

/**
 * Fig. 3 of FlowReasoner lists a diversity reward without a formula (flowreasoner.md §8). Ours:
 *   diversity_i = 1 − max_{j ≠ i, j valid} J(T_i, T_j),   J = multiset Jaccard = Σ min(count) / Σ max(count),
 * with T the multiset of normalized graph-line shingles. The nearest neighbour, not the mean, decides: a group of
 * two clones and one outlier should not pay the clones for the outlier. A sample alone in its group (or with no
 * valid peer) gets 0, so the bonus never rewards the absence of comparison. It is pure and order-independent.
 */

/**
 * Non-blank, non-comment lines of the graph module with runs of whitespace collapsed, then joined `shingle` at a time.
 * Renaming a variable still counts as a change: we compare text, not the AST (metrics.ts holds the AST view).
 */
export function graphTokens(graph: string, shingle = 1): string[] {
  if (!Number.isInteger(shingle) || shingle < 1) throw new RangeError(`shingle must be a positive integer, got ${shingle}`);
  const lines = graph
    .split(/\r?\n/)
    .map((l) => l.trim().replace(/\s+/g, ' '))
    .filter((l) => l !== '' && !l.startsWith('#'));
  if (lines.length <= shingle) return lines.length === 0 ? [] : [lines.join('\n')];
  const out: string[] = [];
  for (let i = 0; i + shingle <= lines.length; i++) out.push(lines.slice(i, i + shingle).join('\n'));
  return out;
}

function countsOf(tokens: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const t of tokens) m.set(t, (m.get(t) ?? 0) + 1);
  return m;
}

function jaccardOfCounts(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): number {
  let inter = 0;
  let union = 0;
  for (const [t, ca] of a) {
    const cb = b.get(t) ?? 0;
    inter += Math.min(ca, cb);
    union += Math.max(ca, cb);
  }
  for (const [t, cb] of b) if (!a.has(t)) union += cb;
  // Two empty workflows are the same workflow.
  return union === 0 ? 1 : inter / union;
}

/** Multiset Jaccard similarity in [0, 1]: 1 for equal multisets, 0 for disjoint ones. */
export function multisetJaccard(a: readonly string[], b: readonly string[]): number {
  return jaccardOfCounts(countsOf(a), countsOf(b));
}

/** Diversity of each sample against the others; null marks a sample with no valid workflow (it gets 0 and is nobody's peer). */
export function groupDiversity(tokenLists: readonly (readonly string[] | null)[]): number[] {
  const counts = tokenLists.map((t) => (t === null ? null : countsOf(t)));
  return counts.map((ci, i) => {
    if (ci === null) return 0;
    let nearest = -1;
    counts.forEach((cj, j) => {
      if (j !== i && cj !== null) nearest = Math.max(nearest, jaccardOfCounts(ci, cj));
    });
    return nearest < 0 ? 0 : 1 - nearest;
  });
}
