// Joins the run directories of eval shards: same configuration required, no sample twice; the merged table is
// computed from the joined samples exactly as one unsharded run computes it.
import { mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PipelineError } from '../pipeline/errors.ts';
import { requireSameConfig } from '../pipeline/store/shard-config.ts';
import { Journal, readJournal } from '../pipeline/store/journal.ts';
import type { EvalExclusion, EvalSample } from './results-schema.ts';

export async function mergeEvalSamples(dirs: readonly string[], out: string): Promise<{ samples: EvalSample[]; exclusions: EvalExclusion[] }> {
  await requireSameConfig(dirs, 'run');
  await mkdir(path.join(out, 'eval'), { recursive: true });
  const { journal: samplesJ } = await Journal.open<EvalSample>(path.join(out, 'eval', 'samples.jsonl'));
  const { journal: excludedJ } = await Journal.open<EvalExclusion>(path.join(out, 'eval', 'excluded.jsonl'));
  const owner = new Map<string, string>();
  const samples: EvalSample[] = [];
  const exclusions: EvalExclusion[] = [];
  const excludedSeen = new Set<string>();
  for (const d of dirs) {
    const file = path.join(d, 'eval', 'samples.jsonl');
    if (!existsSync(file)) throw new PipelineError('usage', `${d} has no eval/samples.jsonl: not an eval run directory`);
    const mine = new Set<string>();
    for await (const s of readJournal<EvalSample>(file)) {
      const other = owner.get(s.key);
      if (other !== undefined && other !== d) throw new PipelineError('usage', `sample ${s.key} appears in both ${other} and ${d}`, { hint: 'Shards must not overlap: run each slice once.' });
      // A journal merged by hand may repeat a record within one directory: the first copy counts.
      if (mine.has(s.key)) continue;
      mine.add(s.key);
      owner.set(s.key, d);
      await samplesJ.append(s);
      samples.push(s);
    }
    const ex = path.join(d, 'eval', 'excluded.jsonl');
    if (!existsSync(ex)) continue;
    for await (const e of readJournal<EvalExclusion>(ex)) {
      const k = `${e.dataset}:${e.taskId}`;
      if (excludedSeen.has(k)) continue;
      excludedSeen.add(k);
      await excludedJ.append(e);
      exclusions.push(e);
    }
  }
  await samplesJ.close();
  await excludedJ.close();
  return { samples, exclusions };
}
