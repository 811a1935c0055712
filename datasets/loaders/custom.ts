// Loads users' private tasks from our own JSONL format (`custom:FILE`): assert-statement tests, public and hidden.
/**
 * One JSON object per line; unknown keys are errors:
 *
 *   {"task_id": "acme/1", "prompt": "def add(a, b):\n    \"\"\"Add two numbers.\"\"\"\n", "entry_point": "add",
 *    "reference": "def add(a, b):\n    return a + b\n",
 *    "public_tests": ["assert add(1, 2) == 3"], "hidden_tests": ["assert add(-1, 1) == 0", "assert add(2, 2) == 4"],
 *    "setup": "import math"}
 *
 * - task_id, prompt, entry_point: required strings; task ids must be unique in the file.
 * - reference: optional full reference program ('' when absent).
 * - public_tests: at least one assert statement (shown to the meta-agent); hidden_tests: at least one.
 * - setup: optional code run after the program and before the tests of both kinds.
 * Both kinds run in the `asserts` harness (3 s for the whole exec). A sample's completion or solution is the whole
 * program (completionPrefix is ''). A prompt that contains a hidden test which is not also public is rejected.
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { PipelineError } from '../../pipeline/errors.ts';
import { MISSING_HINT } from '../data-files.ts';
import { LIMITS } from '../limits.ts';
import { parseRow, readJsonl, rowError } from '../read-rows.ts';
import type { Task } from '../task.ts';

export const CustomRowSchema = z.strictObject({
  task_id: z.string().min(1),
  prompt: z.string().min(1),
  entry_point: z.string().regex(/^[A-Za-z_]\w*$/, 'expected a Python function name'),
  reference: z.string().optional(),
  public_tests: z.array(z.string().trim().min(1)).min(1),
  hidden_tests: z.array(z.string().trim().min(1)).min(1),
  setup: z.string().optional(),
});
export type CustomRow = z.infer<typeof CustomRowSchema>;

export async function loadCustom(file: string): Promise<Task[]> {
  const p = path.resolve(file);
  try {
    await access(p);
  } catch (e) {
    throw new PipelineError('data-missing', `${p}: custom task file not found`, { hint: MISSING_HINT, cause: e });
  }
  const tasks: Task[] = [];
  const seen = new Set<string>();
  for await (const row of readJsonl(p)) {
    const r = parseRow(CustomRowSchema, row);
    if (seen.has(r.task_id)) throw rowError(row, 'task_id', `${r.task_id} appears twice`);
    seen.add(r.task_id);
    const publicCode = new Set(r.public_tests);
    r.hidden_tests.forEach((t, k) => {
      if (!publicCode.has(t) && r.prompt.includes(t)) throw rowError(row, `hidden_tests.${k}`, 'appears in the prompt but is not a public test');
    });
    const setup = r.setup === undefined || r.setup.trim() === '' ? {} : { setup: r.setup };
    const named = (tests: string[], prefix: string) => tests.map((code, i) => ({ name: `${prefix}_${i + 1}`, code }));
    tasks.push({
      id: r.task_id,
      benchmark: 'custom',
      prompt: r.prompt,
      entryPoint: r.entry_point,
      reference: r.reference ?? '',
      completionPrefix: '',
      publicTests: { harness: 'asserts', entryPoint: r.entry_point, tests: named(r.public_tests, 'public'), ...setup, timeoutS: LIMITS.custom.timeoutS, fastFail: false },
      hiddenTests: { harness: 'asserts', entryPoint: r.entry_point, tests: named(r.hidden_tests, 'hidden'), ...setup, timeoutS: LIMITS.custom.timeoutS, fastFail: true },
      requires: [],
      meta: { file: p },
    });
  }
  return tasks;
}
