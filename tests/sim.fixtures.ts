// Fixtures for the simulator tests: a tiny task index built in code, and Python syntax checks via python3.
import { execFileSync } from 'node:child_process';
import { TaskIndex, type SimTask } from '../pipeline/sim/task-index.ts';

export const TINY_TASKS: SimTask[] = [
  {
    id: 'Tiny/0',
    entryPoint: 'count_vowels',
    prompt: 'def count_vowels(s: str) -> int:\n    """Return how many of the characters in s are vowels (a, e, i, o, u)."""\n',
    solution:
      'def count_vowels(s: str) -> int:\n    """Return how many of the characters in s are vowels (a, e, i, o, u)."""\n    return sum(1 for ch in s.lower() if ch in "aeiou")\n',
  },
  {
    id: 'Tiny/1',
    entryPoint: 'count_vowels',
    prompt: 'Write a function count_vowels that counts only the uppercase vowels in a string.',
    solution: 'def count_vowels(s):\n    total = 0\n    for ch in s:\n        if ch in "AEIOU":\n            total = total + 1\n    return total\n',
  },
  {
    id: 'Tiny/2',
    entryPoint: 'is_sorted',
    prompt: 'def is_sorted(xs):\n    """True when xs is in non-decreasing order."""\n',
    solution: 'def is_sorted(xs):\n    """True when xs is in non-decreasing order."""\n    return all(xs[i] <= xs[i + 1] for i in range(len(xs) - 1))\n',
  },
];

export function tinyIndex(): TaskIndex {
  const index = new TaskIndex();
  for (const t of TINY_TASKS) index.add(t);
  return index;
}

/** The check the brief names: python3 parsing one source from stdin with ast. */
export function parsesAsPython(source: string): boolean {
  try {
    execFileSync('python3', ['-c', 'import ast,sys; ast.parse(sys.stdin.read())'], { input: source, stdio: ['pipe', 'ignore', 'ignore'] });
    return true;
  } catch {
    // A non-zero exit is the answer "does not parse", not a failure of the test itself.
    return false;
  }
}

/** Many sources in one python3 process: for each, whether it parses. */
export function parseAll(sources: readonly string[]): boolean[] {
  const script = [
    'import ast, json, sys',
    'out = []',
    'for src in json.load(sys.stdin):',
    '    try:',
    '        ast.parse(src)',
    '        out.append(True)',
    '    except SyntaxError:',
    '        out.append(False)',
    'print(json.dumps(out))',
  ].join('\n');
  const text = execFileSync('python3', ['-c', script], { input: JSON.stringify(sources), maxBuffer: 64 * 1024 * 1024 }).toString();
  return JSON.parse(text) as boolean[];
}

/** For each Python module, the names assigned at its top level (the prompt_custom constants); one python3 run. */
export function assignedNames(sources: readonly string[]): string[][] {
  const script = [
    'import ast, json, sys',
    'out = []',
    'for src in json.load(sys.stdin):',
    '    tree = ast.parse(src)',
    '    out.append([t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)])',
    'print(json.dumps(out))',
  ].join('\n');
  return JSON.parse(execFileSync('python3', ['-c', script], { input: JSON.stringify(sources) }).toString()) as string[][];
}

/** The code inside the first ```python fence of a reply. */
export function fencedCode(reply: string): string | undefined {
  return /```python\n([\s\S]*?)\n```/.exec(reply)?.[1];
}

export function tag(reply: string, name: string): string | undefined {
  return new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(reply)?.[1]?.trim();
}
