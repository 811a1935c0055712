// `npm run bench:exec`: the HumanEval reference solutions repeated 5 times (820 samples) through the executor with default
// settings (sandbox on); with --baseline, first the official harness's process model on the same machine for comparison.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { loadBenchmark } from '../../datasets/registry.ts';
import { assembleProgram, jobFor } from '../../datasets/task.ts';
import { Executor } from '../../pipeline/sandbox/executor.ts';
import { resolveDataDir } from '../../datasets/data-files.ts';
import { sourceDirOf } from '../../pipeline/source-dir.ts';

const args = process.argv.slice(2);
if (args.includes('--help')) {
  process.stdout.write('Usage: npm run bench:exec [-- --baseline] [--repeats N] [--workers N]\nPrints samples/s; the last line is `throughput: N samples/s`.\n');
  process.exit(0);
}
const repeats = Number(args[args.indexOf('--repeats') + 1] ?? 5) || 5;
const workersArg = args.includes('--workers') ? Number(args[args.indexOf('--workers') + 1]) : undefined;
const dataDir = resolveDataDir(undefined);

if (args.includes('--baseline')) {
  const script = path.join(sourceDirOf(import.meta.url), 'official_style_humaneval.py');
  const r = spawnSync('/usr/bin/python3', [script, dataDir, String(repeats)], { encoding: 'utf8' });
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  process.stdout.write(`baseline (official harness process model, no sandbox): ${line.replace('throughput: ', '')}\n`);
}

const tasks = await loadBenchmark('humaneval', { dataDir });
const jobs = Array.from({ length: repeats }, () => tasks.map((t) => jobFor(t, assembleProgram(t, { solution: t.reference }), 'hidden'))).flat();
const ex = new Executor(workersArg !== undefined ? { workers: workersArg } : {});
await ex.warmup();
const t0 = performance.now();
const results = await Promise.all(jobs.map((j) => ex.run(j)));
const seconds = (performance.now() - t0) / 1000;
await ex.close();
const passed = results.filter((r) => r.passed).length;
process.stdout.write(`sandbox: ${ex.info.mode}, workers: ${ex.config.workers}, samples: ${jobs.length}, passed: ${passed}, ${seconds.toFixed(2)} s\n`);
process.stdout.write(`throughput: ${(jobs.length / seconds).toFixed(1)} samples/s\n`);
if (passed !== jobs.length) process.exitCode = 1;
