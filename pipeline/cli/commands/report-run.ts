// The work of `flowreasoner report`, loaded only when it runs: builds the page and prints where it went.
import path from 'node:path';
import { closeSharedAnalysisClient } from '../../code-analysis/client.ts';
import { buildReport, type BuiltReport } from '../../../report/build-report.ts';
import { printSummary } from '../output.ts';
import type { ReportCliOptions } from './report.ts';

/** The closing lines: sections and figures, notes counted, and the path last (scripts read the last line). */
export function printReport(r: BuiltReport, out: NodeJS.WritableStream = process.stdout): void {
  const notes = r.sections.reduce((n, s) => n + s.notes.length, 0);
  printSummary(
    'report',
    [
      ['sections', r.sections.map((s) => `${s.id} (${s.figures.length} figures)`).join(', ')],
      ['not in run', r.absent.length === 0 ? 'none' : r.absent.join(', ')],
      ['notes', notes === 0 ? 'none' : `${notes} (missing files, skipped lines: see the page)`],
      ['size', `${(r.bytes / 1024).toFixed(0)} KiB`],
    ],
    out,
  );
  out.write(`report: ${shownPath(r.path)}\n`);
}

/** A path as the user would type it: relative when under the working directory, else absolute. */
export function shownPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

export async function reportCommand(dir: string, opts: ReportCliOptions): Promise<void> {
  try {
    printReport(await buildReport(dir, opts.out !== undefined ? { out: opts.out } : {}));
  } finally {
    // The best workflows' flows come from the code analysis service, a Python process that would keep Node alive.
    await closeSharedAnalysisClient();
  }
}
