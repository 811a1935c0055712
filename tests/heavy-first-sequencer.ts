// Runs the longest test files first, so the two workers finish together instead of one long file starting last.
// A fresh clone has no vitest cache, and vitest then orders files by size, which says little about their duration.
import path from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Seconds each file took in the fresh-clone CI run of issue 14 (2 cores, 2 workers), and alone for issue 15's new
 * files; files under 10 s are left out.
 * Only the order depends on these figures, so they need refreshing only when a file's duration changes a lot.
 */
const MEASURED_S: Readonly<Record<string, number>> = {
  'tests/sandbox.attacks.test.ts': 528,
  'tests/evaluate.reference.test.ts': 156,
  'tests/distill.test.ts': 140,
  'tests/trainers.torch-grpo.test.ts': 94,
  'tests/trainers.trl.test.ts': 90,
  'tests/eval.test.ts': 88,
  'tests/trainers.verl.test.ts': 58,
  'tests/cluster.slurm.test.ts': 57,
  'tests/sft.export.test.ts': 49,
  'tests/trainers.readers.test.ts': 48,
  'tests/trainers.handoff.test.ts': 48,
  'tests/startup.test.ts': 45,
  'tests/grpo.e2e.test.ts': 41,
  'tests/disk-full.test.ts': 40,
  'tests/sandbox.remote.test.ts': 33,
  'tests/evaluate.cli.test.ts': 28,
  'tests/cluster.k8s.test.ts': 25,
  'tests/workflow.cli.test.ts': 25,
  'tests/sim.workflow-value.test.ts': 24,
  'tests/grpo.robust.test.ts': 23,
  'tests/cli.test.ts': 18,
  'tests/sandbox.harness.test.ts': 17,
  'tests/workflow.check-missing-graph.test.ts': 14,
  'tests/learn.policy-server.test.ts': 14,
  'tests/config.errors.test.ts': 13,
  'tests/sandbox.hostile.test.ts': 12,
  'tests/sim.roles.test.ts': 11,
  'tests/report.browser.test.ts': 10,
};

export default class HeavyFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const base = await super.sort(files);
    const seconds = (f: TestSpecification): number => MEASURED_S[path.relative(f.project.config.root, f.moduleId).split(path.sep).join('/')] ?? 0;
    // Array.prototype.sort is stable: files without a figure keep vitest's own order, after the measured ones.
    return [...base].sort((a, b) => seconds(b) - seconds(a));
  }
}
