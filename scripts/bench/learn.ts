// `npm run bench:learn`: does a trainer learn from what grpo writes? N grpo steps against the decision-policy test
// double, trained by the torch GRPO trainer over grpo-exchange/v1; then the same run with every advantage negated as
// the control. Prints the mean reward per step of both, writes the learning run's report, and ends with
//   learning: reward A → B over N steps (control A → C)
// A is step 0 (the same untrained policy in both runs), B and C the mean of the last two steps.
// Exit 1 when B − A < BENCH_LEARN_MIN_GAIN (0.15), when the control rises, or when the whole bench takes over 10 minutes.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runLearning, type LearnResult } from './learn-loop.ts';
import { buildReport } from '../../report/build-report.ts';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: process.env.BENCH_LEARN_STEPS ?? '10' },
    out: { type: 'string' },
    'no-control': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  process.stdout.write(
    [
      'usage: npm run bench:learn -- [--steps N] [--out DIR] [--no-control]',
      '',
      'Runs `flowreasoner grpo` (configs/bench-learn.yaml) for N steps against scripts/trainers/policy_server.py,',
      'trained by scripts/trainers/torch_grpo.py, then the control run with negated advantages.',
      'Environment: BENCH_LEARN_MIN_GAIN (0.15), BENCH_LEARN_LR (trainer learning rate), FR_TRAINER_PYTHON.',
      '',
    ].join('\n'),
  );
  process.exit(0);
}

const steps = Number(values.steps);
if (!Number.isInteger(steps) || steps < 3) {
  process.stderr.write(`--steps must be an integer ≥ 3, got ${values.steps}\n`);
  process.exit(2);
}
const minGain = Number(process.env.BENCH_LEARN_MIN_GAIN ?? 0.15);
const lr = process.env.BENCH_LEARN_LR !== undefined ? Number(process.env.BENCH_LEARN_LR) : undefined;
const root = values.out ?? (await mkdtemp(path.join(tmpdir(), 'fr-bench-learn-')));
const started = Date.now();

async function one(name: string, negate: boolean): Promise<LearnResult> {
  process.stdout.write(`${name}: ${steps} steps${negate ? ', every advantage negated' : ''} …\n`);
  const r = await runLearning({
    out: path.join(root, name),
    steps,
    negateAdvantage: negate,
    ...(lr !== undefined ? { lr } : {}),
    log: (line) => process.stderr.write(`  ${name}: ${line}\n`),
  });
  process.stdout.write(`step  reward  pass   worker tokens/sample\n`);
  r.rewards.forEach((reward, i) =>
    process.stdout.write(`${String(i).padStart(4)}  ${reward.toFixed(3)}   ${(r.passRates[i] ?? 0).toFixed(3)}  ${Math.round(r.workerTokensPerSample[i] ?? 0)}\n`),
  );
  process.stdout.write(`${name}: ${r.wallS.toFixed(0)} s, run ${r.runDir}\n\n`);
  return r;
}

const tail = (xs: readonly number[]): number => {
  const last = xs.slice(-2);
  return last.reduce((a, b) => a + b, 0) / Math.max(1, last.length);
};

const learn = await one('learn', false);
const report = await buildReport(learn.runDir);
process.stdout.write(`report: ${report.path}\n`);
const control = values['no-control'] ? null : await one('control', true);
const wallS = (Date.now() - started) / 1000;
const a = learn.rewards[0] ?? Number.NaN;
const b = tail(learn.rewards);
const c = control === null ? Number.NaN : tail(control.rewards);
const controlA = control?.rewards[0] ?? Number.NaN;
const failures: string[] = [];
if (!(b - a >= minGain)) failures.push(`gain ${(b - a).toFixed(3)} is below ${minGain}`);
if (control !== null && c > controlA + 0.02) failures.push(`the control rose (${controlA.toFixed(3)} → ${c.toFixed(3)})`);
if (wallS > 600) failures.push(`took ${wallS.toFixed(0)} s, over 600`);
process.stdout.write(`wall time ${wallS.toFixed(0)} s on ${root}\n`);
if (failures.length > 0) process.stdout.write(`target missed: ${failures.join('; ')}\n`);
process.stdout.write(`learning: reward ${a.toFixed(3)} → ${b.toFixed(3)} over ${steps} steps (control ${controlA.toFixed(3)} → ${c.toFixed(3)})\n`);
process.exit(failures.length > 0 ? 1 : 0);
