// `flowreasoner eval`: the paper's comparison table on held-out tasks; `eval merge` joins shard directories.
import type { Command } from 'commander';
import { PipelineError } from '../../errors.ts';
import type { CommonOptions } from '../run-context.ts';
import { collect } from '../options.ts';

export interface EvalCliOptions extends CommonOptions {
  shard?: string;
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .argument('[action]', 'omit to run; "merge" to join shard directories')
    .argument('[dirs...]', 'with merge: the shard run directories')
    .description('Evaluate methods (direct, hand-written workflows, meta-agents) on held-out tasks: pass@1 with intervals and paired tests (default config: configs/eval.yaml).')
    .option('-c, --config <file>', 'YAML config (default configs/eval.yaml)')
    .option('--set <key=value>', 'override a config key (repeatable)', collect, [])
    .option('-o, --out <dir>', 'run directory (merge: the merged directory)')
    .option('--resume <run-dir>', 'continue an interrupted run: judged samples are not redone; a completed run exits 0 at once')
    .option('--allow-config-change', 'with --resume: accept a config that differs from the frozen one')
    .option('--shard <i/n>', 'run the i-th of n deterministic slices of the tasks (also SLURM_ARRAY_TASK_ID/COUNT, or JOB_COMPLETION_INDEX with FLOWREASONER_SHARDS)')
    .option('--no-cache', 'bypass the response cache')
    .addHelpText(
      'after',
      `
Examples:
  $ flowreasoner eval --config configs/eval.yaml --out runs/e1
  $ flowreasoner eval --resume runs/e1
  $ flowreasoner eval --shard 0/4 --out runs/e-s0      # one of four slices
  $ flowreasoner eval merge runs/e-s0 runs/e-s1 runs/e-s2 runs/e-s3 --out runs/e-merged
Outputs: <run>/eval/samples.jsonl (one judged sample per line: workflow, solution, verdict), excluded.jsonl,
results.json (the table and its statistics), table.md and table.csv.
Exit codes: 0 every sample judged; 1 some samples still owed (an endpoint or sandbox failure, a budget stop:
--resume goes on); 2 bad usage or config.`,
    )
    .action(async (action: string | undefined, dirs: string[], opts: EvalCliOptions) => {
      if (action === 'merge') {
        if (opts.out === undefined) throw new PipelineError('usage', 'eval merge needs --out DIR');
        const r = await (await import('./eval-run.ts')).evalMerge(dirs, opts.out);
        if (r.status !== 'completed') process.exitCode = 1;
        return;
      }
      if (action !== undefined) throw new PipelineError('usage', `unknown eval action "${action}"`, { hint: 'Use `eval` or `eval merge DIR… --out DIR`.' });
      // A rerun of a finished run (a requeued or resubmitted Slurm array task) exits 0 at once, touching nothing.
      if (await (await import('../completed-run.ts')).resumeOfCompletedRun('eval', opts)) return;
      const r = await (await import('./eval-run.ts')).evalCommand(opts);
      if (r.status !== 'completed') process.exitCode = 1;
    });
}
