// `flowreasoner evaluate`: judge code samples (human-eval or EvalPlus format) against a benchmark in the sandbox.
import type { Command } from 'commander';
import { PipelineError } from '../../errors.ts';
import { collect } from '../options.ts';

export interface EvaluateCliOptions {
  dataset: string;
  samples?: string;
  reference?: boolean;
  out?: string;
  workers?: string;
  timeout?: string;
  split?: string;
  version?: string;
  tests: 'hidden' | 'public';
  calibrated: boolean;
  ids?: string[];
  mode?: 'auto' | 'bwrap' | 'process';
  config?: string;
  set?: string[];
}

function positive(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new PipelineError('usage', `${name} expects a positive number, got "${v}"`);
  return n;
}

export function registerEvaluate(program: Command): void {
  program
    .command('evaluate')
    .description('Judge code samples against a benchmark in the sandbox, with the official harness semantics.')
    .requiredOption('-d, --dataset <name>', 'humaneval | humaneval-plus | mbpp | mbpp-sanitized | mbpp-plus | bigcodebench | bigcodebench-hard | custom:FILE')
    .option('-s, --samples <file>', 'JSONL samples: {task_id, completion} (human-eval) or {task_id, solution} (EvalPlus)')
    .option('--reference', "judge the dataset's own reference solutions instead of samples")
    .option('-o, --out <file>', 'results JSONL (default: <samples>_results.jsonl, or reference_<dataset>_results.jsonl)')
    .option('-w, --workers <n>', 'warm sandbox interpreters (default: one per core)')
    .option('-t, --timeout <s>', 'override the per-sample time limit in seconds')
    .option('--split <name>', 'MBPP family: test | train | validation | prompt | all')
    .option('--version <v>', 'BigCodeBench data version: 0.1.4 (default) or 0.1.0')
    .option('--tests <which>', 'hidden (the official tests, default) or public (the tests shown to workflows)', 'hidden')
    .option('--no-calibrated', 'BigCodeBench: do not prepend the code prompt (calibration is the leaderboard default)')
    .option('--ids <id>', 'only these task ids (repeatable)', collect, [])
    .option('--mode <mode>', 'sandbox: auto | bwrap | process')
    .option('-c, --config <file>', 'config whose `sandbox` and `data` sections are used')
    .option('--set <key=value>', 'override a config key (repeatable)', collect, [])
    .addHelpText(
      'after',
      `
Example:
  $ flowreasoner evaluate --dataset humaneval --samples samples.jsonl
  $ flowreasoner evaluate --dataset mbpp-plus --reference --workers 2
Output: one JSON line per sample, in input order, with the input fields plus passed, result ("passed",
"failed: <error>", "timed out", or "missing dependency: <lib>"), status and per-test details; then pass@k.`,
    )
    .action(async (opts: EvaluateCliOptions) => {
      if ((opts.samples === undefined) === (opts.reference !== true)) {
        throw new PipelineError('usage', 'give exactly one of --samples FILE or --reference');
      }
      if (opts.tests !== 'hidden' && opts.tests !== 'public') throw new PipelineError('usage', `--tests expects hidden or public, got "${opts.tests}"`);
      const workers = positive('--workers', opts.workers);
      const timeoutS = positive('--timeout', opts.timeout);
      await (await import('./evaluate-run.ts')).runEvaluate(opts, workers, timeoutS);
    });
}
