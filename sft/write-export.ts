// Writes one export: every format of both shapes, per split, the RL prompts and LLaMA-Factory's dataset_info.json.
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../pipeline/store/atomic-write.ts';
import { parquetBytes } from '../pipeline/store/parquet.ts';
import { RL_COLUMNS, rlRow, type RlQuery } from '../pipeline/export/rl-prompts.ts';
import type { ReasoningFormat } from './config-schema.ts';
import type { Conversation } from './conversation.ts';
import { LAYOUT } from './layout.ts';
import type { Split } from './split.ts';
import { alpacaRow } from './formats/alpaca.ts';
import { datasetInfo, type RegisteredFiles } from './formats/dataset-info.ts';
import { writeJsonArray, writeJsonl } from './formats/json-files.ts';
import { messagesColumns, messagesParquetRow, messagesRow } from './formats/messages.ts';
import { promptCompletionRow } from './formats/prompt-completion.ts';
import { sharegptRow } from './formats/sharegpt.ts';
import { verlSftColumns, verlSftRow } from './formats/verl-sft.ts';

export interface ExportInput {
  outDir: string;
  format: ReasoningFormat;
  singleTurn: readonly Conversation[];
  multiTurn: readonly Conversation[];
  rl: readonly RlQuery[];
}

export interface WrittenFile {
  path: string;
  /** Who reads it. */
  for: string;
  shape: 'single-turn' | 'multi-turn' | 'rl-prompts' | 'registry';
  split: Split | null;
  rows: number;
}

/** A file of the layout that has no rows in this export, so it was not written. */
export interface SkippedFile {
  path: string;
  shape: WrittenFile['shape'];
  split: Split;
  reason: 'empty-split';
}

export interface ExportResult {
  files: WrittenFile[];
  skipped: SkippedFile[];
}

const SPLITS: readonly Split[] = ['train', 'validation'];

/**
 * An empty split is not written at all: Hugging Face `datasets` refuses 0-row Parquet and empty JSON files, so a
 * trainer pointed at one would fail on its first use. Such files are listed in `skipped` (stats.json says so),
 * dataset_info.json does not register them, and a stale copy from an earlier export into the same folder is removed.
 */
export async function writeExport(x: ExportInput): Promise<ExportResult> {
  await mkdir(path.join(x.outDir, 'rl'), { recursive: true });
  const files: WrittenFile[] = [];
  const skipped: SkippedFile[] = [];
  const at = (rel: string): string => path.join(x.outDir, rel);
  const written = new Set<string>();
  for (const split of SPLITS) {
    const single = x.singleTurn.filter((c) => c.split === split);
    const multi = x.multiTurn.filter((c) => c.split === split);
    const rl = x.rl.filter((q) => q.split === split);
    const emit = async (rel: string, reader: string, shape: WrittenFile['shape'], rows: number, write: (file: string) => Promise<void>): Promise<void> => {
      if (rows === 0) {
        skipped.push({ path: rel, shape, split, reason: 'empty-split' });
        await rm(at(rel), { force: true });
        return;
      }
      await write(at(rel));
      written.add(rel);
      files.push({ path: rel, for: reader, shape, split, rows });
    };
    const parquet = (columns: Parameters<typeof parquetBytes>[0], rows: Parameters<typeof parquetBytes>[1]) => (file: string) => writeFileAtomic(file, parquetBytes(columns, rows));

    await emit(LAYOUT.messages[split], 'TRL SFTTrainer, verl multi-turn SFT, LLaMA-Factory (flowreasoner_sft_messages)', 'single-turn', single.length, (f) => writeJsonl(f, single.map(messagesRow)));
    await emit(LAYOUT.messagesParquet[split], 'TRL SFTTrainer, verl multi-turn SFT (data.messages_key=messages)', 'single-turn', single.length, parquet(messagesColumns(x.format), single.map((c) => messagesParquetRow(c, x.format))));
    await emit(LAYOUT.promptCompletion[split], 'TRL SFTTrainer, loss on the completion only (scripts/trainers/trl_sft.py)', 'single-turn', single.length, (f) => writeJsonl(f, single.map(promptCompletionRow)));
    await emit(LAYOUT.multiTurnMessages[split], 'TRL SFTTrainer, verl multi-turn SFT, LLaMA-Factory (flowreasoner_sft_multiturn_messages)', 'multi-turn', multi.length, (f) => writeJsonl(f, multi.map(messagesRow)));
    await emit(LAYOUT.multiTurnMessagesParquet[split], 'TRL SFTTrainer, verl multi-turn SFT', 'multi-turn', multi.length, parquet(messagesColumns(x.format), multi.map((c) => messagesParquetRow(c, x.format))));
    await emit(LAYOUT.sharegpt[split], 'LLaMA-Factory (flowreasoner_sft)', 'single-turn', single.length, (f) => writeJsonl(f, single.map(sharegptRow)));
    await emit(LAYOUT.multiTurnSharegpt[split], 'LLaMA-Factory (flowreasoner_sft_multiturn)', 'multi-turn', multi.length, (f) => writeJsonl(f, multi.map(sharegptRow)));
    await emit(LAYOUT.alpaca[split], 'LLaMA-Factory (flowreasoner_sft_alpaca)', 'single-turn', single.length, (f) => writeJsonArray(f, single.map(alpacaRow)));
    await emit(LAYOUT.verlSft[split], 'verl single-turn SFT (data.prompt_key=question, data.response_key=answer)', 'single-turn', single.length, parquet(verlSftColumns(x.format), single.map(verlSftRow)));
    await emit(LAYOUT.rl[split], 'verl GRPO (data.train_files / data.val_files), EasyR1, OpenRLHF', 'rl-prompts', rl.length, parquet(RL_COLUMNS, rl.map((q, i) => rlRow(q, i))));
  }
  const only = (pair: Readonly<Record<Split, string>>): Partial<Record<Split, string>> => Object.fromEntries(SPLITS.filter((s) => written.has(pair[s])).map((s) => [s, pair[s]]));
  const registered: RegisteredFiles = {
    sharegpt: only(LAYOUT.sharegpt),
    multiTurnSharegpt: only(LAYOUT.multiTurnSharegpt),
    alpaca: only(LAYOUT.alpaca),
    messages: only(LAYOUT.messages),
    multiTurnMessages: only(LAYOUT.multiTurnMessages),
  };
  const info = datasetInfo(registered);
  await writeFileAtomic(at(LAYOUT.datasetInfo), `${JSON.stringify(info, null, 2)}\n`);
  files.push({ path: LAYOUT.datasetInfo, for: 'LLaMA-Factory (dataset_dir)', shape: 'registry', split: null, rows: Object.keys(info).length });
  return { files, skipped };
}
