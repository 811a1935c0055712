// One partition for every stage: data.partition (its own seed and fractions), read by distill and grpo alike, and
// independent of the sampling seed (run.seed).
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../pipeline/cli/config.ts';
import { selectQueries } from '../distill/select-queries.ts';
import { selectPrompts } from '../grpo/select-prompts.ts';
import { sharedDatasets } from './helpers/tmp.ts';

async function sets(overrides: string[]): Promise<{ distill: string[]; grpo: string[] }> {
  const { config } = await loadConfig({
    overrides: ['distill.datasets=[{"name":"humaneval"}]', 'grpo.datasets=[{"name":"humaneval"}]', 'distill.partition=test', 'grpo.partition=test', ...overrides],
  });
  const d = await selectQueries(config.distill, config.run.seed, sharedDatasets, null, config.data.partition);
  const g = await selectPrompts(config.grpo, config.data.partition, sharedDatasets);
  return { distill: d.all.map((q) => q.id).sort(), grpo: g.map((q) => q.uid).sort() };
}

describe('data.partition', () => {
  it('is read by distill and grpo alike, and run.seed does not move a task between partitions', async () => {
    const a = await sets(['run.seed=1']);
    const b = await sets(['run.seed=2']);
    expect(a.distill.length).toBeGreaterThan(10);
    expect(a.distill).toEqual(a.grpo);
    expect(b.distill).toEqual(a.distill);
    // Its own seed and fractions decide.
    const c = await sets(['run.seed=1', 'data.partition.seed=other']);
    expect(c.distill).not.toEqual(a.distill);
    const d = await sets(['data.partition.fractions={"train":0.5,"validation":0.1,"test":0.4}']);
    expect(d.distill.length).toBeGreaterThan(a.distill.length);
  });
});
