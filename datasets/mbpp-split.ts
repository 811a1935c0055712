// MBPP's official splits by task number (google-research mbpp/README; also used for sanitized MBPP and MBPP+).
import { z } from 'zod';

export const MBPP_SPLITS = ['prompt', 'test', 'validation', 'train'] as const;
export const MbppSplitSchema = z.enum(MBPP_SPLITS);
export type MbppSplit = z.infer<typeof MbppSplitSchema>;
/** What a loader option may ask for: one official split, or every row. */
export const SplitOptionSchema = z.enum([...MBPP_SPLITS, 'all']);
export type SplitOption = z.infer<typeof SplitOptionSchema>;

/** prompt (few-shot) 1-10, test 11-510, validation 511-600, train 601-974. */
export function mbppSplitOf(taskNumber: number): MbppSplit {
  if (taskNumber <= 10) return 'prompt';
  if (taskNumber <= 510) return 'test';
  if (taskNumber <= 600) return 'validation';
  return 'train';
}

export function inSplit(taskNumber: number, split: SplitOption | undefined): boolean {
  return split === undefined || split === 'all' || mbppSplitOf(taskNumber) === split;
}
