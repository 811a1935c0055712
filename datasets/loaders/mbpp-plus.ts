// Loads MBPP+ v0.2.0 (EvalPlus, 378 tasks): prompt and reference from the main file; hidden = EvalPlus's oracle path over base then plus inputs.
import { z } from 'zod';
import { DATA_FILES } from '../data-files.ts';
import { InputsFieldSchema, inputLists, inputsJsonText } from '../evalplus-inputs.ts';
import { LIMITS } from '../limits.ts';
import { inSplit, mbppSplitOf, type SplitOption } from '../mbpp-split.ts';
import { parseRow, readRows, rowError, type RowPlace } from '../read-rows.ts';
import { promptAsserts } from '../split-rules.ts';
import type { Task } from '../task.ts';

const MainRow = z.object({
  task_id: z.string().regex(/^Mbpp\/\d+$/, 'expected "Mbpp/<number>"'),
  prompt: z.string().min(1),
  entry_point: z.string().min(1),
  canonical_solution: z.string().min(1),
  base_input: InputsFieldSchema,
  plus_input: InputsFieldSchema,
  atol: z.union([z.number(), z.string()]),
});

/** The OriginFmt file now only supplies test_imports, the setup of the public asserts; its test is not used. */
const OriginFmtRow = z.object({
  task_id: z.union([z.number().int().positive(), z.string().regex(/^\d+$/)]),
  test_imports: z.array(z.string()),
});

export async function loadMbppPlus(dataDir: string, opts: { split?: SplitOption } = {}): Promise<Task[]> {
  const origin = new Map<number, { imports: string[]; place: RowPlace }>();
  for await (const row of readRows(dataDir, DATA_FILES.mbppPlusOriginFmt)) {
    const r = parseRow(OriginFmtRow, row);
    origin.set(Number(r.task_id), { imports: r.test_imports, place: row });
  }
  const tasks: Task[] = [];
  for await (const row of readRows(dataDir, DATA_FILES.mbppPlus)) {
    const r = parseRow(MainRow, row);
    const n = Number(r.task_id.slice('Mbpp/'.length));
    const o = origin.get(n);
    if (o === undefined) throw rowError(row, 'task_id', `${r.task_id} has no row in ${DATA_FILES.mbppPlusOriginFmt}`);
    origin.delete(n);
    const atol = Number(r.atol);
    if (!Number.isFinite(atol) || atol < 0) throw rowError(row, 'atol', `expected a non-negative number, found ${JSON.stringify(r.atol)}`);
    const base = inputLists(r.base_input, row, 'base_input');
    const plus = inputLists(r.plus_input, row, 'plus_input');
    const shown = promptAsserts(r.prompt);
    if (shown.length === 0) throw rowError(row, 'prompt', 'shows no assert, so there is no public test');
    if (!inSplit(n, opts.split)) continue;
    const setup = o.imports.length === 0 ? {} : { setup: o.imports.join('\n') };
    tasks.push({
      id: r.task_id,
      benchmark: 'mbpp-plus',
      prompt: r.prompt,
      entryPoint: r.entry_point,
      reference: r.canonical_solution,
      completionPrefix: r.prompt,
      publicTests: { harness: 'asserts', entryPoint: r.entry_point, tests: shown, ...setup, timeoutS: LIMITS.evalplusPublic.timeoutS, fastFail: false },
      hiddenTests: {
        harness: 'evalplus',
        entryPoint: r.entry_point,
        timeoutS: LIMITS.evalplus.timeoutS,
        perCallTimeoutS: LIMITS.evalplus.perCallTimeoutS,
        baseCount: base.length,
        fastFail: true,
        inputsJson: inputsJsonText(row, ['base_input', 'plus_input']),
        // A whole program; upstream runs prompt + canonical_solution, and the MBPP+ prompt is only a docstring.
        reference: r.canonical_solution,
        atol,
        dataset: 'mbpp',
        taskId: r.task_id,
      },
      requires: [],
      meta: { taskNumber: n, split: mbppSplitOf(n), atol, baseCount: base.length, plusCount: plus.length, file: DATA_FILES.mbppPlus },
    });
  }
  const orphan = origin.values().next().value;
  if (orphan !== undefined) throw rowError(orphan.place, 'task_id', `no row with this task_id in ${DATA_FILES.mbppPlus}`);
  return tasks;
}
