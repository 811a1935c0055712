// Splits Python source into logical lines (strings, brackets and continuations honoured), for text surgery on tests without a Python parser.

/** One logical line: a statement header or simple statement that may span several physical lines. */
export interface LogicalLine {
  /** 0-based index of its first physical line. */
  start: number;
  /** 0-based index of its last physical line (inclusive). */
  end: number;
  /** Width of the leading whitespace of the first physical line (a tab counts as one column; the data uses spaces). */
  indent: number;
  /** The physical lines joined with '\n', without the leading indentation of the first. */
  text: string;
}

/**
 * Logical lines of `source`, skipping blank and comment-only lines. A line continues while a bracket is open, a
 * triple-quoted string is open, or it ends in a backslash; that is what keeps a docstring or CSV literal whose
 * content sits at column 0 from being read as a new statement.
 */
export function logicalLines(source: string): LogicalLine[] {
  const physical = source.split('\n');
  const out: LogicalLine[] = [];
  let depth = 0;
  /** The closing quote of an open triple-quoted string, or null. */
  let openTriple: string | null = null;
  let current: { start: number; indent: number } | null = null;

  for (let li = 0; li < physical.length; li++) {
    const line = (physical[li] as string).replace(/\r$/, '');
    let i = 0;
    if (current === null) {
      const trimmed = line.trimStart();
      if (trimmed === '' || trimmed.startsWith('#')) continue;
      current = { start: li, indent: line.length - trimmed.length };
      i = current.indent;
    }
    let continued = false;
    while (i < line.length) {
      if (openTriple !== null) {
        const ch = line[i] as string;
        if (ch === '\\') {
          // Raw or not, a backslash stops the next quote from closing the string.
          i += 2;
          continue;
        }
        if (line.startsWith(openTriple, i)) {
          i += 3;
          openTriple = null;
          continue;
        }
        i++;
        continue;
      }
      const ch = line[i] as string;
      if (ch === '#') break;
      if (ch === '(' || ch === '[' || ch === '{') {
        depth++;
        i++;
        continue;
      }
      if (ch === ')' || ch === ']' || ch === '}') {
        depth = Math.max(0, depth - 1);
        i++;
        continue;
      }
      if (ch === '\\' && i === line.length - 1) {
        continued = true;
        i++;
        continue;
      }
      if (ch === '"' || ch === "'") {
        if (line.startsWith(ch.repeat(3), i)) {
          openTriple = ch.repeat(3);
          i += 3;
          continue;
        }
        // A one-line string: skip to its closing quote (an unterminated one simply ends at the line end).
        i++;
        while (i < line.length && line[i] !== ch) i += line[i] === '\\' ? 2 : 1;
        i++;
        continue;
      }
      i++;
    }
    if (openTriple === null && depth === 0 && !continued) {
      const first = current.start;
      const text = physical
        .slice(first, li + 1)
        .map((l) => l.replace(/\r$/, ''))
        .join('\n')
        .slice(current.indent);
      out.push({ start: first, end: li, indent: current.indent, text });
      current = null;
    }
  }
  if (current !== null) {
    // An unbalanced tail (open bracket or string at EOF) still counts as one line, so callers see all the code.
    const text = physical.slice(current.start).join('\n').slice(current.indent);
    out.push({ start: current.start, end: physical.length - 1, indent: current.indent, text });
  }
  return out;
}


/** The indentation-delimited block that follows the logical line at `headerIndex` (the lines indented deeper). */
export function blockAfter(lines: LogicalLine[], headerIndex: number): LogicalLine[] {
  const header = lines[headerIndex];
  if (header === undefined) return [];
  const body: LogicalLine[] = [];
  for (let k = headerIndex + 1; k < lines.length; k++) {
    const l = lines[k] as LogicalLine;
    if (l.indent <= header.indent) break;
    body.push(l);
  }
  return body;
}
