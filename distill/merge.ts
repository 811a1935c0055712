// Joins the run directories of distill shards: same configuration required, no query twice.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PipelineError } from '../pipeline/errors.ts';
import { requireSameConfig } from '../pipeline/store/shard-config.ts';
import { readJournal } from '../pipeline/store/journal.ts';
import { Journal } from '../pipeline/store/journal.ts';
import type { RoundRecord, TraceRecord } from './records.ts';

export async function mergeDistillRuns(dirs: string[], out: string): Promise<{ shards: number; traces: number; rounds: number }> {
  await requireSameConfig(dirs, 'distill run');
  await mkdir(path.join(out, 'distill'), { recursive: true });
  const { journal: traces } = await Journal.open<TraceRecord>(path.join(out, 'distill', 'traces.jsonl'));
  const { journal: rounds } = await Journal.open<RoundRecord>(path.join(out, 'distill', 'rounds.jsonl'));
  const seen = new Map<string, string>();
  let nTraces = 0;
  let nRounds = 0;
  for (const d of dirs) {
    const finished = new Set<string>();
    for await (const t of readJournal<TraceRecord>(path.join(d, 'distill', 'traces.jsonl'))) {
      const other = seen.get(t.queryId);
      if (other !== undefined) throw new PipelineError('usage', `query ${t.queryId} appears in both ${other} and ${d}`, { hint: 'Shards must not overlap: run each slice once.' });
      seen.set(t.queryId, d);
      finished.add(t.queryId);
      await traces.append(t);
      nTraces++;
    }
    for await (const r of readJournal<RoundRecord>(path.join(d, 'distill', 'rounds.jsonl'))) {
      await rounds.append(r);
      nRounds++;
    }
  }
  await traces.close();
  await rounds.close();
  await writeFile(path.join(out, 'config.yaml'), await readFile(path.join(dirs[0] as string, 'config.yaml'), 'utf8'));
  await writeFile(path.join(out, 'merge.json'), `${JSON.stringify({ shards: dirs.map((d) => path.resolve(d)), traces: nTraces, rounds: nRounds }, null, 2)}\n`);
  return { shards: dirs.length, traces: nTraces, rounds: nRounds };
}
