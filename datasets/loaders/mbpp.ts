// Loads original MBPP (google-research mbpp.jsonl, 974 tasks): public = assert 1, hidden = asserts 1-3, official splits by task number.
import { z } from 'zod';
import { DATA_FILES } from '../data-files.ts';
import type { SplitOption } from '../mbpp-split.ts';
import { mbppTask } from '../mbpp-task.ts';
import { parseRow, readRows } from '../read-rows.ts';
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
    const task = mbppTask(
      row,
      { benchmark: 'mbpp', taskNumber: r.task_id, text: r.text, code: r.code, testList: r.test_list, setup: r.test_setup_code, meta: { file: DATA_FILES.mbpp } },
      opts.split,
    );
    if (task !== null) tasks.push(task);
  }
  return tasks;
}
