// `flowreasoner sft`: export distilled traces as SFT datasets (LLaMA-Factory, TRL, verl) and the GRPO prompt set.
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../config/load.ts';
import { PipelineError } from '../../errors.ts';
import { runSft, type SftStats } from '../../../sft/run-sft.ts';
import type { Distribution } from '../../../sft/stats.ts';
import { collect } from '../run-context.ts';
import { createProgress, type Progress } from '../progress.ts';
import { printSummary, type SummaryRows } from '../output.ts';

export interface SftCliOptions {
  config?: string;
  set?: string[];
  from?: string[];
  out?: string;
  tokenizer?: string;
}

function tokens(d: Distribution): string {
  return d.count === 0 ? 'none' : `p50 ${d.p50} p90 ${d.p90} p99 ${d.p99} max ${d.max}`;
}

export function sftSummaryRows(s: SftStats): SummaryRows {
  const kv = (m: Record<string, number | undefined>): string => Object.entries(m).map(([k, v]) => `${k}:${v ?? 0}`).join(' ') || 'none';
  const rows: SummaryRows = [
    ['from', s.sources.length === 1 ? (s.sources[0] ?? '') : `${s.sources.length} folders (${s.sources[0] ?? ''} …)`],
    ['out', s.outDir],
    ['traces', `${s.traces} read → ${s.queries.kept} kept`],
    ['dropped', kv(s.queries.dropped)],
    ['rounds', `${s.rounds.total} in all (${s.rounds.invalid} invalid); kept paths use ${s.rounds.onKeptPaths}, ${s.rounds.offPath} off-path left out`],
    ['rounds/trace', s.roundsPerTrace.count === 0 ? 'none' : `mean ${s.roundsPerTrace.mean}, max ${s.roundsPerTrace.max}; teacher turns/sample mean ${s.turnsPerSample.mean}`],
    ['single-turn', `${s.singleTurn.train} train / ${s.singleTurn.validation} val, ${s.singleTurn.droppedTooLong} too long; tokens ${tokens(s.singleTurn.tokens)}`],
    ['multi-turn', `${s.multiTurn.train} train / ${s.multiTurn.validation} val, ${s.multiTurn.droppedTooLong} too long; tokens ${tokens(s.multiTurn.tokens)}`],
    ['rl prompts', `${s.rl.train} train / ${s.rl.validation} val; prompt tokens ${tokens(s.rl.promptTokens)}`],
    ['tokens', `${s.tokenCounter} (limit ${s.config.maxTokens})`],
    ['files', `${s.files.length} + stats.json (LLaMA-Factory: dataset_dir=${s.outDir})`],
  ];
  for (const w of s.warnings) rows.push(['warning', w]);
  return rows;
}

/** Runs the export as the command does (also used by `demo`); failed = no sample survived the filters. */
export async function sftCommand(opts: SftCliOptions, command: string): Promise<{ stats: SftStats; status: 'completed' | 'failed' }> {
  const from = opts.from ?? [];
  if (from.length === 0) throw new PipelineError('usage', 'sft needs --from <run-dir> (a distill run directory or its distill/ folder)', { hint: 'e.g. flowreasoner sft --from runs/<id> --out runs/<id>/sft' });
  let out = opts.out;
  if (out === undefined) {
    if (from.length > 1) throw new PipelineError('usage', 'with several --from directories, say where the export goes with --out DIR');
    const only = path.resolve(from[0] ?? '.');
    out = path.join(path.basename(only) === 'distill' ? path.dirname(only) : only, 'sft');
  }
  const loaded = await loadConfig({ ...(opts.config !== undefined ? { file: opts.config } : {}), overrides: opts.set ?? [] });
  const cfg = { ...loaded.config.sft, ...(opts.tokenizer !== undefined ? { tokenizer: opts.tokenizer } : {}) };
  let bar: Progress | null = null;
  const stats = await runSft({
    cfg,
    from,
    outDir: out,
    onProgress: (p) => {
      if (p.phase === 'read') {
        if (p.traces > 0 && p.traces % 5000 === 0) process.stderr.write(`sft: read ${p.traces} traces…\n`);
        return;
      }
      bar ??= createProgress('sft', p.total);
      bar.tick(1);
    },
  });
  (bar as Progress | null)?.stop();
  printSummary(command, sftSummaryRows(stats));
  return { stats, status: stats.singleTurn.train + stats.singleTurn.validation > 0 ? 'completed' : 'failed' };
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
      const r = await sftCommand(opts, 'sft');
      if (r.status !== 'completed') process.exitCode = 1;
    });
}
