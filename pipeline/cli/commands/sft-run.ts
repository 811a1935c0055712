// The work of `flowreasoner sft` (and of demo's export), loaded only when it runs: sft.ts registers the command without the engine.
import { loadConfig } from '../config.ts';
import { runSft, type SftStats } from '../../../sft/run-sft.ts';
import type { Distribution } from '../../../sft/stats.ts';
import { createProgress, type Progress } from '../progress.ts';
import { printSummary, type SummaryRows } from '../output.ts';
import { sftTarget, type SftCliOptions } from './sft.ts';

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
  const { from, out } = sftTarget(opts);
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
