// Turns zod issues into ConfigProblems a person can act on: key path, what was expected, what was found, a typo hint.
import type { z } from 'zod';
import type { ConfigProblem } from './config-error.ts';

export function keyPath(path: ReadonlyArray<PropertyKey>): string {
  return path.map(String).join('.');
}

function describeFound(input: unknown): string {
  if (input === undefined) return 'nothing';
  if (input === null) return 'null';
  if (typeof input === 'string') return `"${input.length > 60 ? `${input.slice(0, 57)}...` : input}" (string)`;
  if (Array.isArray(input)) return `a list of ${input.length}`;
  if (typeof input === 'object') return 'a mapping';
  return `${String(input)} (${typeof input})`;
}

/** Levenshtein distance, for "did you mean" on unknown keys. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0] as number;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j] as number;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      prev[j] = Math.min((prev[j] as number) + 1, (prev[j - 1] as number) + 1, diag + cost);
      diag = tmp;
    }
  }
  return prev[b.length] as number;
}

function closest(key: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(key.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

/**
 * @param knownKeys returns the allowed keys of the object at a path, for suggestions.
 * @param lineOf returns the line of a key path in the source file, if known.
 */
export function formatIssues(
  issues: z.core.$ZodIssue[],
  file: string | null,
  knownKeys: (path: PropertyKey[]) => string[],
  lineOf: (path: PropertyKey[]) => number | undefined,
): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const issue of issues) {
    const path = issue.path.slice();
    if (issue.code === 'unrecognized_keys') {
      const allowed = knownKeys(path);
      for (const k of issue.keys) {
        const hint = closest(k, allowed);
        const line = lineOf([...path, k]);
        out.push({
          file,
          key: keyPath([...path, k]),
          ...(line !== undefined ? { line } : {}),
          message: `unknown key${hint !== undefined ? `; did you mean "${hint}"?` : allowed.length > 0 ? `; allowed: ${allowed.join(', ')}` : ''}`,
        });
      }
      continue;
    }
    const input = (issue as { input?: unknown }).input;
    let message = issue.message;
    if (issue.code === 'invalid_union') {
      message = 'does not match any allowed form';
    }
    const found = describeFound(input);
    const line = lineOf(path);
    out.push({
      file,
      key: keyPath(path),
      ...(line !== undefined ? { line } : {}),
      message: `${message.replace(/^Invalid input: /, '')}; found ${found}`,
    });
  }
  return out;
}
