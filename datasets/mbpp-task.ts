// One MBPP-family row (original or sanitized) → a Task: entry point from the first assert, public = assert 1, hidden = all.
import { MBPP_JUDGED_INSIDE } from './judged-inside.ts';
import { LIMITS } from './limits.ts';
import { mbppEntryPoint } from './mbpp-entry-point.ts';
import { inSplit, mbppSplitOf, type SplitOption } from './mbpp-split.ts';
import { rowError, type RowPlace } from './read-rows.ts';
import { mbppPrompt, mbppTests } from './split-rules.ts';
import type { Task } from './task.ts';

export interface MbppFields {
  benchmark: 'mbpp' | 'mbpp-sanitized';
  taskNumber: number;
  text: string;
  code: string;
  testList: string[];
  /** Code run after the program and before the asserts ('' for none). */
  setup: string;
  meta: Record<string, unknown>;
}

/** The task, or null when it is outside the requested split. */
export function mbppTask(row: RowPlace, f: MbppFields, split: SplitOption | undefined): Task | null {
  const first = f.testList[0] as string;
  const entryPoint = mbppEntryPoint(f.code, first);
  if (entryPoint === undefined) throw rowError(row, 'code', 'no single top-level function of the code is called by the first assert of test_list');
  if (!inSplit(f.taskNumber, split)) return null;
  const { publicTests, hiddenTests } = mbppTests(f.testList);
  const setup = { ...(f.setup.trim() === '' ? {} : { setup: f.setup }), ...(MBPP_JUDGED_INSIDE[f.taskNumber] !== undefined ? { judge: 'inside' as const } : {}) };
  return {
    id: `Mbpp/${f.taskNumber}`,
    benchmark: f.benchmark,
    prompt: mbppPrompt(f.text, first),
    entryPoint,
    reference: f.code,
    completionPrefix: '',
    publicTests: { harness: 'asserts', entryPoint, tests: publicTests, ...setup, timeoutS: LIMITS.mbpp.timeoutS, fastFail: false },
    hiddenTests: { harness: 'asserts', entryPoint, tests: hiddenTests, ...setup, timeoutS: LIMITS.mbpp.timeoutS, fastFail: true },
    requires: [],
    meta: { taskNumber: f.taskNumber, split: mbppSplitOf(f.taskNumber), text: f.text, ...f.meta },
  };
}
