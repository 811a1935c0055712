// Which prompts each step trains on: a seeded shuffle per epoch, so step N's batch is the same on every resume.
import { Rng } from '../pipeline/random.ts';

/** The `count` prompt indices that follow `start` in the global sequence (epoch after epoch, each freshly shuffled). */
export function promptIndices(total: number, seed: number, start: number, count: number): Array<{ index: number; epoch: number }> {
  if (total <= 0) throw new Error('no prompts to train on');
  const out: Array<{ index: number; epoch: number }> = [];
  const orders = new Map<number, number[]>();
  for (let k = start; k < start + count; k++) {
    const epoch = Math.floor(k / total);
    let order = orders.get(epoch);
    if (order === undefined) {
      order = new Rng('grpo-epoch', seed, epoch).shuffle(Array.from({ length: total }, (_, i) => i));
      orders.set(epoch, order);
    }
    out.push({ index: order[k % total] as number, epoch });
  }
  return out;
}
