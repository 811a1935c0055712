// Which tasks a distill run works on: datasets, our seeded partition, explicit ids, a seeded order, a cap, and the shard.
import { loadBenchmark } from '../datasets/registry.ts';
import { selectPartition, type PartitionSettings } from '../datasets/partition.ts';
import type { Task } from '../datasets/task.ts';
import { PipelineError } from '../pipeline/errors.ts';
import { Rng } from '../pipeline/random.ts';
import { sliceForShard, type Shard } from '../pipeline/shard.ts';
import type { DistillConfig } from './config-schema.ts';

export interface Query {
  /** Unique across datasets: `<dataset>:<task id>`. */
  id: string;
  dataset: string;
  task: Task;
}

export async function selectQueries(cfg: DistillConfig, seed: number, dataDir: string | undefined, shard: Shard | null, partition: PartitionSettings): Promise<{ all: Query[]; mine: Query[] }> {
  const queries: Query[] = [];
  for (const d of cfg.datasets) {
    let tasks = await loadBenchmark(d.name, {
      ...(dataDir !== undefined ? { dataDir } : {}),
      ...(d.split !== undefined ? { split: d.split as never } : {}),
      ...(d.version !== undefined ? { version: d.version } : {}),
    });
    if (cfg.partition !== 'all') tasks = selectPartition(tasks, cfg.partition, partition.seed, partition.fractions);
    for (const t of tasks) queries.push({ id: `${d.name}:${t.id}`, dataset: d.name, task: t });
  }
  let chosen = queries;
  if (cfg.queryIds !== undefined) {
    const want = new Set(cfg.queryIds);
    chosen = queries.filter((q) => want.has(q.id) || want.has(q.task.id));
    if (chosen.length === 0) throw new PipelineError('config-invalid', 'distill.queryIds matched no task', { hint: 'Ids look like HumanEval/0 or mbpp:Mbpp/12.' });
  }
  // A seeded order, so that maxQueries takes the same varied sample on every machine and every shard.
  chosen = new Rng('distill-order', seed).shuffle(chosen);
  if (cfg.maxQueries !== undefined) chosen = chosen.slice(0, cfg.maxQueries);
  const mine = sliceForShard(chosen, shard);
  return { all: chosen, mine };
}
