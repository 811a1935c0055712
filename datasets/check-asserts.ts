// Finds the first standalone assert of a human-eval `check(candidate)` test and rewrites it to call the entry point by name.
import { blockAfter, logicalLines } from './python-lines.ts';
import { escapeRegExp } from './docstring-examples.ts';

/**
 * The first `assert` directly in the body of `def check(candidate):` (not inside a loop or branch, where it would
 * depend on local variables) that calls `candidate(...)`, with `candidate` replaced by `entryPoint`. Asserts like
 * `assert True, "..."` that never call the candidate are passed over. Undefined when there is none.
 */
export function firstCheckAssert(test: string, entryPoint: string): string | undefined {
  const lines = logicalLines(test);
  const header = lines.findIndex((l) => l.indent === 0 && /^def\s+check\s*\(\s*candidate\s*\)\s*:/.test(l.text));
  if (header < 0) return undefined;
  const body = blockAfter(lines, header);
  const bodyIndent = body[0]?.indent;
  for (const l of body) {
    if (l.indent !== bodyIndent || !/^assert\b/.test(l.text) || !/\bcandidate\s*\(/.test(l.text)) continue;
    // Continuation lines keep their own indentation; strip the body's, so the assert stands at column 0.
    const [head, ...rest] = l.text.split('\n');
    const pad = new RegExp(`^ {0,${l.indent}}`);
    const text = [head, ...rest.map((r) => r.replace(pad, ''))].join('\n');
    return text.replace(/\bcandidate\b(?=\s*\()/g, entryPoint.replace(/\$/g, '$$$$'));
  }
  return undefined;
}

/** Whether `code` calls `name(...)` (not as an attribute), for leak and sanity checks. */
export function callsName(code: string, name: string): boolean {
  return new RegExp(`(?<![\\w.])${escapeRegExp(name)}\\s*\\(`).test(code);
}
