// Reads EvalPlus base_input / plus_input fields: a list of argument lists, stored as JSON or as a JSON string.
import { z } from 'zod';
import { rowError, type RowPlace } from './read-rows.ts';

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
