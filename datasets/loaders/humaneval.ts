// Loads HumanEval (openai/human-eval, 164 tasks): hidden = the official check(candidate) test, public = docstring examples.
import { z } from 'zod';
import { DATA_FILES } from '../data-files.ts';
import { LIMITS } from '../limits.ts';
import { parseRow, readRows, rowError } from '../read-rows.ts';
import { humanevalPublicTests } from '../split-rules.ts';
import type { Task } from '../task.ts';

const HumanEvalRow = z.object({
  task_id: z.string().min(1),
  prompt: z.string().min(1),
  entry_point: z.string().min(1),
  canonical_solution: z.string().min(1),
  test: z.string().min(1),
});

export async function loadHumanEval(dataDir: string): Promise<Task[]> {
  const tasks: Task[] = [];
  for await (const row of readRows(dataDir, DATA_FILES.humaneval)) {
    const r = parseRow(HumanEvalRow, row);
    const pub = humanevalPublicTests(r.task_id, r.prompt, r.entry_point, r.test);
    if (pub === undefined) throw rowError(row, 'test', 'no usable docstring example and no standalone assert in check(candidate)');
    tasks.push({
      id: r.task_id,
      benchmark: 'humaneval',
      prompt: r.prompt,
      entryPoint: r.entry_point,
      reference: r.prompt + r.canonical_solution,
      completionPrefix: r.prompt,
      publicTests: { harness: 'asserts', entryPoint: r.entry_point, tests: pub.tests, timeoutS: LIMITS.humaneval.timeoutS, fastFail: false },
      hiddenTests: { harness: 'check', entryPoint: r.entry_point, test: r.test, timeoutS: LIMITS.humaneval.timeoutS },
      requires: [],
      meta: { publicSource: pub.source, skippedExamples: pub.skippedExamples, file: DATA_FILES.humaneval },
    });
  }
  return tasks;
}
