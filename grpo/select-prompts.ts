// The prompts GRPO trains on: datasets, our seeded partition, a cap; uids are `<dataset>:<task id>`.
import { loadBenchmark } from '../datasets/registry.ts';
import { selectPartition, type Partition, type PartitionSettings } from '../datasets/partition.ts';
import type { GrpoConfig } from './config-schema.ts';
import type { StepQuery } from './run-step.ts';

async function promptsOf(cfg: GrpoConfig, partition: Partition | 'all', settings: PartitionSettings, dataDir: string | undefined): Promise<StepQuery[]> {
  const out: StepQuery[] = [];
  for (const d of cfg.datasets) {
    let tasks = await loadBenchmark(d.name, {
      ...(dataDir !== undefined ? { dataDir } : {}),
      ...(d.split !== undefined ? { split: d.split as never } : {}),
      ...(d.version !== undefined ? { version: d.version } : {}),
    });
    if (partition !== 'all') tasks = selectPartition(tasks, partition, settings.seed, settings.fractions);
    // data_source as in the RL prompt files (pipeline/export/rl-prompts.ts), so rows and prompts join on it.
    for (const t of tasks) out.push({ uid: `${d.name}:${t.id}`, dataSource: `flowreasoner/${d.name}`, task: t });
  }
  return cfg.maxPrompts !== undefined ? out.slice(0, cfg.maxPrompts) : out;
}

export function selectPrompts(cfg: GrpoConfig, partition: PartitionSettings, dataDir: string | undefined): Promise<StepQuery[]> {
  return promptsOf(cfg, cfg.partition, partition, dataDir);
}

/**
 * Held-out prompts for the trainer's own validation (verl's data.val_files): the validation partition of the same
 * datasets when GRPO trains on the train partition, under the same cap; none otherwise (there is no held-out part).
 */
export function selectValidationPrompts(cfg: GrpoConfig, partition: PartitionSettings, dataDir: string | undefined): Promise<StepQuery[]> {
  return cfg.partition === 'train' ? promptsOf(cfg, 'validation', partition, dataDir) : Promise.resolve([]);
}
