// `flowreasoner demo`: the pipeline end to end on the built-in simulator: distill, the sft export, then grpo with the reference consumer as trainer.
import path from 'node:path';
import type { Command } from 'commander';
import { collect } from '../run-context.ts';
import { distillCommand, type DistillCliOptions } from './distill.ts';
import { sftCommand } from './sft.ts';
import { grpoCommand } from './grpo.ts';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('Run the pipeline end to end on the built-in simulator (configs/demo.yaml): a few queries, offline, in about a minute.')
    .option('-c, --config <file>', 'YAML config (default configs/demo.yaml)')
    .option('--set <key=value>', 'override a config key (repeatable)', collect, [])
    .option('-o, --out <dir>', 'run directory (default: runs/<run-id>)')
    .option('--resume <run-dir>', 'continue an interrupted demo run')
    .option('--allow-config-change', 'with --resume: accept a config that differs from the frozen one')
    .option('--no-cache', 'bypass the response cache')
    .addHelpText('after', '\nExample:\n  $ flowreasoner demo --out runs/demo\n  $ ls runs/demo/distill   # rounds.jsonl traces.jsonl summary.json\n  $ ls runs/demo/sft       # train.sharegpt.jsonl train.messages.parquet rl/train.parquet stats.json …\n  $ ls runs/demo/exchange  # run.json rollouts/step=000000/… acks/ policy/')
    .action(async (opts: DistillCliOptions) => {
      const r = await distillCommand(opts, 'configs/demo.yaml', 'demo');
      if (r.status !== 'completed') {
        process.exitCode = 1;
        return;
      }
      // The export reads what distill just wrote, with the same config (its sft section) and overrides.
      const sft = await sftCommand({ config: opts.config ?? 'configs/demo.yaml', set: opts.set ?? [], from: [r.dir], out: path.join(r.dir, 'sft') }, 'demo sft');
      if (sft.status !== 'completed') {
        process.exitCode = 1;
        return;
      }
      // GRPO in the same run directory (exchange/ and grpo/), with the reference consumer standing in for the trainer.
      const g = await grpoCommand({ ...opts, set: opts.set ?? [] }, 'configs/demo.yaml', 'demo', r.dir);
      if (g.status !== 'completed') process.exitCode = 1;
    });
}
