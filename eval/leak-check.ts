// Guards the held-out promise against the runs a meta-agent was trained from (`eval.trainedOn`): they must share this
// config's data.partition, must not have trained on the evaluated partition (or on `all`), and no distilled trace may
// be about an evaluated task.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_FRACTIONS, type PartitionSettings } from '../datasets/partition.ts';
import { PipelineError } from '../pipeline/errors.ts';
import { canonicalJson } from '../pipeline/gateway/cache.ts';
import { readJournal } from '../pipeline/store/journal.ts';
import type { EvalTask } from './select-tasks.ts';

interface FrozenConfig {
  data?: { partition?: { seed?: string | number; fractions?: Record<string, number> } };
  distill?: { partition?: string };
  grpo?: { partition?: string };
}

export async function checkTrainedOn(runDirs: readonly string[], ours: PartitionSettings, evaluated: string, tasks: readonly EvalTask[]): Promise<void> {
  const wanted = new Set(tasks.map((t) => t.task.id));
  for (const dir of runDirs) {
    let frozen: FrozenConfig;
    try {
      frozen = parseYaml(await readFile(path.join(dir, 'config.yaml'), 'utf8')) as FrozenConfig;
    } catch {
      throw new PipelineError('config-invalid', `eval.trainedOn: ${dir} is not a run directory (no readable config.yaml)`);
    }
    const theirs = { seed: frozen.data?.partition?.seed ?? 'flowreasoner-partition-v1', fractions: frozen.data?.partition?.fractions ?? { ...DEFAULT_FRACTIONS } };
    if (canonicalJson(theirs) !== canonicalJson({ seed: ours.seed, fractions: ours.fractions })) {
      throw new PipelineError('config-invalid', `eval.trainedOn: ${dir} split its tasks with another data.partition (${JSON.stringify(theirs)}) than this eval (${JSON.stringify(ours)})`, {
        hint: 'Use the same data.partition in training and eval, or the held-out tasks are not held out.',
      });
    }
    for (const stage of ['distill', 'grpo'] as const) {
      if (!existsSync(path.join(dir, stage))) continue;
      const part = frozen[stage]?.partition ?? 'train';
      if (part === 'all' || part === evaluated) {
        throw new PipelineError('config-invalid', `eval.trainedOn: ${dir} ran ${stage} on the "${part}" partition, which holds the tasks this eval judges (${evaluated})`, {
          hint: `Train on ${stage}.partition: train, then evaluate.`,
        });
      }
    }
    const traces = path.join(dir, 'distill', 'traces.jsonl');
    if (!existsSync(traces)) continue;
    for await (const t of readJournal<{ taskId?: string }>(traces)) {
      if (t.taskId !== undefined && wanted.has(t.taskId)) throw new PipelineError('config-invalid', `eval.trainedOn: ${dir} distilled a trace of ${t.taskId}, which this eval judges`);
    }
  }
}
