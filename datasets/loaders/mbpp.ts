// Loads original MBPP (google-research mbpp.jsonl, 974 tasks): public = assert 1, hidden = asserts 1-3, official splits by task number.
import { z } from 'zod';
import { DATA_FILES } from '../data-files.ts';
import { LIMITS } from '../limits.ts';
import { mbppEntryPoint } from '../mbpp-entry-point.ts';
import { inSplit, mbppSplitOf, type SplitOption } from '../mbpp-split.ts';
import { parseRow, readRows, rowError } from '../read-rows.ts';
import { mbppPrompt, mbppTests } from '../split-rules.ts';
import type { Task } from '../task.ts';

const MbppRow = z.object({
  task_id: z.number().int().positive(),
  text: z.string().min(1),
  code: z.string().min(1),
  test_setup_code: z.string(),
  test_list: z.array(z.string().min(1)).length(3),
  challenge_test_list: z.array(z.string()),
});

export async function loadMbpp(dataDir: string, opts: { split?: SplitOption } = {}): Promise<Task[]> {
  const tasks: Task[] = [];
  for await (const row of readRows(dataDir, DATA_FILES.mbpp)) {
    const r = parseRow(MbppRow, row);
    const first = r.test_list[0] as string;
    const entryPoint = mbppEntryPoint(r.code, first);
    if (entryPoint === undefined) throw rowError(row, 'code', 'no single top-level function of the code is called by the first assert of test_list');
    if (!inSplit(r.task_id, opts.split)) continue;
    const { publicTests, hiddenTests } = mbppTests(r.test_list);
    const setup = r.test_setup_code.trim() === '' ? {} : { setup: r.test_setup_code };
    tasks.push({
      id: `Mbpp/${r.task_id}`,
      benchmark: 'mbpp',
      prompt: mbppPrompt(r.text, first),
      entryPoint,
      reference: r.code,
      completionPrefix: '',
      publicTests: { harness: 'asserts', entryPoint, tests: publicTests, ...setup, timeoutS: LIMITS.mbpp.timeoutS, fastFail: false },
      hiddenTests: { harness: 'asserts', entryPoint, tests: hiddenTests, ...setup, timeoutS: LIMITS.mbpp.timeoutS, fastFail: true },
      requires: [],
      meta: { taskNumber: r.task_id, split: mbppSplitOf(r.task_id), text: r.text, file: DATA_FILES.mbpp },
    });
  }
  return tasks;
}
