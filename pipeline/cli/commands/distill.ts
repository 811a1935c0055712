// `flowreasoner distill`: multi-round reasoning traces from the teacher; `distill merge` joins shard directories.
import type { Command } from 'commander';
import { PipelineError } from '../../errors.ts';
import type { CommonOptions } from '../run-context.ts';
import { collect } from '../options.ts';

export interface DistillCliOptions extends CommonOptions {
  shard?: string;
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
    .option('--resume <run-dir>', 'continue an interrupted run: finished rounds are not redone; a completed run exits 0 at once')
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
        await (await import('./distill-run.ts')).distillMerge(dirs, opts.out);
        return;
      }
      if (action !== undefined) throw new PipelineError('usage', `unknown distill action "${action}"`, { hint: 'Use `distill` or `distill merge DIR… --out DIR`.' });
      // A rerun of a finished run (a requeued or resubmitted Slurm array task) exits 0 at once, touching nothing.
      if (await (await import('../completed-run.ts')).resumeOfCompletedRun('distill', opts)) return;
      const { distillCommand } = await import('./distill-run.ts');
      const r = await distillCommand(opts, 'configs/distill.yaml', 'distill');
      // A budget stop is clean but unfinished: exit 1, with the reason in the summary; --resume with a larger budget goes on.
      if (r.status !== 'completed') process.exitCode = 1;
    });
}
