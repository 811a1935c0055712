// The work of `flowreasoner distill` (and of demo's first stage), loaded only when it runs: distill.ts registers the command without the engine.
import path from 'node:path';
import { PipelineError } from '../../errors.ts';
import { createExecutor } from '../../sandbox/create-executor.ts';
import { runDistill, type DistillSummary } from '../../../distill/run-distill.ts';
import { resolveShard } from '../../shard.ts';
import { mergeDistillRuns } from '../../../distill/merge.ts';
import { openRun, stageDepsOf } from '../run-context.ts';
import { createProgress } from '../progress.ts';
import { fmtUsd, printSummary } from '../output.ts';
import { keyEnvNamesOf } from '../../sandbox/host-uid-guard.ts';
import type { DistillCliOptions } from './distill.ts';

export function summaryRows(s: DistillSummary, dir: string): Array<[string, string | number]> {
  const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
  const kv = (m: Record<string, number>): string => Object.entries(m).map(([k, v]) => `${k}:${v}`).join(' ') || 'none';
  return [
    ['run dir', dir],
    ['queries', `${s.queriesDone}/${s.queries} done${s.queriesSkipped > 0 ? `, ${s.queriesSkipped} not finished` : ''}`],
    ['rounds', `${s.rounds} (${s.generatedRounds} generated, ${s.validRounds} valid)`],
    ['valid replies', `${pct(s.validReplyRate)} of teacher attempts (${kv(s.teacherAttempts)})`],
    ['score', `seed ${pct(s.meanSeedScore)} → best ${pct(s.meanBestScore)} (public) → hidden ${pct(s.meanHiddenScore)}`],
    ['stop reasons', kv(s.stopReasons)],
    ['run statuses', kv(s.runStatuses)],
    ['cost', Object.entries(s.costByRole).map(([k, v]) => `${k} ${fmtUsd(v)}`).join(', ') || '$0'],
    ['failures', kv(s.failures)],
    ...(s.stoppedBy !== null ? [['stopped by', s.stoppedBy] as [string, string]] : []),
  ];
}

/** `distill merge DIR… --out DIR`: joins shard run directories into one. */
export async function distillMerge(dirs: string[], out: string): Promise<void> {
  const r = await mergeDistillRuns(dirs, out);
  printSummary('distill merge', [
    ['merged', `${r.shards} shard dirs → ${path.resolve(out)}`],
    ['queries', r.traces],
    ['rounds', r.rounds],
  ]);
}

/** Runs the distill stage as a command does (also used by `demo`); returns the summary and the run's final status. */
export async function distillCommand(opts: DistillCliOptions, defaultConfig: string, command: string): Promise<{ summary: DistillSummary; status: 'completed' | 'failed' | 'budget-exceeded'; dir: string }> {
  const shard = resolveShard(opts.shard);
  const ctx = await openRun(command, opts, defaultConfig);
  const executor = createExecutor(ctx.config.sandbox, { keyEnvNames: keyEnvNamesOf(ctx.config) });
  if (executor.info.warning !== null) process.stderr.write(`warning: ${executor.info.warning}\n`);
  try {
    const cfg = ctx.config.distill;
    process.stdout.write(`run directory: ${ctx.store.dir}${shard !== null ? ` (shard ${shard.index}/${shard.count})` : ''}\n`);
    await ctx.gateway.preflight([cfg.teacherRole, cfg.workerRole]);
    let bar: ReturnType<typeof createProgress> | null = null;
    let seen = 0;
    const summary = await runDistill({
      cfg,
      ...stageDepsOf(ctx, executor),
      shard,
      signal: ctx.signal,
      onProgress: (p) => {
        bar ??= createProgress('distill', p.queriesTotal);
        bar.tick(p.queriesDone - seen, { rounds: p.rounds, best: p.meanBestScore.toFixed(2), cost: fmtUsd(p.cost) });
        seen = p.queriesDone;
      },
    });
    (bar as ReturnType<typeof createProgress> | null)?.stop();
    await ctx.store.writeJson('distill/summary.json', summary);
    printSummary(command, summaryRows(summary, ctx.store.dir));
    const status = summary.stoppedBy !== null ? 'budget-exceeded' : summary.queriesDone < summary.queries ? 'failed' : 'completed';
    await ctx.close(status, summary as unknown as Record<string, unknown>);
    return { summary, status, dir: ctx.store.dir };
  } catch (e) {
    await ctx.close(isAborted(e) ? 'interrupted' : 'failed', undefined, e);
    throw e;
  } finally {
    await executor.close();
  }
}

function isAborted(e: unknown): boolean {
  return e instanceof PipelineError && e.code === 'aborted';
}
