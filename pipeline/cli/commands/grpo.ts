// `flowreasoner grpo`: rollouts, rewards and advantages, handed to an external trainer over grpo-exchange/v1.
import path from 'node:path';
import type { Command } from 'commander';
import { PipelineError } from '../../errors.ts';
import type { GrpoSummary } from '../../../grpo/run-grpo.ts';
import type { CommonOptions } from '../run-context.ts';
import { collect } from '../options.ts';
import { fmtUsd } from '../output.ts';

export type GrpoCliOptions = CommonOptions;

export function grpoSummaryRows(s: GrpoSummary): Array<[string, string | number]> {
  return [
    ['steps', `${s.stepsThisRun} this run (from step ${s.firstStep}), ${s.steps} configured`],
    ['exchange', `${s.exchangeRoot} (served at ${s.exchangeUrl} while running)`],
    ['prompt set', s.promptSet.map((p) => (p.rows > 0 ? `${path.relative(s.exchangeRoot, p.path)} ${p.rows}` : `${p.split} empty (no file)`)).join(', ')],
    ['reward', s.stepsThisRun === 0 ? 'no step sampled this run' : `mean ${s.meanReward.toFixed(3)}, hidden pass rate ${(s.meanPassRate * 100).toFixed(1)}%`],
    ['filtered groups', s.filteredGroups],
    ['policy version', s.finalPolicyVersion],
    // The gateway's total includes earlier stages of the same run directory (distill under `demo`), so both are named.
    ['cost', `${fmtUsd(s.stageCost)} grpo stage (cache hits are free), ${fmtUsd(s.runCost)} whole run directory`],
  ];
}

export function registerGrpo(program: Command): void {
  program
    .command('grpo')
    .description('GRPO rollouts: sample G workflows per prompt from the policy, execute and score them, compute advantages, hand batches to the trainer (grpo-exchange/v1).')
    .option('-c, --config <file>', 'YAML config (e.g. configs/14b.yaml)')
    .option('--set <key=value>', 'override a config key (repeatable)', collect, [])
    .option('-o, --out <dir>', 'run directory (default: runs/<run-id>)')
    .option('--resume <run-dir>', 'continue: no step is lost, duplicated or half-written')
    .option('--allow-config-change', 'with --resume: accept a config that differs from the frozen one')
    .option('--no-cache', 'bypass the response cache')
    .addHelpText(
      'after',
      `
Example:
  $ vllm serve <student> --port 8000 --enable-lora   # the policy
  $ flowreasoner grpo --config configs/14b.yaml
  $ python3 scripts/trainers/reference_consumer.py --url http://127.0.0.1:<port> --consumer me   # or your trainer's adapter
Outputs: <run>/exchange/ (run.json, datasets/rl/train.parquet [+ val.parquet], rollouts/step=N/…, acks/, policy/) and <run>/grpo/metrics.jsonl.`,
    )
    .action(async (opts: GrpoCliOptions) => {
      if (opts.config === undefined && opts.resume === undefined) throw new PipelineError('usage', 'grpo needs --config (e.g. configs/14b.yaml or configs/demo.yaml) or --resume DIR');
      await (await import('./grpo-run.ts')).grpoCommand(opts, 'configs/14b.yaml', 'grpo');
    });
}
