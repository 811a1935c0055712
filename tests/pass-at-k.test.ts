// The unbiased pass@k estimator against the exact combinatorial formula and the official reporting rule.
import { describe, expect, it } from 'vitest';
import { passAtK, passAtKTable } from '../pipeline/evaluate/pass-at-k.ts';

function choose(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}

describe('pass@k', () => {
  it('equals 1 - C(n-c, k) / C(n, k)', () => {
    for (const [n, c, k] of [[10, 3, 1], [10, 3, 5], [20, 1, 10], [200, 17, 100], [5, 0, 2]] as const) {
      const exact = n - c < k ? 1 : 1 - choose(n - c, k) / choose(n, k);
      expect(passAtK(n, c, k)).toBeCloseTo(exact, 10);
    }
  });
  it('is c/n for k = 1, and 1 when fewer than k samples failed', () => {
    expect(passAtK(7, 3, 1)).toBeCloseTo(3 / 7, 12);
    expect(passAtK(10, 8, 5)).toBe(1);
  });
  it('reports a k only when every task has at least k samples', () => {
    const t = passAtKTable([{ n: 10, c: 5 }, { n: 3, c: 0 }], [1, 10]);
    expect(Object.keys(t)).toEqual(['pass@1']);
    expect(t['pass@1']).toBeCloseTo(0.25, 12);
  });
  it('rejects impossible counts', () => {
    expect(() => passAtK(3, 4, 1)).toThrow();
  });
});
