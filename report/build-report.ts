// Builds `<run>/report.html` from a run directory: reads what the run has, draws each present stage, writes one file.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PipelineError } from '../pipeline/errors.ts';
import { writeFileAtomic } from '../pipeline/store/atomic-write.ts';
import { unsafeMarkup } from './markup-check.ts';
import { page } from './page.ts';
import { readRun, runDirProblem, type RunData, type Stage } from './read-run.ts';
import type { Section } from './section.ts';
import { distillSection } from './sections/distill.ts';
import { evalSection } from './sections/eval.ts';
import { grpoSection } from './sections/grpo.ts';
import { runSection } from './sections/run.ts';
import { sftSection } from './sections/sft.ts';
import type { FlowOf } from './workflow-flow.ts';

export interface BuildReportOptions {
  /** Where the page goes; default `<run>/report.html`. */
  out?: string;
  /** How workflows' flows are found (default: the static check through the code analysis service). */
  flowOf?: FlowOf;
  /** The time printed in the page's subtitle (tests pass a fixed one). */
  now?: Date;
}

export interface BuiltReport {
  path: string;
  bytes: number;
  /** Sections drawn, in order, with their figures (chart and diagram element ids) and notes. */
  sections: Array<{ id: string; title: string; figures: string[]; notes: string[] }>;
  absent: Stage[];
}

/** What tells that a stage is absent: its folder. */
const STAGE_FOLDER: Record<Stage, string> = { distill: 'distill/', sft: 'sft/', grpo: 'grpo/', eval: 'eval/' };

export async function buildSections(run: RunData, opts: Pick<BuildReportOptions, 'flowOf'> = {}): Promise<{ sections: Section[]; absent: Stage[] }> {
  const sections: Section[] = [await runSection(run)];
  const absent: Stage[] = [];
  if (run.distill !== null) sections.push(await distillSection(run.distill, opts.flowOf !== undefined ? { flowOf: opts.flowOf } : {}));
  else absent.push('distill');
  if (run.sft !== null) sections.push(await sftSection(run.sft));
  else absent.push('sft');
  if (run.grpo !== null) sections.push(await grpoSection(run.grpo));
  else absent.push('grpo');
  if (run.eval !== null) sections.push(await evalSection(run.eval.results));
  else absent.push('eval');
  return { sections, absent };
}

export async function buildReport(runDir: string, opts: BuildReportOptions = {}): Promise<BuiltReport> {
  const dir = path.resolve(runDir);
  const problem = await runDirProblem(dir);
  if (problem !== null) throw new PipelineError('usage', problem, { hint: 'Pass a run directory, e.g. flowreasoner report runs/<id>.' });
  const run = await readRun(dir);
  const { sections, absent } = await buildSections(run, opts);
  const id = run.runJson.state === 'ok' ? (run.runJson.value.id ?? path.basename(dir)) : path.basename(dir);
  const text = page({
    title: `Run report: ${id}`,
    subtitle: `Built ${(opts.now ?? new Date()).toISOString()} by flowreasoner report from ${dir}. Charts: Vega-Lite, drawn when the report was built; each spec is under its chart.`,
    sections,
    absent: absent.map((stage) => ({ stage, why: `no ${STAGE_FOLDER[stage]}` })),
  });
  // Every value went through the escaping template; this check makes a slip there an error instead of a page with script.
  const problems = unsafeMarkup(text);
  if (problems.length > 0) throw new Error(`report: refusing to write markup that could run script or fetch: ${problems.slice(0, 5).join('; ')}`);
  const out = path.resolve(opts.out ?? path.join(dir, 'report.html'));
  await mkdir(path.dirname(out), { recursive: true });
  await writeFileAtomic(out, text);
  return {
    path: out,
    bytes: Buffer.byteLength(text, 'utf8'),
    sections: sections.map((s) => ({ id: s.id, title: s.title, figures: [...s.figures], notes: [...s.notes] })),
    absent,
  };
}
