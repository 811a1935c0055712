// Writes one export: every format of both shapes, per split, the RL prompts and LLaMA-Factory's dataset_info.json.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../pipeline/store/atomic-write.ts';
import type { ReasoningFormat } from './config-schema.ts';
import type { Conversation } from './conversation.ts';
import { LAYOUT } from './layout.ts';
import type { Split } from './split.ts';
import { alpacaRow } from './formats/alpaca.ts';
import { datasetInfo } from './formats/dataset-info.ts';
import { writeJsonArray, writeJsonl } from './formats/json-files.ts';
import { messagesColumns, messagesParquetRow, messagesRow } from './formats/messages.ts';
import { parquetBytes } from './formats/parquet.ts';
import { RL_COLUMNS, rlRow, type RlQuery } from './formats/rl-prompts.ts';
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

const SPLITS: readonly Split[] = ['train', 'validation'];

export async function writeExport(x: ExportInput): Promise<WrittenFile[]> {
  await mkdir(path.join(x.outDir, 'rl'), { recursive: true });
  const files: WrittenFile[] = [];
  const at = (rel: string): string => path.join(x.outDir, rel);
  for (const split of SPLITS) {
    const single = x.singleTurn.filter((c) => c.split === split);
    const multi = x.multiTurn.filter((c) => c.split === split);
    const rl = x.rl.filter((q) => q.split === split);
    const add = (rel: string, reader: string, shape: WrittenFile['shape'], rows: number): void => {
      files.push({ path: rel, for: reader, shape, split, rows });
    };

    await writeJsonl(at(LAYOUT.messages[split]), single.map(messagesRow));
    add(LAYOUT.messages[split], 'TRL SFTTrainer, verl multi-turn SFT, LLaMA-Factory (flowreasoner_sft_messages)', 'single-turn', single.length);
    await writeFileAtomic(at(LAYOUT.messagesParquet[split]), parquetBytes(messagesColumns(x.format), single.map((c) => messagesParquetRow(c, x.format))));
    add(LAYOUT.messagesParquet[split], 'TRL SFTTrainer, verl multi-turn SFT (data.messages_key=messages)', 'single-turn', single.length);
    await writeJsonl(at(LAYOUT.multiTurnMessages[split]), multi.map(messagesRow));
    add(LAYOUT.multiTurnMessages[split], 'TRL SFTTrainer, verl multi-turn SFT, LLaMA-Factory (flowreasoner_sft_multiturn_messages)', 'multi-turn', multi.length);
    await writeFileAtomic(at(LAYOUT.multiTurnMessagesParquet[split]), parquetBytes(messagesColumns(x.format), multi.map((c) => messagesParquetRow(c, x.format))));
    add(LAYOUT.multiTurnMessagesParquet[split], 'TRL SFTTrainer, verl multi-turn SFT', 'multi-turn', multi.length);
    await writeJsonl(at(LAYOUT.sharegpt[split]), single.map(sharegptRow));
    add(LAYOUT.sharegpt[split], 'LLaMA-Factory (flowreasoner_sft)', 'single-turn', single.length);
    await writeJsonl(at(LAYOUT.multiTurnSharegpt[split]), multi.map(sharegptRow));
    add(LAYOUT.multiTurnSharegpt[split], 'LLaMA-Factory (flowreasoner_sft_multiturn)', 'multi-turn', multi.length);
    await writeJsonArray(at(LAYOUT.alpaca[split]), single.map(alpacaRow));
    add(LAYOUT.alpaca[split], 'LLaMA-Factory (flowreasoner_sft_alpaca)', 'single-turn', single.length);
    await writeFileAtomic(at(LAYOUT.verlSft[split]), parquetBytes(verlSftColumns(x.format), single.map(verlSftRow)));
    add(LAYOUT.verlSft[split], 'verl single-turn SFT (data.prompt_key=question, data.response_key=answer)', 'single-turn', single.length);
    await writeFileAtomic(at(LAYOUT.rl[split]), parquetBytes(RL_COLUMNS, rl.map((q, i) => rlRow(q, i))));
    add(LAYOUT.rl[split], 'verl GRPO (data.train_files / data.val_files), EasyR1, OpenRLHF', 'rl-prompts', rl.length);
  }
  const info = datasetInfo({
    sharegpt: LAYOUT.sharegpt,
    multiTurnSharegpt: LAYOUT.multiTurnSharegpt,
    alpaca: LAYOUT.alpaca,
    messages: LAYOUT.messages,
    multiTurnMessages: LAYOUT.multiTurnMessages,
  });
  await writeFileAtomic(at(LAYOUT.datasetInfo), `${JSON.stringify(info, null, 2)}\n`);
  files.push({ path: LAYOUT.datasetInfo, for: 'LLaMA-Factory (dataset_dir)', shape: 'registry', split: null, rows: Object.keys(info).length });
  return files;
}
