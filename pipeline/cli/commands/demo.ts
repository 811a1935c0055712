// `flowreasoner demo`: the pipeline end to end on the built-in simulator: distill, the sft export, then grpo with the reference consumer as trainer.
import type { Command } from 'commander';
import { collect } from '../options.ts';
import type { DistillCliOptions } from './distill.ts';

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
    .action(async (opts: DistillCliOptions) => (await import('./demo-run.ts')).runDemo(opts));
}
