// Which tasks an eval run judges: each dataset's held-out partition (data.partition), a seeded order, a per-dataset cap,
// then this shard's slice. Distill and grpo take `train` from the same partition, so no evaluated task was trained on.
import { loadBenchmark } from '../datasets/registry.ts';
import { partitionOf, selectPartition, type PartitionSettings } from '../datasets/partition.ts';
import { PipelineError } from '../pipeline/errors.ts';
import type { Task } from '../datasets/task.ts';
import { Rng } from '../pipeline/random.ts';
import { sliceForShard, type Shard } from '../pipeline/shard.ts';
import { datasetKey, type EvalConfig, type EvalDataset } from './config-schema.ts';

export interface EvalTask {
  /** `<dataset key>:<task id>`: unique across datasets. */
  id: string;
  dataset: string;
  task: Task;
}

const PAPER_LABELS: Record<string, string> = {
  humaneval: 'HumanEval',
  mbpp: 'MBPP',
  'mbpp-sanitized': 'MBPP (sanitized)',
  'humaneval-plus': 'HumanEval+',
  'mbpp-plus': 'MBPP+',
  bigcodebench: 'BigCodeBench',
  'bigcodebench-hard': 'BigCodeBench-Hard',
};

export function datasetLabel(d: EvalDataset): string {
  return d.label ?? PAPER_LABELS[d.name] ?? d.name;
}

export async function selectEvalTasks(cfg: EvalConfig, seed: number, dataDir: string | undefined, partition: PartitionSettings, shard: Shard | null): Promise<{ all: EvalTask[]; mine: EvalTask[] }> {
  const all: EvalTask[] = [];
  for (const d of cfg.datasets) {
    const key = datasetKey(d);
    const loaded = await loadBenchmark(d.name, {
      ...(dataDir !== undefined ? { dataDir } : {}),
      ...(d.split !== undefined ? { split: d.split as never } : {}),
      ...(d.version !== undefined ? { version: d.version } : {}),
    });
    const held = selectPartition(loaded, cfg.partition, partition.seed, partition.fractions);
    if (d.taskIds !== undefined) {
      const inPartition = new Set(held.map((t) => t.id));
      const known = new Set(loaded.map((t) => t.id));
      for (const id of d.taskIds) {
        if (!known.has(id)) throw new PipelineError('config-invalid', `eval.datasets (${key}).taskIds: no task ${id} in ${key}`);
        if (!inPartition.has(id)) {
          throw new PipelineError('config-invalid', `eval.datasets (${key}).taskIds: ${id} is in the ${partitionOf(id, partition.seed, partition.fractions)} partition, not ${cfg.partition}`, {
            hint: 'Eval judges held-out tasks only, so a task distill or grpo may have trained on is refused.',
          });
        }
      }
    }
    const wanted = d.taskIds === undefined ? held : held.filter((t) => d.taskIds?.includes(t.id));
    // The order is seeded per dataset, so a cap takes the same varied sample on every machine and in every shard.
    let tasks = new Rng('eval-order', seed, key).shuffle(wanted);
    if (d.maxTasks !== undefined) tasks = tasks.slice(0, d.maxTasks);
    for (const t of tasks) all.push({ id: `${key}:${t.id}`, dataset: key, task: t });
  }
  // A task's samples of every method stay in one shard, so each shard's records pair up on their own.
  const mine = sliceForShard(all, shard);
  return { all, mine };
}
