// Which tasks a distill run works on: datasets, our seeded partition, explicit ids, a seeded order, a cap, and the shard.
import { loadBenchmark } from '../datasets/registry.ts';
import { selectPartition, type PartitionSettings } from '../datasets/partition.ts';
import type { Task } from '../datasets/task.ts';
import { PipelineError } from '../pipeline/errors.ts';
import { Rng } from '../pipeline/random.ts';
import type { DistillConfig } from './config-schema.ts';

export interface Query {
  /** Unique across datasets: `<dataset>:<task id>`. */
  id: string;
  dataset: string;
  task: Task;
}

export interface Shard {
  index: number;
  count: number;
}

/** `--shard i/n`, else SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT, else JOB_COMPLETION_INDEX with FLOWREASONER_SHARDS. */
export function resolveShard(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): Shard | null {
  const parse = (i: string, n: string, from: string): Shard => {
    const index = Number(i);
    const count = Number(n);
    if (!Number.isInteger(index) || !Number.isInteger(count) || count < 1 || index < 0 || index >= count) {
      throw new PipelineError('usage', `${from}: expected a shard i/n with 0 <= i < n, got ${i}/${n}`);
    }
    return { index, count };
  };
  if (flag !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(flag);
    if (m === null) throw new PipelineError('usage', `--shard expects i/n (e.g. 0/4), got "${flag}"`);
    return parse(m[1] as string, m[2] as string, '--shard');
  }
  if (env.SLURM_ARRAY_TASK_ID !== undefined && env.SLURM_ARRAY_TASK_COUNT !== undefined) {
    // SLURM arrays may start at a non-zero id; SLURM_ARRAY_TASK_MIN shifts it to 0.
    const min = Number(env.SLURM_ARRAY_TASK_MIN ?? 0);
    return parse(String(Number(env.SLURM_ARRAY_TASK_ID) - min), env.SLURM_ARRAY_TASK_COUNT, 'SLURM_ARRAY_TASK_ID');
  }
  if (env.JOB_COMPLETION_INDEX !== undefined && env.FLOWREASONER_SHARDS !== undefined) {
    return parse(env.JOB_COMPLETION_INDEX, env.FLOWREASONER_SHARDS, 'JOB_COMPLETION_INDEX');
  }
  return null;
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
  const mine = shard === null ? chosen : chosen.filter((_, i) => i % shard.count === shard.index);
  return { all: chosen, mine };
}
