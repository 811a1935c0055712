// Deterministic train / validation / test partitions of any task list, by a stable hash of seed and task id.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { PipelineError } from '../pipeline/errors.ts';

export const PARTITIONS = ['train', 'validation', 'test'] as const;
export type Partition = (typeof PARTITIONS)[number];

export const FractionsSchema = z.strictObject({
  train: z.number().min(0).max(1),
  validation: z.number().min(0).max(1),
  test: z.number().min(0).max(1),
});
export type Fractions = z.infer<typeof FractionsSchema>;

export const DEFAULT_FRACTIONS: Readonly<Fractions> = { train: 0.7, validation: 0.1, test: 0.2 };

/**
 * The one partition every stage reads (the config's `data.partition`): its own seed, apart from the sampling seed,
 * so changing run.seed never moves a task between train and test, and distill, grpo and eval agree on the split.
 */
export const PartitionSettingsSchema = z.strictObject({
  seed: z.union([z.int(), z.string().min(1)]).default('flowreasoner-partition-v1').describe('Seed of the task hash; keep it fixed across runs so held-out tasks stay held out.'),
  fractions: FractionsSchema.default({ ...DEFAULT_FRACTIONS }).describe('Shares of train, validation and test; they sum to 1.'),
});
export type PartitionSettings = z.infer<typeof PartitionSettingsSchema>;

/**
 * The point in [0, 1) of a task: the first 48 bits of sha256(seed, NUL, taskId). The NUL keeps ("1", "2x") and
 * ("12", "x") apart. A task keeps its partition when other tasks are added or removed, unlike a shuffled split.
 */
export function partitionPoint(taskId: string, seed: string | number): number {
  const digest = createHash('sha256').update(`${String(seed)}\u0000${taskId}`).digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

/** train when the point is below fractions.train, validation below train + validation, else test. */
export function partitionOf(taskId: string, seed: string | number, fractions: Fractions = DEFAULT_FRACTIONS): Partition {
  checkFractions(fractions);
  const x = partitionPoint(taskId, seed);
  if (x < fractions.train) return 'train';
  if (x < fractions.train + fractions.validation) return 'validation';
  return 'test';
}

/** The tasks of one partition, in their original order. */
export function selectPartition<T extends { id: string }>(tasks: readonly T[], which: Partition, seed: string | number, fractions: Fractions = DEFAULT_FRACTIONS): T[] {
  checkFractions(fractions);
  return tasks.filter((t) => partitionOf(t.id, seed, fractions) === which);
}

function checkFractions(f: Fractions): void {
  const r = FractionsSchema.safeParse(f);
  const sum = f.train + f.validation + f.test;
  if (!r.success || Math.abs(sum - 1) > 1e-9) {
    throw new PipelineError('usage', `partition fractions must be three numbers in [0, 1] that sum to 1; found ${JSON.stringify(f)}`, {
      hint: 'For example { train: 0.7, validation: 0.1, test: 0.2 }.',
    });
  }
}
