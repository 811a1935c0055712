// The sft stage: distilled traces → selected, split, length-filtered samples in every trainer format, plus stats.json.
import path from 'node:path';
import { PipelineError } from '../pipeline/errors.ts';
import { writeFileAtomic } from '../pipeline/store/atomic-write.ts';
import type { SftConfig } from './config-schema.ts';
import type { Conversation } from './conversation.ts';
import { singleTurnInstruction, taskText } from '../pipeline/prompts/meta-agent.ts';
import { LAYOUT } from './layout.ts';
import { multiTurnSample } from './multi-turn.ts';
import { readTraces, resolveSource } from './read-traces.ts';
import { selectTraces, type Candidate, type DropReason } from './select.ts';
import { singleTurnSample } from './single-turn.ts';
import { splitOf } from './split.ts';
import { distribution, type Distribution } from './stats.ts';
import { conversationTokens, loadTokenCounter } from './token-count.ts';
import type { RlQuery } from '../pipeline/export/rl-prompts.ts';
import { writeExport, type SkippedFile, type WrittenFile } from './write-export.ts';

export interface SftDeps {
  cfg: SftConfig;
  /** Run directories or their distill/ folders. */
  from: readonly string[];
  outDir: string;
  onProgress?: (p: SftProgress) => void;
}

export type SftProgress = { phase: 'read'; traces: number } | { phase: 'build'; done: number; total: number };

export interface ShapeStats {
  train: number;
  validation: number;
  droppedTooLong: number;
  /** Tokens per exported sample (all messages). */
  tokens: Distribution;
}

export interface SftStats {
  schema: 'flowreasoner-sft-stats/v1';
  sources: string[];
  outDir: string;
  config: SftConfig;
  tokenCounter: string;
  traces: number;
  queries: { kept: number; dropped: Partial<Record<DropReason, number>> };
  rounds: { total: number; invalid: number; onKeptPaths: number; offPath: number };
  /** All rounds of each kept trace (valid, invalid and off-path). */
  roundsPerTrace: Distribution;
  /** Teacher rounds in each kept sample (the path without the seed): assistant turns of the multi-turn shape. */
  turnsPerSample: Distribution;
  singleTurn: ShapeStats;
  multiTurn: ShapeStats;
  rl: { train: number; validation: number; promptTokens: Distribution };
  files: WrittenFile[];
  /** Layout files with no rows in this export, not written (an empty split). */
  skipped: SkippedFile[];
  warnings: string[];
}

function shapeStats(kept: ReadonlyArray<{ c: Conversation; tokens: number }>, droppedTooLong: number): ShapeStats {
  return {
    train: kept.filter((k) => k.c.split === 'train').length,
    validation: kept.filter((k) => k.c.split === 'validation').length,
    droppedTooLong,
    tokens: distribution(kept.map((k) => k.tokens)),
  };
}

export async function runSft(deps: SftDeps): Promise<SftStats> {
  const { cfg } = deps;
  if (deps.from.length === 0) throw new PipelineError('usage', 'sft needs at least one --from directory');
  const sources = deps.from.map(resolveSource);
  const outDir = path.resolve(deps.outDir);
  if (sources.some((s) => path.resolve(s.distillDir) === outDir)) {
    throw new PipelineError('usage', `--out ${deps.outDir} is a distill folder; sft writes beside it`, { hint: 'Use --out <run>/sft.' });
  }
  const warnings: string[] = [];
  const counter = await loadTokenCounter(cfg);

  const candidates: Candidate[] = [];
  for await (const r of readTraces(sources, (file, bytes) => warnings.push(`${file}: skipped a torn last line (${bytes} bytes)`))) {
    candidates.push(r);
    if (candidates.length % 500 === 0) deps.onProgress?.({ phase: 'read', traces: candidates.length });
  }
  deps.onProgress?.({ phase: 'read', traces: candidates.length });
  if (candidates.length === 0) {
    throw new PipelineError('data-missing', `no finished traces in ${sources.map((s) => s.tracesFile).join(', ')}`, { hint: 'Let `flowreasoner distill` finish at least one query (or --resume it).' });
  }

  const sel = selectTraces(candidates, cfg);
  const single: Array<{ c: Conversation; tokens: number }> = [];
  const multi: Array<{ c: Conversation; tokens: number }> = [];
  let longSingle = 0;
  let longMulti = 0;
  sel.kept.forEach((s, i) => {
    const split = splitOf(s.trace.queryId, cfg.validationFraction, cfg.splitSeed);
    const st = singleTurnSample(s, split, cfg.reasoningFormat);
    const stTokens = conversationTokens(st, counter);
    if (stTokens > cfg.maxTokens) longSingle++;
    else single.push({ c: st, tokens: stTokens });
    const mt = multiTurnSample(s, split, cfg.reasoningFormat);
    const mtTokens = conversationTokens(mt, counter);
    if (mtTokens > cfg.maxTokens) longMulti++;
    else multi.push({ c: mt, tokens: mtTokens });
    deps.onProgress?.({ phase: 'build', done: i + 1, total: sel.kept.length });
  });

  const rlFrom = cfg.rlQueries === 'all' ? sel.distinctQueries : sel.kept;
  const system = singleTurnInstruction();
  const rl: RlQuery[] = rlFrom.map(({ trace: t }) => ({
    queryId: t.queryId,
    dataset: t.dataset,
    taskId: t.taskId,
    entryPoint: t.entryPoint,
    split: splitOf(t.queryId, cfg.validationFraction, cfg.splitSeed),
    prompt: [
      { role: 'system', content: system },
      { role: 'user', content: taskText(t.query, t.entryPoint) },
    ],
  }));

  const { files, skipped } = await writeExport({ outDir, format: cfg.reasoningFormat, singleTurn: single.map((x) => x.c), multiTurn: multi.map((x) => x.c), rl });
  if (single.length === 0) warnings.push('no sample passed the filters: the SFT files are empty (see queries.dropped)');
  else if (!single.some((x) => x.c.split === 'validation')) warnings.push('the validation split is empty (few queries, or sft.validationFraction is 0): no val.* SFT file was written');
  if (rl.length > 0 && !rl.some((q) => q.split === 'validation')) warnings.push('the RL prompt set has no validation queries: rl/val.parquet was not written');
  if (cfg.reasoningFormat === 'separate-field') warnings.push('reasoning is in reasoning_content: LLaMA-Factory and verl single-turn SFT ignore that field');

  const stats: SftStats = {
    schema: 'flowreasoner-sft-stats/v1',
    sources: sources.map((s) => s.distillDir),
    outDir,
    config: cfg,
    tokenCounter: counter.method,
    traces: candidates.length,
    queries: { kept: sel.kept.length, dropped: sel.dropped },
    rounds: sel.rounds,
    roundsPerTrace: distribution(sel.kept.map((s) => s.trace.rounds.length)),
    turnsPerSample: distribution(sel.kept.map((s) => s.path.length - 1)),
    singleTurn: shapeStats(single, longSingle),
    multiTurn: shapeStats(multi, longMulti),
    rl: {
      train: rl.filter((q) => q.split === 'train').length,
      validation: rl.filter((q) => q.split === 'validation').length,
      promptTokens: distribution(rl.map((q) => q.prompt.reduce((n, m) => n + counter.count(m.content), 0))),
    },
    files,
    skipped,
    warnings,
  };
  await writeFileAtomic(path.join(outDir, LAYOUT.stats), `${JSON.stringify(stats, null, 2)}\n`);
  return stats;
}
