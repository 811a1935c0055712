// Finds distill outputs from run directories (or their distill/ folders) and streams their traces through the reader schema.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PipelineError } from '../pipeline/errors.ts';
import { readJournal } from '../pipeline/store/journal.ts';
import { TraceInputSchema, type TraceInput } from './trace-input.ts';

export interface TraceSource {
  /** The folder holding traces.jsonl. */
  distillDir: string;
  tracesFile: string;
}

/** Accepts a run directory (merged shards are run directories too) or its `distill/` folder. */
export function resolveSource(from: string): TraceSource {
  const dir = path.resolve(from);
  for (const candidate of [dir, path.join(dir, 'distill')]) {
    const file = path.join(candidate, 'traces.jsonl');
    if (existsSync(file)) return { distillDir: candidate, tracesFile: file };
  }
  throw new PipelineError('data-missing', `no distill traces in ${from} (looked for traces.jsonl and distill/traces.jsonl)`, {
    hint: 'Pass a run directory made by `flowreasoner distill` (or `distill merge`), or its distill/ folder.',
  });
}

export interface ReadTrace {
  trace: TraceInput;
  /** Index of the source in the --from list, for deterministic tie-breaks. */
  source: number;
  where: string;
}

/**
 * Streams every trace of every source. A record that breaks the contract stops the export (a silently skipped
 * trace would bias the set); a torn last line of a journal, left by a killed writer, is skipped as distill does.
 */
export async function* readTraces(sources: readonly TraceSource[], onTornTail?: (file: string, bytes: number) => void): AsyncGenerator<ReadTrace> {
  for (const [i, s] of sources.entries()) {
    let line = 0;
    for await (const raw of readJournal<unknown>(s.tracesFile, (bytes) => onTornTail?.(s.tracesFile, bytes))) {
      line++;
      const parsed = TraceInputSchema.safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const at = issue === undefined ? '' : `${issue.path.join('.') || '(record)'}: ${issue.message}`;
        throw new PipelineError('data-invalid', `${s.tracesFile}:${line}: not a distill trace (${at})`, {
          hint: 'The file does not match what sft reads (sft/trace-input.ts); was it written by another version of distill?',
        });
      }
      yield { trace: parsed.data, source: i, where: `${s.tracesFile}:${line}` };
    }
  }
}
