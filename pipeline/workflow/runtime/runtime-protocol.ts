// The messages a sandboxed workflow runtime may send the host, and the parser that turns any other line into a typed error.
import { z } from 'zod';

/** Operator names are short identifiers; anything longer is not a call the registry could answer. */
const MAX_OP_NAME = 200;

const CallSchema = z.object({
  type: z.literal('call'),
  id: z.int().min(0),
  op: z.string().max(MAX_OP_NAME),
  // Values stay unknown: the operator's own schema reads them, and the trace cuts them (see cutForTrace).
  args: z.record(z.string(), z.unknown()),
});
const DoneSchema = z.object({ type: z.literal('done'), solution: z.string() });
const ErrorSchema = z.object({ type: z.literal('error'), kind: z.string(), message: z.string(), traceback: z.string().optional() });

export const RuntimeMessageSchema = z.discriminatedUnion('type', [CallSchema, DoneSchema, ErrorSchema]);
export type RuntimeMessage = z.infer<typeof RuntimeMessageSchema>;
export type RuntimeCall = z.infer<typeof CallSchema>;

export type ParsedLine = { ok: true; message: RuntimeMessage } | { ok: false; error: string };

/** Shows a rejected line in an error message without repeating megabytes of it. */
function preview(line: string): string {
  const flat = JSON.stringify(line.length > 80 ? `${line.slice(0, 80)}…` : line);
  return line.length > 80 ? `${flat} (${line.length} chars)` : flat;
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}

/**
 * One protocol line from the runtime: a JSON object of one of the three message types, or why not. Never throws
 * (JSON.parse copes with any nesting; nothing here walks the value recursively).
 */
export function parseRuntimeLine(line: string): ParsedLine {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (e) {
    return { ok: false, error: `the runtime sent a line that is not JSON (${e instanceof Error ? e.message : String(e)}): ${preview(line)}` };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, error: `the runtime sent ${kindOf(raw)} where a message object belongs: ${preview(line)}` };
  }
  const r = RuntimeMessageSchema.safeParse(raw);
  if (!r.success) {
    const issues = r.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.join('.') || 'message'}: ${i.message}`)
      .join('; ');
    return { ok: false, error: `the runtime sent a message the protocol does not know (${issues}): ${preview(line)}` };
  }
  return { ok: true, message: r.data };
}

const CUT_CHARS = 2000;
const CUT_DEPTH = 6;

/**
 * A value made readable for the trace: long strings cut, nesting deeper than a few levels replaced by a marker. The
 * depth cap matters: the arguments come from the sandbox, and a value nested a million deep would overflow the stack
 * of every recursive walk after this one (JSON.stringify of the trace included).
 */
export function cutForTrace(v: unknown, depth = 0): unknown {
  if (typeof v === 'string') return v.length > CUT_CHARS ? `${v.slice(0, CUT_CHARS)}… [${v.length - CUT_CHARS} more chars]` : v;
  if (v === null || typeof v !== 'object') return v;
  if (depth >= CUT_DEPTH) return Array.isArray(v) ? '[… nested too deep]' : '{… nested too deep}';
  if (Array.isArray(v)) return v.map((x) => cutForTrace(x, depth + 1));
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, cutForTrace(x, depth + 1)]));
}
