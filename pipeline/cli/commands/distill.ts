// `flowreasoner distill`: multi-round reasoning traces from the teacher; `distill merge` joins shard directories.
import path from 'node:path';
import type { Command } from 'commander';
import { PipelineError } from '../../errors.ts';
import { Executor } from '../../sandbox/executor.ts';
import { checkTeacherReply } from '../../workflow/check-reply.ts';
import { runDistill, type DistillSummary } from '../../../distill/run-distill.ts';
import { resolveShard } from '../../../distill/select-queries.ts';
import { mergeDistillRuns } from '../../../distill/merge.ts';
import { collect, dataDirOf, openRun, type CommonOptions } from '../run-context.ts';
import { createProgress } from '../progress.ts';
import { fmtUsd, printSummary } from '../output.ts';
import { keyEnvNamesOf } from '../../sandbox/host-uid-guard.ts';

export interface DistillCliOptions extends CommonOptions {
  shard?: string;
}

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

export function registerDistill(program: Command): void {
  program
    .command('distill')
    .argument('[action]', 'omit to run; "merge" to join shard directories')
    .argument('[dirs...]', 'with merge: the shard run directories')
    .description('Distil multi-round reasoning traces from the teacher (default config: configs/distill.yaml).')
    .option('-c, --config <file>', 'YAML config (default configs/distill.yaml)')
    .option('--set <key=value>', 'override a config key (repeatable)', collect, [])
    .option('-o, --out <dir>', 'run directory (merge: the merged directory)')
    .option('--resume <run-dir>', 'continue an interrupted run: finished rounds are not redone')
    .option('--allow-config-change', 'with --resume: accept a config that differs from the frozen one')
    .option('--shard <i/n>', 'run the i-th of n deterministic slices (also SLURM_ARRAY_TASK_ID/COUNT, or JOB_COMPLETION_INDEX with FLOWREASONER_SHARDS)')
    .option('--no-cache', 'bypass the response cache')
    .addHelpText(
      'after',
      `
Examples:
  $ flowreasoner distill --config configs/demo.yaml --out runs/d1
  $ flowreasoner distill --resume runs/d1
  $ flowreasoner distill --shard 0/4 --out runs/s0      # one of four slices
  $ flowreasoner distill merge runs/s0 runs/s1 runs/s2 runs/s3 --out runs/merged
Outputs: <run>/distill/rounds.jsonl (one record per round) and traces.jsonl (one per finished query).`,
    )
    .action(async (action: string | undefined, dirs: string[], opts: DistillCliOptions) => {
      if (action === 'merge') {
        if (opts.out === undefined) throw new PipelineError('usage', 'distill merge needs --out DIR');
        const r = await mergeDistillRuns(dirs, opts.out);
        printSummary('distill merge', [
          ['merged', `${r.shards} shard dirs → ${path.resolve(opts.out)}`],
          ['queries', r.traces],
          ['rounds', r.rounds],
        ]);
        return;
      }
      if (action !== undefined) throw new PipelineError('usage', `unknown distill action "${action}"`, { hint: 'Use `distill` or `distill merge DIR… --out DIR`.' });
      const r = await distillCommand(opts, 'configs/distill.yaml', 'distill');
      // A budget stop is clean but unfinished: exit 1, with the reason in the summary; --resume with a larger budget goes on.
      if (r.status !== 'completed') process.exitCode = 1;
    });
}

/** Runs the distill stage as a command does (also used by `demo`); returns the summary and the run's final status. */
export async function distillCommand(opts: DistillCliOptions, defaultConfig: string, command: string): Promise<{ summary: DistillSummary; status: 'completed' | 'failed' | 'budget-exceeded'; dir: string }> {
  const shard = resolveShard(opts.shard);
  const ctx = await openRun(command, opts, defaultConfig);
  const executor = new Executor(ctx.config.sandbox, { keyEnvNames: keyEnvNamesOf(ctx.config) });
  if (executor.info.warning !== null) process.stderr.write(`warning: ${executor.info.warning}\n`);
  try {
    const cfg = ctx.config.distill;
    process.stdout.write(`run directory: ${ctx.store.dir}${shard !== null ? ` (shard ${shard.index}/${shard.count})` : ''}\n`);
    await ctx.gateway.preflight([cfg.teacherRole, cfg.workerRole]);
    let bar: ReturnType<typeof createProgress> | null = null;
    let seen = 0;
    const summary = await runDistill({
      cfg,
      seed: ctx.config.run.seed,
      dataDir: dataDirOf(ctx.config),
      store: ctx.store,
      gateway: ctx.gateway,
      executor,
      checkReply: checkTeacherReply,
      logger: ctx.logger,
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
