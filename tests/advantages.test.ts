// Advantage estimators against every vector of the shared golden file, plus null handling, filters and presets.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AdvantageSettingsSchema } from '../grpo/advantage-config.ts';
import { computeAdvantages, dapoKeep, keepGroup, PRESETS, type PresetName } from '../grpo/advantages.ts';
import { isPipelineError } from '../pipeline/errors.ts';

const repoRoot = path.resolve(import.meta.dirname, '..');
const goldenPath = path.resolve(repoRoot, '../shared/design/golden-advantages.json');
const golden = JSON.parse(readFileSync(goldenPath, 'utf8')) as Record<string, Record<string, unknown>>;

/** Every estimator key of the golden file and the preset that must reproduce it (trainer-contract.md §8). */
const KEY_TO_PRESET: Record<string, PresetName> = {
  'verl_grpo(eps=1e-6, unbiased std)': 'verl_grpo',
  'verl_grpo norm_adv_by_std_in_grpo=False (Dr.GRPO)': 'verl_dr_grpo',
  verl_rloo: 'verl_rloo',
  'trl_scale_rewards=group(eps=1e-4, unbiased)': 'trl_group',
  'trl_scale_rewards=none': 'trl_none',
  'openrlhf_group_norm(eps=1e-9, unbiased)': 'openrlhf_group_norm',
  'art(eps=1e-6, population std)': 'art',
  'trl_async_grpo(eps=1e-8, population std)': 'trl_async',
};
/** Keys of a group entry that are not estimator outputs. */
const NON_ESTIMATOR_KEYS = new Set(['rewards', 'dapo_filter_keep']);
const BATCH_ENTRY = /^trl_scale_rewards=batch over \[([A-Z](?:,[A-Z])*)\]$/;

/** 1e-6 relative, with an absolute floor for values at or near 0 (the golden file prints ~9 decimals). */
function expectClose(actual: readonly number[], expected: readonly number[], what: string): void {
  expect(actual.length, what).toBe(expected.length);
  expected.forEach((e, i) => {
    const a = actual[i] as number;
    expect(Math.abs(a - e) <= 1e-6 * Math.abs(e) + 1e-9, `${what}[${i}]: got ${a}, expected ${e}`).toBe(true);
  });
}

function numbers(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number')) throw new Error(`${what} is not a number array`);
  return v as number[];
}

const groupEntries = Object.entries(golden).filter(([, g]) => 'rewards' in g);
const batchEntries = Object.entries(golden).filter(([, g]) => !('rewards' in g));

describe('golden advantages (../shared/design/golden-advantages.json)', () => {
  it('has only entries this test knows how to check', () => {
    expect(groupEntries.length).toBeGreaterThanOrEqual(4);
    for (const [name] of batchEntries) expect(name, `unrecognised golden entry ${name}`).toMatch(BATCH_ENTRY);
    for (const [name, g] of groupEntries)
      for (const key of Object.keys(g)) expect(NON_ESTIMATOR_KEYS.has(key) || key in KEY_TO_PRESET, `${name}: golden key "${key}" maps to no preset`).toBe(true);
  });

  for (const [name, g] of groupEntries) {
    const rewards = numbers(g.rewards, `${name}.rewards`);
    for (const [key, expected] of Object.entries(g)) {
      if (NON_ESTIMATOR_KEYS.has(key)) continue;
      const preset = KEY_TO_PRESET[key];
      it(`${name} / ${key} → ${preset ?? 'UNMAPPED'}`, () => {
        if (preset === undefined) throw new Error(`golden key "${key}" maps to no preset`);
        const settings = PRESETS[preset];
        if (expected === null) {
          // null = the trainer rejects the group; we throw a typed error.
          let thrown: unknown;
          try {
            computeAdvantages([rewards], settings);
          } catch (e) {
            thrown = e;
          }
          expect(isPipelineError(thrown, 'data-invalid'), `expected a data-invalid rejection, got ${String(thrown)}`).toBe(true);
          return;
        }
        const { advantages } = computeAdvantages([rewards], settings);
        expectClose(advantages[0] ?? [], numbers(expected, key), `${name} ${key}`);
      });
    }
    it(`${name} / dapo_filter_keep`, () => {
      expect(typeof g.dapo_filter_keep).toBe('boolean');
      expect(dapoKeep(rewards)).toBe(g.dapo_filter_keep);
      expect(keepGroup(rewards, PRESETS.verl_dapo)).toBe(g.dapo_filter_keep);
      expect(keepGroup(rewards, PRESETS.verl_grpo)).toBe(true);
    });
  }

  for (const [name, g] of batchEntries) {
    it(`${name} → trl_batch`, () => {
      const letters = (BATCH_ENTRY.exec(name)?.[1] ?? '').split(',');
      const groups = letters.map((letter) => {
        const entry = groupEntries.find(([n]) => n.startsWith(`${letter}_`));
        if (entry === undefined) throw new Error(`no golden group ${letter}`);
        return numbers(entry[1].rewards, letter);
      });
      const { advantages, stats } = computeAdvantages(groups, PRESETS.trl_batch);
      expectClose([stats.std], [g.batch_std_unbiased as number], 'batch std');
      letters.forEach((letter, i) => expectClose(advantages[i] ?? [], numbers(g[letter], letter), `${name} ${letter}`));
      // Every key of the entry was checked.
      expect(Object.keys(g).sort()).toEqual(['batch_std_unbiased', ...letters].sort());
    });
  }
});

