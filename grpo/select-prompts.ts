// The prompts GRPO trains on: datasets, our seeded partition, a cap; uids are `<dataset>:<task id>`.
import { loadBenchmark } from '../datasets/registry.ts';
import { selectPartition } from '../datasets/partition.ts';
import type { GrpoConfig } from './config-schema.ts';
import type { StepQuery } from './run-step.ts';

export async function selectPrompts(cfg: GrpoConfig, seed: number, dataDir: string | undefined): Promise<StepQuery[]> {
  const out: StepQuery[] = [];
  for (const d of cfg.datasets) {
    let tasks = await loadBenchmark(d.name, {
      ...(dataDir !== undefined ? { dataDir } : {}),
      ...(d.split !== undefined ? { split: d.split as never } : {}),
      ...(d.version !== undefined ? { version: d.version } : {}),
    });
    if (cfg.partition !== 'all') tasks = selectPartition(tasks, cfg.partition, seed);
    for (const t of tasks) out.push({ uid: `${d.name}:${t.id}`, dataSource: d.name, task: t });
  }
  return cfg.maxPrompts !== undefined ? out.slice(0, cfg.maxPrompts) : out;
}
