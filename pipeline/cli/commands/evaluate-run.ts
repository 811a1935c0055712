// The work of `flowreasoner evaluate`, loaded only when it runs: evaluate.ts registers the command and checks its usage without the engine.
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { isExplicitlySet } from '../../config/load.ts';
import { loadConfig } from '../config.ts';
import { PipelineError } from '../../errors.ts';
import { createExecutor } from '../../sandbox/create-executor.ts';
import { evaluateSamples, readSamples, type SampleLine } from '../../evaluate/evaluate-samples.ts';
import { loadBenchmark } from '../../../datasets/registry.ts';
import type { Task } from '../../../datasets/task.ts';
import { dataDirOf } from '../run-context.ts';
import { createProgress } from '../progress.ts';
import { printSummary } from '../output.ts';
import { EXIT_USAGE } from '../exit-codes.ts';
import { keyEnvNamesOf } from '../../sandbox/host-uid-guard.ts';
import type { EvaluateCliOptions } from './evaluate.ts';

function* referenceSamples(tasks: Task[]): Generator<SampleLine> {
  let line = 0;
  for (const t of tasks) yield { line: ++line, raw: { task_id: t.id, solution: t.reference } };
}

/** Judges the samples (or the reference solutions) of options that evaluate.ts has checked; workers and timeoutS parsed there. */
export async function runEvaluate(opts: EvaluateCliOptions, workers: number | undefined, timeoutS: number | undefined): Promise<void> {
  const loaded = await loadConfig({ ...(opts.config !== undefined ? { file: opts.config } : {}), overrides: opts.set ?? [] });
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
  const executor = createExecutor(
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
        window: Math.max(64, executor.info.workers * 16),
        onResult: (r) => {
          if (r.status === 'invalid' && opts.samples !== undefined) {
            process.stderr.write(`${opts.samples}:${String(r.line)}: ${r.result.replace(/^invalid sample: /, '')}\n`);
          }
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
      ['sandbox', `${executor.info.mode}, ${executor.info.workers} workers, in-process audit ${executor.config.inProcessAudit}`],
      ['throughput', `${(summary.samples / seconds).toFixed(1)} samples/s (${seconds.toFixed(1)} s)`],
      ['results', out],
    ];
    if (summary.failedTasks.length > 0 && summary.failedTasks.length <= 12) rows.push(['not passed', summary.failedTasks.join(' ')]);
    printSummary('evaluate', rows);
    // Bad input is the caller's to fix (exit 2, like a usage error); the valid lines were still judged and written.
    if (summary.invalid > 0) process.exitCode = EXIT_USAGE;
  } finally {
    progress.stop();
    await executor.close();
  }
}
