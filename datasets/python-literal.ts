// Reads and writes Python literal text (what `ast.literal_eval` accepts), for docstring outputs, `libs` fields and generated tests.

/** A parsed Python literal. Numbers keep their source text, so nothing is lost to float rounding. */
export type PyLiteral =
  | { kind: 'str'; value: string }
  | { kind: 'bytes'; value: string }
  | { kind: 'num'; text: string }
  | { kind: 'bool'; value: boolean }
  | { kind: 'none' }
  | { kind: 'list' | 'tuple' | 'set'; items: PyLiteral[] }
  | { kind: 'dict'; entries: Array<[PyLiteral, PyLiteral]> };

class LiteralSyntaxError extends Error {}

/** Parses `text` as one Python literal expression; undefined when it is not one (free text, calls, names). */
export function parsePythonLiteral(text: string): PyLiteral | undefined {
  const p = new Parser(text);
  try {
    const v = p.value();
    p.skipSpace();
    if (!p.atEnd()) return undefined;
    return v;
  } catch (e) {
    if (e instanceof LiteralSyntaxError) return undefined;
    throw e;
  }
}

/** A Python list (or tuple) of strings, such as BigCodeBench's `libs` field; undefined for anything else. */
export function parsePythonStringList(text: string): string[] | undefined {
  const v = parsePythonLiteral(text);
  if (v === undefined || (v.kind !== 'list' && v.kind !== 'tuple')) return undefined;
  const out: string[] = [];
  for (const item of v.items) {
    if (item.kind !== 'str') return undefined;
    out.push(item.value);
  }
  return out;
}