describe('computeAdvantages', () => {
  it('gives a null reward advantage 0 and leaves it out of the group statistics', () => {
    const withNull = computeAdvantages([[1, null, 0, 0, 0]], PRESETS.verl_grpo).advantages[0] ?? [];
    const plain = computeAdvantages([[1, 0, 0, 0]], PRESETS.verl_grpo).advantages[0] ?? [];
    expect(withNull[1]).toBe(0);
    expectClose([withNull[0], withNull[2], withNull[3], withNull[4]] as number[], plain, 'null excluded');
  });

  it('treats a group with one scored sample by the singleton rule, and an all-null group as zeros', () => {
    expectClose(computeAdvantages([[null, 2, null]], PRESETS.verl_grpo).advantages[0] ?? [], [0, 2 / (1 + 1e-6), 0], 'verl singleton');
    expect(computeAdvantages([[null, 2]], PRESETS.trl_group).advantages[0]).toEqual([0, 0]);
    expect(() => computeAdvantages([[null, 2]], PRESETS.openrlhf_group_norm)).toThrow(/one scored sample/);
    expect(computeAdvantages([[null, null]], PRESETS.openrlhf_group_norm).advantages[0]).toEqual([0, 0]);
  });

  it('reports the batch mean and std over non-null rewards only', () => {
    const { stats } = computeAdvantages([[1, 0, null], [null, 1, 0]], PRESETS.art);
    expect(stats.mean).toBeCloseTo(0.5, 15);
    expect(stats.std).toBeCloseTo(0.5, 15); // population std of [1, 0, 1, 0]
  });

  it('gives exactly 0 for equal rewards even when their float mean is inexact', () => {
    const third = 0.1;
    for (const p of Object.values(PRESETS)) expect(computeAdvantages([[third, third, third]], p).advantages[0]).toEqual([0, 0, 0]);
    expect(dapoKeep([third, third, third])).toBe(false);
  });

  it('computes RLOO as G/(G−1)·(r − μ)', () => {
    const r = [0.2, 0.9, 0.4, 0.7, 0.1];
    const mu = r.reduce((s, x) => s + x, 0) / r.length;
    expectClose(computeAdvantages([r], PRESETS.verl_rloo).advantages[0] ?? [], r.map((x) => (5 / 4) * (x - mu)), 'rloo');
  });

  it('rejects non-finite rewards', () => {
    expect(() => computeAdvantages([[1, Number.NaN]], PRESETS.verl_grpo)).toThrow(/finite/);
    expect(() => computeAdvantages([[1, Number.POSITIVE_INFINITY]], PRESETS.verl_grpo)).toThrow(/finite/);
  });

  it('drops groups without a scored sample under the DAPO filter', () => {
    expect(dapoKeep([null, null])).toBe(false);
    expect(dapoKeep([null, 1])).toBe(true);
    expect(dapoKeep([1, null, 1])).toBe(false);
  });
});

describe('advantage settings schema', () => {
  it('defaults to verl GRPO with no filter', () => {
    expect(AdvantageSettingsSchema.parse({})).toEqual(PRESETS.verl_grpo);
  });
  it('accepts every preset unchanged and rejects unknown keys', () => {
    for (const p of Object.values(PRESETS)) expect(AdvantageSettingsSchema.parse(p)).toEqual(p);
    expect(AdvantageSettingsSchema.safeParse({ estimater: 'grpo' }).success).toBe(false);
    expect(AdvantageSettingsSchema.safeParse({ eps: -1 }).success).toBe(false);
  });
});
