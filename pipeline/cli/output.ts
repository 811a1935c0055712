// Terminal output of commands: the closing summary block and error reports (library code never prints).
import { isPipelineError } from '../errors.ts';

export type SummaryRows = Array<[string, string | number]>;

/** Prints a compact summary that fits one screen. */
export function printSummary(title: string, rows: SummaryRows, out: NodeJS.WritableStream = process.stdout): void {
  const width = Math.max(...rows.map(([k]) => k.length), 8);
  out.write(`\n== ${title} ==\n`);
  for (const [k, v] of rows) out.write(`  ${k.padEnd(width)}  ${v}\n`);
}

export function printError(e: unknown, err: NodeJS.WritableStream = process.stderr): void {
  if (isPipelineError(e)) {
    err.write(`error [${e.code}]: ${e.message}\n`);
    if (e.hint !== undefined) err.write(`  next: ${e.hint}\n`);
    return;
  }
  err.write(`error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
}

export function fmtUsd(x: number): string {
  return `$${x.toFixed(x < 1 ? 4 : 2)}`;
}

export function fmtInt(x: number): string {
  return Math.round(x).toLocaleString('en-US');
}
