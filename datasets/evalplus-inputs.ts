// Reads EvalPlus base_input / plus_input fields: a list of argument lists, stored as JSON or as a JSON string; and their exact text for the sandbox.
import { z } from 'zod';
import { rawJsonField } from './raw-json-field.ts';
import { rowError, type Row, type RowPlace } from './read-rows.ts';

/** What the field may hold: a list, a JSON string of one, or `{}` (Mbpp/793's plus_input, meaning no inputs). */
export const InputsFieldSchema = z.union([z.array(z.unknown()), z.string(), z.record(z.string(), z.unknown())]);

/** The argument lists of an inputs field; a malformed one is a data-invalid error naming the field. */
export function inputLists(value: z.infer<typeof InputsFieldSchema>, place: RowPlace, field: string): unknown[][] {
  let v: unknown = value;
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch {
      throw rowError(place, field, 'a string that is not JSON');
    }
  }
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0) return [];
  if (!Array.isArray(v)) throw rowError(place, field, `expected a list of argument lists, found ${typeof v}`);
  v.forEach((args, k) => {
    if (!Array.isArray(args)) throw rowError(place, `${field}.${k}`, 'expected an argument list');
  });
  return v as unknown[][];
}

/**
 * The inputs of `fields` (in order) joined into one JSON list, from the row's own text: JS numbers would round ints
 * above 2^53, and Python's json must read exactly what the dataset stores. Call it after inputLists accepted each
 * field. A field stored as a JSON string contributes the string's content; `{}` contributes nothing.
 */
export function inputsJsonText(row: Row, fields: readonly string[]): string {
  if (row.text === undefined) throw rowError(row, fields[0] ?? '(row)', 'the raw line is not available (not a JSONL row)');
  const parts: string[] = [];
  for (const field of fields) {
    let raw: string | undefined;
    try {
      raw = rawJsonField(row.text, field);
    } catch (e) {
      throw rowError(row, field, `cannot read its text (${(e as Error).message})`);
    }
    if (raw === undefined) throw rowError(row, field, 'missing');
    // A JSON string holding the list: its decoded content is the list's exact text.
    if (raw.startsWith('"')) raw = JSON.parse(raw) as string;
    raw = raw.trim();
    if (raw.startsWith('{')) continue;
    if (!raw.startsWith('[') || !raw.endsWith(']')) throw rowError(row, field, 'expected a list of argument lists');
    const inner = raw.slice(1, -1).trim();
    if (inner !== '') parts.push(inner);
  }
  return `[${parts.join(', ')}]`;
}
