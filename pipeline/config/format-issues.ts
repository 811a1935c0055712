// Turns zod issues into ConfigProblems a person can act on: key path, what was expected, what was found, a typo hint.
import type { z } from 'zod';
import { MAX_LISTED_PROBLEMS, type ConfigProblem } from './config-error.ts';
import type { Origin } from './locate.ts';

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

/** Longer keys are not typos of a known key, and the distance costs length × length. */
const MAX_HINTED_KEY = 64;

function closest(key: string, candidates: string[]): string | undefined {
  if (key.length > MAX_HINTED_KEY) return undefined;
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

/** Where a problem is, without its message. */
function placed(origin: Origin): Pick<ConfigProblem, 'file' | 'source' | 'line' | 'col'> {
  return {
    file: origin.file,
    ...(origin.source !== undefined ? { source: origin.source } : {}),
    ...(origin.line !== undefined ? { line: origin.line } : {}),
    ...(origin.col !== undefined ? { col: origin.col } : {}),
  };
}

/**
 * Builds the first `limit` problems and counts the rest, so a config with a million bad keys costs a million
 * cheap counts rather than a million look-ups and suggestions.
 * @param knownKeys returns the allowed keys of the object at a path, for suggestions.
 * @param locate returns where the value at a key path came from (file, line and column, or a --set).
 */
export function formatIssues(
  issues: z.core.$ZodIssue[],
  knownKeys: (path: PropertyKey[]) => string[],
  locate: (path: PropertyKey[]) => Origin,
  limit = MAX_LISTED_PROBLEMS,
): { problems: ConfigProblem[]; total: number } {
  const out: ConfigProblem[] = [];
  let total = 0;
  for (const issue of issues) {
    const path = issue.path.slice();
    if (issue.code === 'unrecognized_keys') {
      total += issue.keys.length;
      if (out.length >= limit) continue;
      const allowed = knownKeys(path);
      for (const k of issue.keys.slice(0, limit - out.length)) {
        const hint = closest(k, allowed);
        out.push({
          ...placed(locate([...path, k])),
          key: keyPath([...path, k]),
          message: `unknown key${hint !== undefined ? `; did you mean "${hint}"?` : allowed.length > 0 ? `; allowed: ${allowed.join(', ')}` : ''}`,
        });
      }
      continue;
    }
    total++;
    if (out.length >= limit) continue;
    const input = (issue as { input?: unknown }).input;
    let message = issue.message;
    if (issue.code === 'invalid_union') {
      message = 'does not match any allowed form';
    }
    out.push({
      ...placed(locate(path)),
      key: keyPath(path),
      message: `${message.replace(/^Invalid input: /, '')}; found ${describeFound(input)}`,
    });
  }
  return { problems: out, total };
}
