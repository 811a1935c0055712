// `flowreasoner report <run-dir>`: one self-contained HTML page of what a run holds (report/), written into the run.
import type { Command } from 'commander';

export interface ReportCliOptions {
  out?: string;
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('Write one self-contained HTML report of a run (charts, tables, best workflows) into <run-dir>/report.html.')
    .argument('<run-dir>', 'a run directory (runs/<id>): one with run.json, or with distill/, sft/, grpo/ or eval/')
    .option('-o, --out <file>', 'where the page goes (default: <run-dir>/report.html)')
    .addHelpText(
      'after',
      `
Examples:
  $ flowreasoner report runs/20261205-183539Z-demo-demo-a216ed
  $ flowreasoner report runs/d1 --out /tmp/d1.html
  $ npm run report -- runs/<id>
The page runs no script and loads nothing (open it from disk or mail it): charts are SVG drawn with Vega-Lite
when the report is built, each with its spec; the best distilled workflows are drawn as diagrams, with their
Mermaid source. Sections follow the stages the run has (distill, sft, grpo, eval); a missing file or a torn
JSONL line is a note in its section, not an error.
Exit codes: 0 report written, 2 not a run directory.`,
    )
    .action(async (dir: string, opts: ReportCliOptions) => (await import('./report-run.ts')).reportCommand(dir, opts));
}
