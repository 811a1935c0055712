// Loads HumanEval+ v0.1.10 (EvalPlus): prompt and reference from the main file, hidden = the OriginFmt test, base/plus split by base_input.
import { z } from 'zod';
import { DATA_FILES } from '../data-files.ts';
import { InputsFieldSchema, inputLists } from '../evalplus-inputs.ts';
import { FIND_ZERO_REPLACEMENT, FIND_ZERO_TASK_ID, findZeroOracleTest } from '../find-zero-oracle.ts';
import { LIMITS } from '../limits.ts';
import { parseRow, readRows, rowError, type RowPlace } from '../read-rows.ts';
import { humanevalPublicTests } from '../split-rules.ts';
import type { Task, TestSpec } from '../task.ts';

const MainRow = z.object({
  task_id: z.string().min(1),
  prompt: z.string().min(1),
  entry_point: z.string().min(1),
  canonical_solution: z.string().min(1),
  /** The original HumanEval check(candidate), kept unchanged by EvalPlus; used only for the public fallback. */
  test: z.string().min(1),
  base_input: InputsFieldSchema,
  plus_input: InputsFieldSchema,
  atol: z.union([z.number(), z.string()]),
});

const OriginFmtRow = z.object({
  task_id: z.string().min(1),
  entry_point: z.string().min(1),
  test: z.string().min(1),
});

/** The OriginFmt tests compare with numpy (`np.allclose`), so the test, not the task, needs it. */
const ORIGINFMT_REQUIRES = ['numpy'];

export async function loadHumanEvalPlus(dataDir: string): Promise<Task[]> {
  const tests = new Map<string, { test: string; entryPoint: string; place: RowPlace }>();
  for await (const row of readRows(dataDir, DATA_FILES.humanevalPlusOriginFmt)) {
    const r = parseRow(OriginFmtRow, row);
    tests.set(r.task_id, { test: r.test, entryPoint: r.entry_point, place: row });
  }
  const tasks: Task[] = [];
  for await (const row of readRows(dataDir, DATA_FILES.humanevalPlus)) {
    const r = parseRow(MainRow, row);
    const origin = tests.get(r.task_id);
    if (origin === undefined) throw rowError(row, 'task_id', `${r.task_id} has no row in ${DATA_FILES.humanevalPlusOriginFmt}`);
    if (origin.entryPoint !== r.entry_point) throw rowError(origin.place, 'entry_point', `${origin.entryPoint} differs from ${r.entry_point} in ${DATA_FILES.humanevalPlus}`);
    tests.delete(r.task_id);
    const atol = Number(r.atol);
    if (!Number.isFinite(atol) || atol < 0) throw rowError(row, 'atol', `expected a non-negative number, found ${JSON.stringify(r.atol)}`);
    const base = inputLists(r.base_input, row, 'base_input');
    const plus = inputLists(r.plus_input, row, 'plus_input');
    const pub = humanevalPublicTests(r.task_id, r.prompt, r.entry_point, r.test);
    if (pub === undefined) throw rowError(row, 'test', 'no usable docstring example and no standalone assert in check(candidate)');
    const replaced = r.task_id === FIND_ZERO_TASK_ID;
    const hidden: TestSpec = {
      harness: 'evalplus',
      entryPoint: r.entry_point,
      test: replaced ? findZeroOracleTest([...base, ...plus]) : origin.test,
      timeoutS: LIMITS.evalplus.timeoutS,
      perCallTimeoutS: LIMITS.evalplus.perCallTimeoutS,
      baseCount: base.length,
      fastFail: true,
    };
    if (!replaced) hidden.requires = [...ORIGINFMT_REQUIRES];
    const meta: Record<string, unknown> = {
      atol,
      baseCount: base.length,
      plusCount: plus.length,
      publicSource: pub.source,
      skippedExamples: pub.skippedExamples,
      file: DATA_FILES.humanevalPlus,
    };
    if (replaced) meta.testReplaced = FIND_ZERO_REPLACEMENT;
    tasks.push({
      id: r.task_id,
      benchmark: 'humaneval-plus',
      prompt: r.prompt,
      entryPoint: r.entry_point,
      reference: r.prompt + r.canonical_solution,
      completionPrefix: r.prompt,
      publicTests: { harness: 'asserts', entryPoint: r.entry_point, tests: pub.tests, timeoutS: LIMITS.humaneval.timeoutS, fastFail: false },
      hiddenTests: hidden,
      requires: [],
      meta,
    });
  }
  const orphan = tests.values().next().value;
  if (orphan !== undefined) throw rowError(orphan.place, 'task_id', `no row with this task_id in ${DATA_FILES.humanevalPlus}`);
  return tasks;
}
