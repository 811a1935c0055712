// The work of `flowreasoner demo`, loaded only when it runs: demo.ts registers the command without the engine.
import path from 'node:path';
import type { DistillCliOptions } from './distill.ts';
import { distillCommand } from './distill-run.ts';
import { sftCommand } from './sft-run.ts';
import { grpoCommand } from './grpo-run.ts';
import { buildReport } from '../../../report/build-report.ts';
import { shownPath } from './report-run.ts';

/** distill, then the sft export of its traces, then grpo, in one run directory, then its report; exit code 1 when a stage does not complete. */
export async function runDemo(opts: DistillCliOptions): Promise<void> {
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
  // The run's report last, whatever grpo's outcome: it shows what the run holds, a failed step included.
  const report = await buildReport(r.dir);
  process.stdout.write(`report: ${shownPath(report.path)}\n`);
}