/** Python source for a JSON value (lists, numbers, strings, booleans, null, objects with string keys). */
export function toPythonLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return "float('nan')";
    if (!Number.isFinite(value)) return value > 0 ? "float('inf')" : "-float('inf')";
    return Number.isInteger(value) && !Object.is(value, -0) ? String(value) : jsFloatRepr(value);
  }
  // JSON string escapes are valid Python string escapes, except that Python needs no `\/`, which JSON.stringify never writes.
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(toPythonLiteral).join(', ')}]`;
  if (typeof value === 'object') {
    const parts = Object.entries(value as Record<string, unknown>).map(([k, v]) => `${JSON.stringify(k)}: ${toPythonLiteral(v)}`);
    return `{${parts.join(', ')}}`;
  }
  throw new TypeError(`no Python literal for a ${typeof value}`);
}

/** A float that Python reads back as the same value and as a float (`1.0`, not `1`). */
function jsFloatRepr(x: number): string {
  const s = String(x);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v', '\n': '' };

class Parser {
  private i = 0;
  constructor(private readonly s: string) {}

  atEnd(): boolean {
    return this.i >= this.s.length;
  }

  skipSpace(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i] as string)) this.i++;
  }

  private fail(what: string): never {
    throw new LiteralSyntaxError(`${what} at ${this.i}`);
  }

  value(): PyLiteral {
    this.skipSpace();
    const ch = this.s[this.i];
    if (ch === undefined) this.fail('unexpected end');
    if (ch === '[') return { kind: 'list', items: this.sequence(']') };
    if (ch === '(') {
      this.i++;
      this.skipSpace();
      if (this.s[this.i] === ')') {
        this.i++;
        return { kind: 'tuple', items: [] };
      }
      const first = this.value();
      this.skipSpace();
      if (this.s[this.i] === ')') {
        // A parenthesised value, not a tuple.
        this.i++;
        return first;
      }
      if (this.s[this.i] !== ',') this.fail('expected , or )');
      this.i++;
      const rest = this.items(')');
      return { kind: 'tuple', items: [first, ...rest] };
    }
    if (ch === '{') return this.braces();
    if (ch === '-' || ch === '+') {
      this.i++;
      const v = this.value();
      if (v.kind !== 'num') this.fail('sign before a non-number');
      return { kind: 'num', text: `${ch === '-' ? '-' : ''}${v.text}` };
    }
    if (/[0-9.]/.test(ch)) return this.number();
    const word = /^[A-Za-z_]\w*/.exec(this.s.slice(this.i))?.[0];
    if (word !== undefined) {
      const next = this.s[this.i + word.length];
      if ((next === '"' || next === "'") && /^(?:[rRbBuU]|[bB][rR]|[rR][bB])$/.test(word)) return this.strings();
      this.i += word.length;
      if (word === 'True' || word === 'False') return { kind: 'bool', value: word === 'True' };
      if (word === 'None') return { kind: 'none' };
      this.fail(`name ${word}`);
    }
    if (ch === '"' || ch === "'") return this.strings();
    this.fail(`unexpected ${ch}`);
  }

  private sequence(close: string): PyLiteral[] {
    this.i++;
    return this.items(close);
  }

  /** Comma-separated values up to `close`, a trailing comma allowed; the opening bracket is already consumed. */
  private items(close: string): PyLiteral[] {
    const items: PyLiteral[] = [];
    for (;;) {
      this.skipSpace();
      if (this.s[this.i] === close) {
        this.i++;
        return items;
      }
      items.push(this.value());
      this.skipSpace();
      const c = this.s[this.i];
      if (c === ',') {
        this.i++;
        continue;
      }
      if (c === close) {
        this.i++;
        return items;
      }
      this.fail(`expected , or ${close}`);
    }
  }

  private braces(): PyLiteral {
    this.i++;
    this.skipSpace();
    if (this.s[this.i] === '}') {
      this.i++;
      return { kind: 'dict', entries: [] };
    }
    const first = this.value();
    this.skipSpace();
    if (this.s[this.i] !== ':') {
      if (this.s[this.i] === '}') {
        this.i++;
        return { kind: 'set', items: [first] };
      }
      if (this.s[this.i] !== ',') this.fail('expected , : or }');
      this.i++;
      return { kind: 'set', items: [first, ...this.items('}')] };
    }
    const entries: Array<[PyLiteral, PyLiteral]> = [];
    let key: PyLiteral = first;
    for (;;) {
      this.skipSpace();
      if (this.s[this.i] !== ':') this.fail('expected :');
      this.i++;
      entries.push([key, this.value()]);
      this.skipSpace();
      const c = this.s[this.i];
      if (c === '}') {
        this.i++;
        return { kind: 'dict', entries };
      }
      if (c !== ',') this.fail('expected , or }');
      this.i++;
      this.skipSpace();
      if (this.s[this.i] === '}') {
        this.i++;
        return { kind: 'dict', entries };
      }
      key = this.value();
    }
  }

  private number(): PyLiteral {
    const m = /^(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?[jJ]?)/.exec(this.s.slice(this.i));
    if (m === null || m[0] === '' || m[0] === '.') this.fail('bad number');
    this.i += m[0].length;
    // `1 + 2j` style complex sums are literals too.
    const save = this.i;
    this.skipSpace();
    const op = this.s[this.i];
    if ((op === '+' || op === '-') && !m[0].endsWith('j')) {
      const rest = /^\s*(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?[jJ]/.exec(this.s.slice(this.i + 1));
      if (rest !== null) {
        this.i += 1 + rest[0].length;
        return { kind: 'num', text: `${m[0]}${op}${rest[0].trim()}` };
      }
    }
    this.i = save;
    return { kind: 'num', text: m[0] };
  }

  /** One or more adjacent string literals, concatenated as Python does. */
  private strings(): PyLiteral {
    let value = '';
    let bytes: boolean | undefined;
    for (;;) {
      this.skipSpace();
      const prefix = /^[rRbBuU]{0,2}(?=["'])/.exec(this.s.slice(this.i))?.[0];
      if (prefix === undefined) break;
      const isBytes = /[bB]/.test(prefix);
      if (bytes !== undefined && bytes !== isBytes) this.fail('mixing bytes and str');
      bytes = isBytes;
      this.i += prefix.length;
      value += this.oneString(/[rR]/.test(prefix));
    }
    if (bytes === undefined) this.fail('expected a string');
    return bytes ? { kind: 'bytes', value } : { kind: 'str', value };
  }

  private oneString(raw: boolean): string {
    const q = this.s[this.i] as string;
    const triple = this.s.startsWith(q.repeat(3), this.i);
    const close = triple ? q.repeat(3) : q;
    this.i += close.length;
    let out = '';
    for (;;) {
      if (this.i >= this.s.length) this.fail('unterminated string');
      if (this.s.startsWith(close, this.i)) {
        this.i += close.length;
        return out;
      }
      const c = this.s[this.i] as string;
      if (c === '\n' && !triple) this.fail('newline in string');
      if (c === '\\') {
        const n = this.s[this.i + 1];
        if (n === undefined) this.fail('unterminated string');
        if (raw) {
          out += c + n;
          this.i += 2;
          continue;
        }
        const simple = ESCAPES[n];
        if (simple !== undefined) {
          out += simple;
          this.i += 2;
          continue;
        }
        const hex = n === 'x' ? 2 : n === 'u' ? 4 : n === 'U' ? 8 : 0;
        if (hex > 0) {
          const digits = this.s.slice(this.i + 2, this.i + 2 + hex);
          if (!new RegExp(`^[0-9a-fA-F]{${hex}}$`).test(digits)) this.fail('bad escape');
          out += String.fromCodePoint(parseInt(digits, 16));
          this.i += 2 + hex;
          continue;
        }
        const oct = /^[0-7]{1,3}/.exec(this.s.slice(this.i + 1))?.[0];
        if (oct !== undefined) {
          out += String.fromCharCode(parseInt(oct, 8));
          this.i += 1 + oct.length;
          continue;
        }
        // Python keeps unknown escapes as written.
        out += c + n;
        this.i += 2;
        continue;
      }
      out += c;
      this.i++;
    }
  }
}
