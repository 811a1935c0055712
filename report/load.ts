// Lenient file readers: a missing file or a torn line is reported back to the section, never thrown.
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { z } from 'zod';

export type Loaded<T> = { state: 'ok'; file: string; value: T } | { state: 'missing'; file: string } | { state: 'invalid'; file: string; reason: string };

/** Why a line or a file did not parse: the first zod issue, with its path, or the JSON error. */
function reasonOf(e: unknown): string {
  if (typeof e === 'object' && e !== null && 'issues' in e && Array.isArray((e as { issues: unknown }).issues)) {
    const first = (e as { issues: Array<{ path: PropertyKey[]; message: string }> }).issues[0];
    if (first !== undefined) return `${first.path.length > 0 ? `${first.path.map(String).join('.')}: ` : ''}${first.message}`;
  }
  return e instanceof Error ? e.message : String(e);
}

const isMissing = (e: unknown): boolean => {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
};

export async function loadJson<S extends z.ZodType>(file: string, schema: S): Promise<Loaded<z.infer<S>>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if (isMissing(e)) return { state: 'missing', file };
    return { state: 'invalid', file, reason: reasonOf(e) };
  }
  try {
    const parsed = schema.safeParse(JSON.parse(text));
    return parsed.success ? { state: 'ok', file, value: parsed.data } : { state: 'invalid', file, reason: reasonOf(parsed.error) };
  } catch (e) {
    return { state: 'invalid', file, reason: `not JSON (${reasonOf(e)})` };
  }
}

export interface JsonlRead {
  file: string;
  present: boolean;
  /** Lines that parsed and matched the schema. */
  records: number;
  /** Lines that did not (a torn last line after a crash, a hand edit), by 1-based line number. */
  skipped: Array<{ line: number; reason: string }>;
}

/**
 * Streams a JSONL file through `schema`, handing each valid record to `each`, so memory does not grow with the file
 * (rounds.jsonl holds whole prompts and replies). Blank lines are ignored.
 */
export async function streamJsonl<S extends z.ZodType>(file: string, schema: S, each: (record: z.infer<S>) => void): Promise<JsonlRead> {
  const out: JsonlRead = { file, present: true, records: 0, skipped: [] };
  const stream = createReadStream(file, { encoding: 'utf8' });
  const opened = new Promise<boolean>((resolve, reject) => {
    stream.once('ready', () => resolve(true));
    stream.once('error', (e) => (isMissing(e) ? resolve(false) : reject(e)));
  });
  if (!(await opened)) return { ...out, present: false };
  let n = 0;
  try {
    for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) {
      n += 1;
      if (line.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (e) {
        out.skipped.push({ line: n, reason: `not JSON (${reasonOf(e)})` });
        continue;
      }
      const parsed = schema.safeParse(value);
      if (!parsed.success) {
        out.skipped.push({ line: n, reason: reasonOf(parsed.error) });
        continue;
      }
      out.records += 1;
      each(parsed.data);
    }
  } catch (e) {
    // A read error part way (a directory in the file's place, an I/O error) ends the file; what was read still shows.
    out.skipped.push({ line: n + 1, reason: `unreadable from here (${reasonOf(e)})` });
  }
  return out;
}

/** The note a section shows for a JSONL file: missing, or how many lines were skipped and why (first three). */
export function jsonlNote(read: JsonlRead, shown: string): string | null {
  if (!read.present) return `${shown} is missing.`;
  if (read.skipped.length === 0) return null;
  const first = read.skipped
    .slice(0, 3)
    .map((s) => `line ${s.line}: ${s.reason}`)
    .join('; ');
  const more = read.skipped.length > 3 ? `; and ${read.skipped.length - 3} more` : '';
  return `${shown}: ${read.skipped.length} malformed line${read.skipped.length === 1 ? '' : 's'} skipped (${first}${more}).`;
}

/** The note for a JSON file that is not usable, or null when it loaded. */
export function jsonNote(loaded: Loaded<unknown>, shown: string): string | null {
  if (loaded.state === 'missing') return `${shown} is missing.`;
  if (loaded.state === 'invalid') return `${shown} could not be read: ${loaded.reason}.`;
  return null;
}
