// Loads HumanEval+ v0.1.10 (EvalPlus): prompt and reference from the main file; hidden = EvalPlus's oracle path over base then plus inputs.
import { z } from 'zod';
import { DATA_FILES } from '../data-files.ts';
import { InputsFieldSchema, inputLists, inputsJsonText } from '../evalplus-inputs.ts';
import { LIMITS } from '../limits.ts';
import { parseRow, readRows, rowError } from '../read-rows.ts';
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

export async function loadHumanEvalPlus(dataDir: string): Promise<Task[]> {
  const tasks: Task[] = [];
  for await (const row of readRows(dataDir, DATA_FILES.humanevalPlus)) {
    const r = parseRow(MainRow, row);
    const atol = Number(r.atol);
    if (!Number.isFinite(atol) || atol < 0) throw rowError(row, 'atol', `expected a non-negative number, found ${JSON.stringify(r.atol)}`);
    const base = inputLists(r.base_input, row, 'base_input');
    const plus = inputLists(r.plus_input, row, 'plus_input');
    const pub = humanevalPublicTests(r.task_id, r.prompt, r.entry_point, r.test);
    if (pub === undefined) throw rowError(row, 'test', 'no usable docstring example and no standalone assert in check(candidate)');
    // EvalPlus computes expected outputs by running prompt + canonical_solution (evaluate.py get_groundtruth).
    const reference = r.prompt + r.canonical_solution;
    const hidden: TestSpec = {
      harness: 'evalplus',
      entryPoint: r.entry_point,
      timeoutS: LIMITS.evalplus.timeoutS,
      perCallTimeoutS: LIMITS.evalplus.perCallTimeoutS,
      baseCount: base.length,
      fastFail: true,
      inputsJson: inputsJsonText(row, ['base_input', 'plus_input']),
      reference,
      atol,
      dataset: 'humaneval',
      taskId: r.task_id,
    };
    tasks.push({
      id: r.task_id,
      benchmark: 'humaneval-plus',
      prompt: r.prompt,
      entryPoint: r.entry_point,
      reference,
      completionPrefix: r.prompt,
      publicTests: { harness: 'asserts', entryPoint: r.entry_point, tests: pub.tests, timeoutS: LIMITS.humaneval.timeoutS, fastFail: false },
      hiddenTests: hidden,
      requires: [],
      meta: {
        atol,
        baseCount: base.length,
        plusCount: plus.length,
        publicSource: pub.source,
        skippedExamples: pub.skippedExamples,
        file: DATA_FILES.humanevalPlus,
      },
    });
  }
  return tasks;
}
