// Turns the `>>> call` / expected-output examples of a HumanEval-style docstring into assert statements.
import type { z } from 'zod';
import { parsePythonLiteral } from './python-literal.ts';
import type { NamedTestSchema } from './task.ts';

type NamedTest = z.infer<typeof NamedTestSchema>;

export interface DocstringExamples {
  tests: NamedTest[];
  /** Examples seen but not usable: no call of the entry point, a statement, or output that is not a Python literal. */
  skipped: number;
}

// Statements and printing cannot be compared with `==`: `print(x)` shows str(x), not a literal.
const NOT_AN_EXPRESSION = /^(?:import|from|for|while|if|def|class|with|try|print|del|assert|return|raise|global|nonlocal)\b/;
const ASSIGNMENT = /^[\w.[\], ()*]+?\s*(?:[-+*/%&|^@]|\/\/|\*\*|<<|>>)?=(?!=)/;
// A source with comparisons or boolean operators gets parentheses, so `f(x) == 3` compared with `True` is not chained.
const NEEDS_PARENS = /[=<>!]|\b(?:and|or|not|in|is|if|else|lambda)\b/;

/**
 * Every `>>> expr` line (with `... ` continuation lines) followed by expected output lines, up to a blank line, the next
 * `>>>` or the end of the docstring. Kept only when `expr` calls `entryPoint` and the output reads as a Python literal;
 * each becomes `assert expr == expected`, named example_1, example_2, ... An example with no output line written as
 * `>>> call == literal` is read the same way. Sources listed in `excluded` are skipped too.
 */
export function docstringExamples(prompt: string, entryPoint: string, excluded: readonly string[] = []): DocstringExamples {
  const lines = prompt.replace(/\r\n/g, '\n').split('\n');
  const callsEntry = new RegExp(`(?<![\\w.])${escapeRegExp(entryPoint)}\\s*\\(`);
  const tests: NamedTest[] = [];
  let skipped = 0;
  for (let i = 0; i < lines.length; i++) {
    const first = (lines[i] as string).trim();
    if (!/^>>>(?:\s|$)/.test(first)) continue;
    const source = [first.slice(3).trim()];
    let j = i + 1;
    while (j < lines.length && /^\.\.\.(?:\s|$)/.test((lines[j] as string).trim())) {
      source.push((lines[j] as string).trim().slice(3).trim());
      j++;
    }
    const expected: string[] = [];
    for (; j < lines.length; j++) {
      const t = (lines[j] as string).trim();
      if (t === '' || t.startsWith('>>>')) break;
      const close = docstringEnd(t);
      if (close !== undefined) {
        if (close.trim() !== '') expected.push(close.trim());
        break;
      }
      expected.push(t);
    }
    i = j - 1;
    const src = source.map(stripComment).join('\n').trim();
    const out = expected.join('\n');
    const pair = out === '' ? selfChecking(src) : { src, out };
    if (pair === undefined || excluded.includes(src) || !callsEntry.test(pair.src) || NOT_AN_EXPRESSION.test(src) || ASSIGNMENT.test(src) || parsePythonLiteral(pair.out) === undefined) {
      skipped++;
      continue;
    }
    const lhs = NEEDS_PARENS.test(pair.src) || pair.src.includes('\n') ? `(${pair.src})` : pair.src;
    const rhs = pair.out.includes('\n') ? `(${pair.out})` : pair.out;
    tests.push({ name: `example_${tests.length + 1}`, code: `assert ${lhs} == ${rhs}` });
  }
  return { tests, skipped };
}

/**
 * Some docstrings write an example as a comparison with no output line (`>>> f(x) == 3`): read it as the call and the
 * literal it is compared with. Undefined unless the text after some `==` is a Python literal.
 */
function selfChecking(src: string): { src: string; out: string } | undefined {
  for (let at = src.indexOf('=='); at >= 0; at = src.indexOf('==', at + 2)) {
    const out = src.slice(at + 2).trim();
    if (parsePythonLiteral(out) !== undefined) return { src: src.slice(0, at).trim(), out };
  }
  return undefined;
}

/** A source line without its trailing `# comment` (a `#` inside a string literal is kept). */
function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quote !== undefined) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#') return line.slice(0, i).trimEnd();
  }
  return line;
}

/** The text before a closing triple quote on this line, or undefined when the docstring goes on. */
function docstringEnd(line: string): string | undefined {
  const at = Math.min(...['"""', "'''"].map((q) => line.indexOf(q)).filter((k) => k >= 0));
  return Number.isFinite(at) ? line.slice(0, at) : undefined;
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
