// Plausible wrong programs: a reference solution with one small, still-parseable change, as a weak worker would write.
import type { Rng } from '../random.ts';

interface Site {
  start: number;
  end: number;
  replacement: string;
}

const FLIP_COMPARISON: Record<string, string> = { '<': '>=', '>': '<=', '<=': '>', '>=': '<', '==': '!=', '!=': '==' };
const RETURN_CONSTANTS = ['0', 'None', 'False', '[]', "''"];

/**
 * One deterministic (given rng) mutation of `program`: flip a comparison, turn `+ 1` into `- 1` or back,
 * swap True/False, or make a return value a constant. Only code is touched, never strings or comments,
 * so a docstring edit cannot pass for a bug.
 */
export function mutateProgram(program: string, rng: Rng, entryPoint?: string): string {
  const code = codeMask(program);
  const sites = [
    ...comparisonSites(program, code),
    ...offByOneSites(program, code),
    ...booleanSites(program, code),
    ...returnSites(program, code),
  ];
  if (sites.length === 0) return bailOutEarly(program, entryPoint);
  const site = rng.pick(sites);
  const replacement = site.replacement === '' ? rng.pick(RETURN_CONSTANTS.filter((c) => c !== program.slice(site.start, site.end).trim())) : site.replacement;
  return program.slice(0, site.start) + replacement + program.slice(site.end);
}

function comparisonSites(src: string, code: Uint8Array): Site[] {
  // The guards skip ->, <<, >>, <<=, >>= and the = of keyword arguments.
  const re = /(?<![<>=!-])(<=|>=|==|!=|<|>)(?![<>=])/g;
  return sitesOf(src, code, re, (m) => FLIP_COMPARISON[m[0]] ?? m[0]);
}

function offByOneSites(src: string, code: Uint8Array): Site[] {
  return sitesOf(src, code, /([+-])(\s*)1(?![\w.])/g, (m) => `${m[1] === '+' ? '-' : '+'}${m[2] ?? ''}1`);
}

function booleanSites(src: string, code: Uint8Array): Site[] {
  return sitesOf(src, code, /\b(True|False)\b/g, (m) => (m[0] === 'True' ? 'False' : 'True'));
}

/** `return EXPR` on one line with balanced brackets; the replacement constant is drawn later ('' marks it). */
function returnSites(src: string, code: Uint8Array): Site[] {
  const sites: Site[] = [];
  for (const m of src.matchAll(/^[ \t]*return[ \t]+(\S[^\n]*)$/gm)) {
    const exprStart = m.index + m[0].length - (m[1]?.length ?? 0);
    const exprEnd = m.index + m[0].length;
    const keyword = m.index + m[0].indexOf('return');
    if (!code[keyword] || !code[exprEnd - 1] || !balanced(src, code, exprStart, exprEnd)) continue;
    if (src.slice(exprStart, exprEnd).trimEnd().endsWith('\\')) continue;
    sites.push({ start: exprStart, end: exprEnd, replacement: '' });
  }
  return sites;
}

function sitesOf(src: string, code: Uint8Array, re: RegExp, replace: (m: RegExpMatchArray) => string): Site[] {
  const sites: Site[] = [];
  for (const m of src.matchAll(re)) {
    const start = m.index;
    const end = start + m[0].length;
    if (allCode(code, start, end)) sites.push({ start, end, replacement: replace(m) });
  }
  return sites;
}

function allCode(code: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (!code[i]) return false;
  return true;
}

function balanced(src: string, code: Uint8Array, start: number, end: number): boolean {
  let depth = 0;
  for (let i = start; i < end; i++) {
    if (!code[i]) continue;
    const ch = src[i];
    if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') depth--;
    if (depth < 0) return false;
  }
  return depth === 0;
}

/**
 * 1 for characters that are Python code, 0 inside string literals and comments. A small scanner is
 * enough: it only has to know where quotes and `#` start and end, not what the code means.
 */
export function codeMask(src: string): Uint8Array {
  const mask = new Uint8Array(src.length).fill(1);
  let i = 0;
  while (i < src.length) {
    const ch = src[i];
    if (ch === '#') {
      while (i < src.length && src[i] !== '\n') mask[i++] = 0;
    } else if (ch === '"' || ch === "'") {
      const triple = src.startsWith(ch.repeat(3), i);
      const close = triple ? ch.repeat(3) : ch;
      mask.fill(0, i, i + close.length);
      i += close.length;
      while (i < src.length) {
        if (src[i] === '\\') {
          mask.fill(0, i, i + 2);
          i += 2;
        } else if (src.startsWith(close, i)) {
          mask.fill(0, i, i + close.length);
          i += close.length;
          break;
        } else if (!triple && src[i] === '\n') {
          break;
        } else {
          mask[i++] = 0;
        }
      }
    } else {
      i++;
    }
  }
  return mask;
}

/** No site found: make the entry point (or the module) give up at once, which still parses. */
function bailOutEarly(program: string, entryPoint: string | undefined): string {
  const name = entryPoint ? escapeRegExp(entryPoint) : '[A-Za-z_]\\w*';
  const header = new RegExp(`^[ \\t]*def[ \\t]+${name}[ \\t]*\\(`, 'm').exec(program);
  if (header) {
    const colon = headerEnd(program, header.index + header[0].length - 1);
    const nextLine = colon >= 0 ? /\n([ \t]+)\S/.exec(program.slice(colon)) : null;
    const at = colon >= 0 ? program.indexOf('\n', colon) : -1;
    // Only a header that ends its line: a one-line `def f(x): return x` has no body line to indent like.
    const bodyOnNextLine = at >= 0 && /^\s*(#.*)?$/.test(program.slice(colon + 1, at));
    if (bodyOnNextLine && nextLine?.[1]) {
      return `${program.slice(0, at + 1)}${nextLine[1]}return None\n${program.slice(at + 1)}`;
    }
  }
  return `raise RuntimeError('not implemented')\n${program}`;
}

/** Index of the `:` ending a def header whose `(` is at openParen, or -1. */
function headerEnd(program: string, openParen: number): number {
  const code = codeMask(program);
  let depth = 0;
  for (let i = openParen; i < program.length; i++) {
    if (!code[i]) continue;
    const ch = program[i];
    if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') depth--;
    else if (ch === ':' && depth === 0) return program.indexOf('\n', i) >= 0 ? i : -1;
  }
  return -1;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
