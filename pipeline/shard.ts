// Which deterministic slice of a task list this process works on: --shard i/n, or the array index a scheduler sets.
import { PipelineError } from './errors.ts';

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

/** The shard's slice of a list: every count-th item from index (null: the whole list). */
export function sliceForShard<T>(items: readonly T[], shard: Shard | null): T[] {
  return shard === null ? [...items] : items.filter((_, i) => i % shard.count === shard.index);
}
