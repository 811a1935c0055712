// The statistics of the comparison table (issue: eval and report): confidence intervals for pass@1 and paired tests
// between two methods on the same tasks. Pure functions; the eval stage feeds them per-task outcomes.
import { Rng } from '../pipeline/random.ts';

export interface Interval {
  low: number;
  high: number;
}

/**
 * Wilson score interval for a binomial proportion (default 95%, z = 1.96). Unlike the normal approximation it stays
 * inside [0, 1] and is sensible at 0 or n successes, which small eval sets hit often.
 */
export function wilsonInterval(successes: number, n: number, z = 1.959963984540054): Interval {
  if (!Number.isInteger(n) || n < 0 || successes < 0 || successes > n) throw new RangeError(`wilson: need 0 <= successes <= n, got ${successes}/${n}`);
  if (n === 0) return { low: 0, high: 1 };
  const p = successes / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/** log C(n, k), exact enough for the binomial tails below (n up to a few thousand tasks). */
function logChoose(n: number, k: number): number {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log(n - k + i) - Math.log(i);
  return s;
}

/**
 * Exact McNemar test on paired binary outcomes: b = tasks only method A solves, c = tasks only method B solves.
 * Under the null each discordant task is a fair coin, so the two-sided p-value is twice the smaller binomial tail
 * (capped at 1). With no discordant task there is no evidence either way: p = 1.
 */
export function mcnemarExact(b: number, c: number): number {
  if (!Number.isInteger(b) || !Number.isInteger(c) || b < 0 || c < 0) throw new RangeError(`mcnemar: counts must be non-negative integers, got ${b}, ${c}`);
  const n = b + c;
  if (n === 0) return 1;
  const k = Math.min(b, c);
  let tail = 0;
  for (let i = 0; i <= k; i++) tail += Math.exp(logChoose(n, i) - n * Math.LN2);
  return Math.min(1, 2 * tail);
}

export interface PairedComparison {
  /** Tasks in the comparison (both methods scored on each). */
  n: number;
  /** Only A solved / only B solved. */
  onlyA: number;
  onlyB: number;
  /** pass@1 of A minus pass@1 of B. */
  difference: number;
  pValue: number;
  /** True only when the test rejects equality at `alpha`. */
  significant: boolean;
}

/** McNemar on per-task outcomes of two methods, aligned by task (the same tasks, in the same order). */
export function comparePaired(a: readonly boolean[], b: readonly boolean[], alpha = 0.05): PairedComparison {
  if (a.length !== b.length) throw new RangeError(`paired outcomes differ in length (${a.length} vs ${b.length})`);
  let onlyA = 0;
  let onlyB = 0;
  a.forEach((x, i) => {
    const y = b[i] as boolean;
    if (x && !y) onlyA++;
    else if (y && !x) onlyB++;
  });
  const n = a.length;
  const p = mcnemarExact(onlyA, onlyB);
  return { n, onlyA, onlyB, difference: n === 0 ? 0 : (onlyA - onlyB) / n, pValue: p, significant: p < alpha };
}

/**
 * Paired bootstrap of the mean difference of per-task scores (for fractional scores, e.g. pass rates over k samples):
 * resample tasks with replacement, seeded, and report the percentile interval and a two-sided p-value (twice the share
 * of resamples on the far side of 0).
 */
export function pairedBootstrap(a: readonly number[], b: readonly number[], opts: { iterations?: number; seed?: string | number; confidence?: number } = {}): { difference: number; interval: Interval; pValue: number } {
  if (a.length !== b.length || a.length === 0) throw new RangeError(`paired bootstrap needs equal, non-empty score lists (${a.length} vs ${b.length})`);
  const n = a.length;
  const d = a.map((x, i) => x - (b[i] as number));
  const mean = d.reduce((s, x) => s + x, 0) / n;
  const iterations = opts.iterations ?? 10_000;
  const rng = new Rng('paired-bootstrap', opts.seed ?? 0);
  const means = new Float64Array(iterations);
  let below = 0;
  let above = 0;
  for (let r = 0; r < iterations; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += d[rng.int(n)] as number;
    const m = s / n;
    means[r] = m;
    if (m <= 0) below++;
    if (m >= 0) above++;
  }
  means.sort();
  const tail = (1 - (opts.confidence ?? 0.95)) / 2;
  const at = (q: number): number => means[Math.min(iterations - 1, Math.max(0, Math.floor(q * iterations)))] as number;
  return { difference: mean, interval: { low: at(tail), high: at(1 - tail) }, pValue: Math.min(1, (2 * Math.min(below, above)) / iterations) };
}

/**
 * Percentile bootstrap interval of a mean of per-task scores (pass@1 with several samples per task, where a task's score
 * is c/n and the binomial Wilson interval no longer applies): resample tasks with replacement, seeded.
 */
export function bootstrapMeanInterval(scores: readonly number[], opts: { iterations?: number; seed?: string | number; confidence?: number } = {}): Interval {
  const n = scores.length;
  if (n === 0) return { low: 0, high: 1 };
  const iterations = opts.iterations ?? 10_000;
  const rng = new Rng('bootstrap-mean', opts.seed ?? 0);
  const means = new Float64Array(iterations);
  for (let r = 0; r < iterations; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += scores[rng.int(n)] as number;
    means[r] = s / n;
  }
  means.sort();
  const tail = (1 - (opts.confidence ?? 0.95)) / 2;
  const at = (q: number): number => means[Math.min(iterations - 1, Math.max(0, Math.floor(q * iterations)))] as number;
  return { low: at(tail), high: at(1 - tail) };
}

/**
 * The standard normal quantile (Acklam's rational approximation, relative error below 1.2e-9), for the z of a Wilson
 * interval at any confidence level: normalQuantile(0.975) = 1.95996…
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normal quantile: p must be in (0, 1), got ${p}`);
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const poly = (k: readonly number[], x: number): number => k.reduce((s, v) => s * x + v, 0);
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return poly(c, q) / (poly(d, q) * q + 1);
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (poly(a, r) * q) / (poly(b, r) * r + 1);
}
