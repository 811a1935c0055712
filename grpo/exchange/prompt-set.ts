// `<run_root>/datasets/rl/{train,val}.parquet`: the prompts this run samples, in the RL schema of trainer-contract.md §10.2,
// so a trainer reads its prompts from the same root as its rollouts.
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../../pipeline/store/atomic-write.ts';
import { parquetBytes } from '../../pipeline/store/parquet.ts';
import { RL_COLUMNS, rlRow, type RlQuery, type RlSplit } from '../../pipeline/export/rl-prompts.ts';
import { exchangePaths } from './layout.ts';

export interface PromptSetResult {
  split: RlSplit;
  path: string;
  /** 0 when the split is empty: then no file exists (Hugging Face `datasets` refuses 0-row Parquet). */
  rows: number;
}

/** Writes both splits atomically; an empty split leaves no file (a stale one from an earlier start is removed). */
export async function writePromptSet(root: string, queries: readonly RlQuery[]): Promise<PromptSetResult[]> {
  const out: PromptSetResult[] = [];
  for (const split of ['train', 'validation'] as const) {
    const file = exchangePaths.rlPrompts(root, split);
    const rows = queries.filter((q) => q.split === split);
    if (rows.length === 0) {
      await rm(file, { force: true });
    } else {
      await mkdir(path.dirname(file), { recursive: true });
      await writeFileAtomic(file, parquetBytes(RL_COLUMNS, rows.map((q, i) => rlRow(q, i))));
    }
    out.push({ split, path: file, rows: rows.length });
  }
  return out;
}
