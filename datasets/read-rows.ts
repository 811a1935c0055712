// Streams the rows of a benchmark file (JSONL, gzipped or not, or one JSON array) with their line numbers, and checks each against a schema.
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import type { z } from 'zod';
import { PipelineError } from '../pipeline/errors.ts';
import { requireDataFile } from './data-files.ts';

/** Where a row came from, for error messages: `file:line`. */
export interface RowPlace {
  file: string;
  line: number;
}

export interface Row extends RowPlace {
  value: unknown;
  /** JSONL rows: the line's exact text, for fields whose numbers JS cannot hold exactly (EvalPlus inputs). */
  text?: string;
}

/** A `data-invalid` error naming file, line and field. */
export function rowError(place: RowPlace, field: string, problem: string): PipelineError {
  return new PipelineError('data-invalid', `${place.file}:${place.line}: field "${field}": ${problem}`, {
    hint: 'The file is not in the expected format. Check it against ../shared/datasets/README.txt (sha256) or download it again with `npm run data:download`.',
  });
}

/** The rows of a JSONL file (`.gz` is gunzipped on the fly); blank lines are skipped, as the upstream readers do. */
export async function* readJsonl(file: string): AsyncGenerator<Row> {
  const input = createReadStream(file);
  const gz = file.endsWith('.gz');
  const stream = gz ? input.pipe(createGunzip()) : input;
  // Errors of the raw stream do not travel through pipe(); forward them so a read error ends the loop.
  if (gz) input.on('error', (e) => stream.destroy(e));
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let line = 0;
  try {
    for await (const text of lines) {
      line++;
      if (text.trim() === '') continue;
      let value: unknown;
      try {
        value = parsePythonJson(text);
      } catch (e) {
        throw new PipelineError('data-invalid', `${file}:${line}: not valid JSON (${(e as Error).message})`, { cause: e });
      }
      yield { file, line, value, text };
    }
  } catch (e) {
    if (e instanceof PipelineError) throw e;
    throw new PipelineError('data-invalid', `${file}: cannot read it${gz ? ' as gzip' : ''} (${(e as Error).message})`, { cause: e });
  } finally {
    lines.close();
    input.destroy();
  }
}

/** The elements of a file holding one JSON array (sanitized MBPP), each with the line its element starts on. */
export async function* readJsonArray(file: string): AsyncGenerator<Row> {
  const text = await readFile(file, 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    const at = /position (\d+)/.exec((e as Error).message)?.[1];
    const line = at === undefined ? 1 : lineAt(text, Number(at));
    throw new PipelineError('data-invalid', `${file}:${line}: not valid JSON (${(e as Error).message})`, { cause: e });
  }
  if (!Array.isArray(parsed)) throw new PipelineError('data-invalid', `${file}:1: expected a JSON array of tasks, found ${typeof parsed}`);
  const starts = topLevelElementLines(text);
  for (let i = 0; i < parsed.length; i++) yield { file, line: starts[i] ?? 1, value: parsed[i] };
}

/** Rows of a data file by its extension, after checking the file exists. */
export async function* readRows(dataDir: string, name: string): AsyncGenerator<Row> {
  const file = await requireDataFile(dataDir, name);
  yield* name.endsWith('.json') ? readJsonArray(file) : readJsonl(file);
}

/** Checks a row against its schema; the first problem becomes a `data-invalid` error naming file, line and field. */
export function parseRow<S extends z.ZodType>(schema: S, row: Row): z.infer<S> {
  const r = schema.safeParse(row.value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = issue === undefined || issue.path.length === 0 ? '(row)' : issue.path.map(String).join('.');
  throw rowError(row, field, issue?.message ?? 'invalid');
}

const NON_FINITE: Record<string, number> = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY };
const SENTINEL = '\u0000fr-nonfinite:';

/**
 * JSON as Python's json module writes it: also `NaN`, `Infinity` and `-Infinity` (MBPP+ inputs have them). The fast
 * path is plain JSON.parse; only a line that fails and mentions one of them takes the slower rewrite.
 */
export function parsePythonJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    if (!/NaN|Infinity/.test(text)) throw e;
  }
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      continue;
    }
    const word = /^(?:-?Infinity|NaN)/.exec(text.slice(i, i + 9))?.[0];
    if (word !== undefined) {
      out += JSON.stringify(SENTINEL + word);
      i += word.length - 1;
      continue;
    }
    out += c;
  }
  return JSON.parse(out, (_k, v: unknown) => (typeof v === 'string' && v.startsWith(SENTINEL) ? NON_FINITE[v.slice(SENTINEL.length)] : v));
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** 1-based line where each element of a top-level JSON array starts (a small scanner over strings and nesting). */
function topLevelElementLines(text: string): number[] {
  const out: number[] = [];
  let depth = 0;
  let line = 1;
  let inString = false;
  let expectValue = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '\n') line++;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (depth === 1 && expectValue && !/\s/.test(c) && c !== ']') {
      out.push(line);
      expectValue = false;
    }
    if (c === '"') inString = true;
    else if (c === '[' || c === '{') {
      depth++;
      if (depth === 1) expectValue = true;
    } else if (c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 1) expectValue = true;
  }
  return out;
}
