// `flowreasoner sft`: export distilled traces as SFT datasets (LLaMA-Factory, TRL, verl) and the GRPO prompt set.
import path from 'node:path';
import type { Command } from 'commander';
import { PipelineError } from '../../errors.ts';
import { collect } from '../options.ts';

export interface SftCliOptions {
  config?: string;
  set?: string[];
  from?: string[];
  out?: string;
  tokenizer?: string;
}

/** The folders an export reads and writes; checked here so that a usage error does not wait for the engine to load. */
export function sftTarget(opts: SftCliOptions): { from: string[]; out: string } {
  const from = opts.from ?? [];
  if (from.length === 0) throw new PipelineError('usage', 'sft needs --from <run-dir> (a distill run directory or its distill/ folder)', { hint: 'e.g. flowreasoner sft --from runs/<id> --out runs/<id>/sft' });
  let out = opts.out;
  if (out === undefined) {
    if (from.length > 1) throw new PipelineError('usage', 'with several --from directories, say where the export goes with --out DIR');
    const only = path.resolve(from[0] ?? '.');
    out = path.join(path.basename(only) === 'distill' ? path.dirname(only) : only, 'sft');
  }
  return { from, out };
}

export function registerSft(program: Command): void {
  program
    .command('sft')
    .description('Export distilled traces as SFT datasets for LLaMA-Factory, TRL and verl, plus verl\'s GRPO prompt set.')
    .option('-f, --from <dirs...>', 'distill run directories or their distill/ folders (several: shards or runs to merge)')
    .option('-o, --out <dir>', 'export folder (default: <run>/sft with one --from)')
    .option('-c, --config <file>', 'YAML config whose `sft` section is used (defaults otherwise)')
    .option('--set <key=value>', 'override a config key, e.g. sft.minHiddenScore=0.5 (repeatable)', collect, [])
    .option('--tokenizer <tokenizer.json>', "the student model's tokenizer.json, for real token counts (same as sft.tokenizer)")
    .addHelpText(
      'after',
      `
Examples:
  $ flowreasoner sft --from runs/d1 --out runs/d1/sft
  $ flowreasoner sft --from runs/s0 runs/s1 --out runs/merged-sft --set sft.keepImproved=true
  $ flowreasoner sft --from runs/d1/distill --tokenizer models/qwen-7b/tokenizer.json --set sft.maxTokens=8192
Writes (in --out): train./val.messages.jsonl|.parquet (TRL, verl), *.sharegpt.jsonl, *.alpaca.json and
dataset_info.json (LLaMA-Factory), *.verl-sft.parquet (verl single-turn), multiturn.* variants, rl/train.parquet
and rl/val.parquet (verl GRPO prompts), stats.json. Trainer examples: scripts/sft/.
Exit codes: 0 samples written, 1 no sample passed the filters (or unreadable traces), 2 usage error or no traces found.`,
    )
    .action(async (opts: SftCliOptions) => {
      // A usage error is reported before the engine loads; sftCommand resolves the same folders again (demo calls it directly).
      sftTarget(opts);
      const r = await (await import('./sft-run.ts')).sftCommand(opts, 'sft');
      if (r.status !== 'completed') process.exitCode = 1;
    });
}
