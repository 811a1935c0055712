// Cuts a BigCodeBench unittest file down to its first test method, by text surgery that keeps imports, helpers and fixtures.
import { blockAfter, logicalLines, type LogicalLine } from './python-lines.ts';

interface Member {
  /** First physical line, decorators and the comments just above included. */
  start: number;
  /** Last physical line of its block. */
  end: number;
  name: string | undefined;
}

/**
 * The test file with every `test*` method of `class <className>` removed except the first in source order (decorators
 * and the comments right above each removed method go with it). Everything else stays: imports, module helpers,
 * setUp/tearDown, helper methods, class attributes. Undefined when the class or a test method is missing.
 */
export function keepFirstTestMethod(test: string, className = 'TestCases'): string | undefined {
  const physical = test.split('\n');
  const lines = logicalLines(test);
  const header = lines.findIndex((l) => l.indent === 0 && new RegExp(`^class\\s+${className}\\b`).test(l.text));
  if (header < 0) return undefined;
  const members = classMembers(blockAfter(lines, header), physical, (lines[header] as LogicalLine).end);
  const tests = members.filter((m) => m.name?.startsWith('test') === true);
  if (tests.length === 0) return undefined;
  const drop = new Set<number>();
  for (const m of tests.slice(1)) for (let k = m.start; k <= m.end; k++) drop.add(k);
  return physical.filter((_, k) => !drop.has(k)).join('\n');
}

/** The class body's members (methods, attributes, docstrings), each with its physical line range. */
function classMembers(body: LogicalLine[], physical: string[], headerEnd: number): Member[] {
  const memberIndent = body[0]?.indent;
  const members: Member[] = [];
  let decoratorStart: number | undefined;
  let previousEnd = headerEnd;
  for (let k = 0; k < body.length; k++) {
    const l = body[k] as LogicalLine;
    if (l.indent !== memberIndent) continue;
    if (l.text.startsWith('@')) {
      decoratorStart ??= l.start;
      continue;
    }
    let end = l.end;
    for (let n = k + 1; n < body.length && (body[n] as LogicalLine).indent !== memberIndent; n++) end = (body[n] as LogicalLine).end;
    let start = decoratorStart ?? l.start;
    decoratorStart = undefined;
    // Comments and blank lines right above a member belong to it (they usually describe it).
    while (start - 1 > previousEnd && /^\s*(?:#.*)?$/.test(physical[start - 1] as string)) start--;
    members.push({ start, end, name: /^(?:async\s+)?def\s+(\w+)/.exec(l.text)?.[1] });
    previousEnd = end;
  }
  return members;
}
