// Code extraction from worker replies: fences, unfenced code among prose, joined blocks, entry-point pruning, long replies.
import { afterAll, describe, expect, it } from 'vitest';
import { AnalysisClient } from '../pipeline/code-analysis/client.ts';
import { extractCode, extractCodeDetailed } from '../pipeline/workflow/extract-code.ts';

const client = new AnalysisClient();
afterAll(() => client.close());
const opts = { client };

const lines = (...ls: string[]): string => ls.join('\n');

describe('extractCode', () => {
  it('takes a fenced python block, keeps imports and what the entry point needs, drops calls, prints and the main guard', async () => {
    const reply = lines(
      "Sure! Here's a solution that's efficient.",
      '',
      '```python',
      'import math',
      'from typing import List',
      '',
      'def unused():',
      '    return 0',
      '',
      'def helper(x):',
      '    return x * 2',
      '',
      'def solve(xs: List[int]) -> int:',
      '    return sum(helper(x) for x in xs) + math.floor(1.5)',
      '',
      'print(solve([1, 2]))',
      'if __name__ == "__main__":',
      '    solve([])',
      '```',
      '',
      'Example:',
      '```python',
      'assert solve([1]) == 3',
      '```',
    );
    const r = await extractCodeDetailed(reply, 'solve', opts);
    expect(r.code).toBe(
      lines('import math', 'from typing import List', '', 'def helper(x):', '    return x * 2', '', 'def solve(xs: List[int]) -> int:', '    return sum(helper(x) for x in xs) + math.floor(1.5)', ''),
    );
    expect(r).toMatchObject({ source: 'fence', pruned: true, entryPointFound: true, joined: 1 });
  });

  it('finds unfenced code between prose lines (apostrophes and all)', async () => {
    const reply = lines(
      "Let's think. The function's job is simple.",
      'def is_even(n):',
      '    return n % 2 == 0',
      '',
      "This works because it's modulo arithmetic, isn't it?",
      "Then we'd count them:",
      '',
      'def count_evens(xs):',
      '    c = 0',
      '    for x in xs:',
      '        if is_even(x):',
      '            c += 1',
      '    return c',
      '',
      'print(count_evens([1, 2, 3]))',
      "That's all!",
    );
    const r = await extractCodeDetailed(reply, 'count_evens', opts);
    expect(r.source).toBe('span');
    expect(r.code).toBe(
      lines('def is_even(n):', '    return n % 2 == 0', '', 'def count_evens(xs):', '    c = 0', '    for x in xs:', '        if is_even(x):', '            c += 1', '    return c', ''),
    );
  });

  it('joins a helper block to the block that defines the entry point, ignoring non-python fences', async () => {
    const reply = lines(
      'First, a helper:',
      '```python',
      'import re',
      'def tokens(s):',
      '    return re.findall(r"\\d+", s)',
      '```',
      'Run it with:',
      '```bash',
      'python main.py',
      '```',
      'Now the main function:',
      '```py',
      'def total(s):',
      '    return sum(int(t) for t in tokens(s))',
      '```',
    );
    const r = await extractCodeDetailed(reply, 'total', opts);
    expect(r.code).toBe(lines('import re', '', 'def tokens(s):', '    return re.findall(r"\\d+", s)', '', 'def total(s):', '    return sum(int(t) for t in tokens(s))', ''));
    expect(r.joined).toBe(2);
  });

  it('prunes by reachability from the entry point through classes, constants and functions', async () => {
    const reply = lines(
      '```python',
      'import sys',
      'from collections import deque',
      'sys.setrecursionlimit(10000)',
      'MOD = 10**9 + 7',
      'LIMIT = 5',
      'class Node:',
      '    def __init__(self, v):',
      '        self.v = v % MOD',
      'def build(vals):',
      '    return deque(Node(v) for v in vals)',
      'def noise():',
      '    return LIMIT',
      'def main(vals):',
      '    return [n.v for n in build(vals)]',
      'main([1])',
      '```',
    );
    expect(await extractCode(reply, 'main', opts)).toBe(
      lines(
        'import sys',
        'from collections import deque',
        'sys.setrecursionlimit(10000)',
        '',
        'MOD = 10**9 + 7',
        '',
        'class Node:',
        '    def __init__(self, v):',
        '        self.v = v % MOD',
        '',
        'def build(vals):',
        '    return deque(Node(v) for v in vals)',
        '',
        'def main(vals):',
        '    return [n.v for n in build(vals)]',
        '',
      ),
    );
  });

  it('prefers the last block that defines the entry point (a revision), keeping every definition without one', async () => {
    const reply = lines('```python', 'def f(x):', '    return x + 1', '```', 'Oops, fixed:', '```python', 'def f(x):', '    return x + 2', '```');
    expect(await extractCode(reply, 'f', opts)).toBe(lines('def f(x):', '    return x + 2', ''));
    const noEntry = lines('```python', 'def a():', '    return 1', 'def b():', '    return a()', 'print(b())', '```');
    expect(await extractCode(noEntry, undefined, opts)).toBe(lines('def a():', '    return 1', '', 'def b():', '    return a()', ''));
  });

  it('falls back to the block itself when it defines nothing, and gives "" when nothing parses', async () => {
    expect(await extractCode(lines('```python', 'x = input()', 'print(x[::-1])', '```'), 'solve', opts)).toBe(lines('x = input()', 'print(x[::-1])', ''));
    expect(await extractCode("I can't solve this, sorry.", 'solve', opts)).toBe('');
  });

  it('handles a 5,000-line reply of prose, drafts and code quickly and returns the right code', async () => {
    const parts: string[] = [];
    let k = 0;
    while (parts.length < 5000) {
      parts.push(`Step ${k}: we consider what's needed here, and it's tricky (case ${k}.`);
      parts.push(`def draft_${k}(a):`, `    x = a + ${k}`, '    if x > 3:', '        return x', '    return -x', '');
      parts.push(`Now let's test draft ${k}, shall we?`, `print(draft_${k}(${k}))`, '');
      if (k === 100) parts.push('OFFSET = 10', '');
      if (k === 300) parts.push('def helper(n):', '    return draft_7(n) * 2', '');
      k++;
    }
    parts.push("Final answer, I'm confident:", '', 'def solve(n):', '    return helper(n) + OFFSET', '', 'print(solve(3))');
    const reply = parts.join('\n');
    expect(reply.split('\n').length).toBeGreaterThanOrEqual(5000);
    const t0 = performance.now();
    const r = await extractCodeDetailed(reply, 'solve', opts);
    const ms = performance.now() - t0;
    console.log(`extract_code on a ${reply.split('\n').length}-line reply: ${ms.toFixed(0)} ms (${r.candidates} runs of code found)`);
    expect(r.code).toBe(
      lines(
        'def draft_7(a):',
        '    x = a + 7',
        '    if x > 3:',
        '        return x',
        '    return -x',
        '',
        'OFFSET = 10',
        '',
        'def helper(n):',
        '    return draft_7(n) * 2',
        '',
        'def solve(n):',
        '    return helper(n) + OFFSET',
        '',
      ),
    );
    expect(r).toMatchObject({ source: 'span', joined: 4, entryPointFound: true });
  });
});
