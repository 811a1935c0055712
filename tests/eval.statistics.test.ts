// The comparison table's statistics against values computed independently (R's binom/prop.test and exact binomial tails).
import { describe, expect, it } from 'vitest';
import { comparePaired, mcnemarExact, pairedBootstrap, wilsonInterval } from '../eval/statistics.ts';

describe('wilsonInterval', () => {
  it('matches the Wilson score interval (prop.test without continuity correction)', () => {
    const w = wilsonInterval(8, 10);
    expect(w.low).toBeCloseTo(0.4901625, 6);
    expect(w.high).toBeCloseTo(0.9433178, 6);
    const h = wilsonInterval(150, 164);
    expect(h.low).toBeCloseTo(0.8618, 4);
    expect(h.high).toBeCloseTo(0.9485, 4);
  });

  it('stays inside [0, 1] at the edges and refuses impossible counts', () => {
    expect(wilsonInterval(0, 20).low).toBe(0);
    expect(wilsonInterval(0, 20).high).toBeCloseTo(0.1611, 4);
    expect(wilsonInterval(20, 20).high).toBe(1);
    expect(wilsonInterval(0, 0)).toEqual({ low: 0, high: 1 });
    expect(() => wilsonInterval(3, 2)).toThrow(RangeError);
  });
});

describe('mcnemarExact', () => {
  it('is the two-sided exact binomial test on the discordant tasks', () => {
    // 1 vs 9 discordant: 2 * P(X <= 1), X ~ Bin(10, 0.5) = 2 * 11/1024.
    expect(mcnemarExact(1, 9)).toBeCloseTo(22 / 1024, 12);
    expect(mcnemarExact(9, 1)).toBeCloseTo(22 / 1024, 12);
    expect(mcnemarExact(5, 5)).toBe(1);
    expect(mcnemarExact(0, 0)).toBe(1);
    // 0 vs 6: 2 / 64.
    expect(mcnemarExact(0, 6)).toBeCloseTo(2 / 64, 12);
  });
});

describe('comparePaired', () => {
  it('marks a difference only when the test says so', () => {
    const base = Array.from({ length: 100 }, (_, i) => i < 60);
    const better = base.map((x, i) => x || (i >= 60 && i < 75)); // 15 more solved, none lost
    const noisy = base.map((x, i) => (i === 0 ? false : i === 99 ? true : x)); // one lost, one won
    const sig = comparePaired(better, base);
    expect(sig).toMatchObject({ n: 100, onlyA: 15, onlyB: 0, significant: true });
    expect(sig.difference).toBeCloseTo(0.15, 12);
    const not = comparePaired(noisy, base);
    expect(not).toMatchObject({ onlyA: 1, onlyB: 1, significant: false, pValue: 1 });
    expect(() => comparePaired([true], [])).toThrow(RangeError);
  });
});

describe('pairedBootstrap', () => {
  it('is seeded, centres on the mean difference and separates a real gap from noise', () => {
    const a = Array.from({ length: 80 }, (_, i) => (i % 5 === 0 ? 0.2 : 0.9));
    const b = Array.from({ length: 80 }, (_, i) => (i % 5 === 0 ? 0.1 : 0.5));
    const r1 = pairedBootstrap(a, b, { iterations: 2000, seed: 3 });
    const r2 = pairedBootstrap(a, b, { iterations: 2000, seed: 3 });
    expect(r1).toEqual(r2);
    expect(r1.difference).toBeCloseTo(0.34, 12);
    expect(r1.interval.low).toBeGreaterThan(0);
    expect(r1.pValue).toBe(0);
    const same = pairedBootstrap(a, a.slice().reverse(), { iterations: 2000, seed: 3 });
    expect(same.interval.low).toBeLessThan(0);
    expect(same.interval.high).toBeGreaterThan(0);
    expect(same.pValue).toBeGreaterThan(0.05);
  });
});
