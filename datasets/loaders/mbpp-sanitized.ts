// Loads sanitized MBPP (google-research sanitized-mbpp.json, a JSON array of 427 tasks): public = assert 1, hidden = all asserts.
import { z } from 'zod';
import { DATA_FILES } from '../data-files.ts';
import { LIMITS } from '../limits.ts';
import { mbppEntryPoint } from '../mbpp-entry-point.ts';
import { inSplit, mbppSplitOf, type SplitOption } from '../mbpp-split.ts';
import { parseRow, readRows, rowError } from '../read-rows.ts';
import { mbppPrompt, mbppTests } from '../split-rules.ts';
import type { Task } from '../task.ts';

const SanitizedRow = z.object({
  task_id: z.number().int().positive(),
  prompt: z.string().min(1),
  code: z.string().min(1),
  test_imports: z.array(z.string()),
  test_list: z.array(z.string().min(1)).min(1),
  source_file: z.string().optional(),
});

export async function loadMbppSanitized(dataDir: string, opts: { split?: SplitOption } = {}): Promise<Task[]> {
  const tasks: Task[] = [];
  for await (const row of readRows(dataDir, DATA_FILES.mbppSanitized)) {
    const r = parseRow(SanitizedRow, row);
    const first = r.test_list[0] as string;
    const entryPoint = mbppEntryPoint(r.code, first);
    if (entryPoint === undefined) throw rowError(row, 'code', 'no single top-level function of the code is called by the first assert of test_list');
    if (!inSplit(r.task_id, opts.split)) continue;
    const { publicTests, hiddenTests } = mbppTests(r.test_list);
    // Upstream runs the imports before the code; the asserts harness runs setup after it, which is the same for
    // the references (they use the imported modules only inside functions).
    const setup = r.test_imports.length === 0 ? {} : { setup: r.test_imports.join('\n') };
    tasks.push({
      id: `Mbpp/${r.task_id}`,
      benchmark: 'mbpp-sanitized',
      prompt: mbppPrompt(r.prompt, first),
      entryPoint,
      reference: r.code,
      completionPrefix: '',
      publicTests: { harness: 'asserts', entryPoint, tests: publicTests, ...setup, timeoutS: LIMITS.mbpp.timeoutS, fastFail: false },
      hiddenTests: { harness: 'asserts', entryPoint, tests: hiddenTests, ...setup, timeoutS: LIMITS.mbpp.timeoutS, fastFail: true },
      requires: [],
      meta: { taskNumber: r.task_id, split: mbppSplitOf(r.task_id), text: r.prompt, sourceFile: r.source_file, file: DATA_FILES.mbppSanitized },
    });
  }
  return tasks;
}
