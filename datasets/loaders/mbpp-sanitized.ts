// Loads sanitized MBPP (google-research sanitized-mbpp.json, a JSON array of 427 tasks): public = assert 1, hidden = all asserts.
import { z } from 'zod';
import { DATA_FILES } from '../data-files.ts';
import type { SplitOption } from '../mbpp-split.ts';
import { mbppTask } from '../mbpp-task.ts';
import { parseRow, readRows } from '../read-rows.ts';
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
    // Upstream runs the imports before the code; the asserts harness runs setup after it, which is the same for
    // the references (they use the imported modules only inside functions).
    const task = mbppTask(
      row,
      {
        benchmark: 'mbpp-sanitized',
        taskNumber: r.task_id,
        text: r.prompt,
        code: r.code,
        testList: r.test_list,
        setup: r.test_imports.join('\n'),
        meta: { sourceFile: r.source_file, file: DATA_FILES.mbppSanitized },
      },
      opts.split,
    );
    if (task !== null) tasks.push(task);
  }
  return tasks;
}
