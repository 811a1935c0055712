// Finds the exact source text of one top-level field of a JSON object (a JSONL line), so numbers JS would round stay as written.

/**
 * The text of `field`'s value in the JSON object `text`, byte for byte (big ints, `NaN`, `Infinity` untouched), or
 * undefined when the object has no such key; with a repeated key the last one wins, as in JSON.parse and Python's json.
 * A small scanner: it assumes the line already parsed (the row readers do that first) and throws on what it cannot walk.
 */
export function rawJsonField(text: string, field: string): string | undefined {
  let i = skipWs(text, 0);
  if (text[i] !== '{') throw new Error('not a JSON object');
  i = skipWs(text, i + 1);
  if (text[i] === '}') return undefined;
  let found: string | undefined;
  for (;;) {
    if (text[i] !== '"') throw new Error(`expected a key at offset ${i}`);
    const keyEnd = stringEnd(text, i);
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    i = skipWs(text, keyEnd);
    if (text[i] !== ':') throw new Error(`expected ":" at offset ${i}`);
    const start = skipWs(text, i + 1);
    const end = valueEnd(text, start);
    if (key === field) found = text.slice(start, end);
    i = skipWs(text, end);
    if (text[i] === '}') return found;
    if (text[i] !== ',') throw new Error(`expected "," or "}" at offset ${i}`);
    i = skipWs(text, i + 1);
  }
}

function skipWs(text: string, i: number): number {
  while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  return i;
}

/** Offset just past the string that opens at `i`. */
function stringEnd(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    const c = text[j];
    if (c === '\\') j++;
    else if (c === '"') return j + 1;
  }
  throw new Error(`unterminated string at offset ${i}`);
}

/** Offset just past the value that starts at `i`: a string, a nested list/object, or a bare word (number, true, NaN...). */
function valueEnd(text: string, i: number): number {
  const c = text[i];
  if (c === '"') return stringEnd(text, i);
  if (c === '[' || c === '{') {
    let depth = 0;
    for (let j = i; j < text.length; j++) {
      const d = text[j];
      if (d === '"') j = stringEnd(text, j) - 1;
      else if (d === '[' || d === '{') depth++;
      else if (d === ']' || d === '}') {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    throw new Error(`unterminated ${c} at offset ${i}`);
  }
  let j = i;
  while (j < text.length && !/[\s,\]}]/.test(text[j] as string)) j++;
  if (j === i) throw new Error(`expected a value at offset ${i}`);
  return j;
}
