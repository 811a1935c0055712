// No task of any benchmark shows a model its reference solution or hidden test code that is not also public.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BENCHMARK_LIST, loadBenchmark } from '../datasets/registry.ts';
import type { Task } from '../datasets/task.ts';
import { tmpDir } from './helpers/tmp.ts';

const repoRoot = path.resolve(import.meta.dirname, '..');
const dataDir = process.env.FLOWREASONER_DATA_DIR ?? path.resolve(repoRoot, '../shared/datasets');

/**
 * Lines worth searching for: long enough to be specific, and not the parts a prompt may legitimately share with
 * code (signatures, imports, decorators, comments, docstring quotes, bare keywords).
 */
function significantLines(code: string): string[] {
  return code
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length >= 20 && !/^(?:def |async def |class |import |from |@|#|"""|\'\'\')/.test(l) && !/^(?:return|pass|break|continue|else:|try:|finally:)$/.test(l));
}

/**
 * A line that is only literals (a message, a returned status string, a dict entry of constants) or opens a bracket:
 * data a prompt may document, not logic.
 */
function literalOnly(line: string): boolean {
  const lit = String.raw`(?:[rbfRBF]{0,2}"(?:[^"\\]|\\.)*"|[rbfRBF]{0,2}'(?:[^'\\]|\\.)*'|-?\d[\d.eE+-]*|True|False|None)`;
  const bareOpen = /^[\w.]+\s*=\s*[[{(]$/.test(line);
  return bareOpen || new RegExp(String.raw`^(?:return\s+)?\(?${lit}(?:\s*:\s*${lit})?\)?,?$`).test(line);
}

/** A test line that checks something (an assert, a unittest assertion, a failure, EvalPlus inputs/results data). */
function checks(line: string): boolean {
  return /\bassert|\bself\.fail\b|^(?:inputs|results)\s*=/.test(line);
}

/** The prose of a prompt: its string literals and comments, where a solution or an expected value could be spelled out. */
function proseOf(prompt: string): string {
  const strings = [...prompt.matchAll(/("""|\'\'\')([\s\S]*?)\1/g)].map((m) => m[2] ?? '');
  const comments = [...prompt.matchAll(/#.*$/gm)].map((m) => m[0]);
  return [...strings, ...comments].join('\n');
}

/** Test code of a spec, as text: the test file, or the setup plus every named snippet. */
function testText(spec: Task['publicTests']): string {
  return [spec.test ?? '', spec.setup ?? '', ...(spec.tests ?? []).map((t) => t.code)].join('\n');
}

/**
 * Every leak of a task, described; empty when clean.
 * - Reference: a line of the reference's body (what follows the prompt when the reference extends it, else the whole
 *   reference) spelled out in the prompt's prose. Code the prompt itself defines (HumanEval/38's encoder, whose lines
 *   the decoder reuses) and literal-only lines (error messages the docstring documents) are not leaks.
 * - Hidden asserts (MBPP style): any hidden assert that is not also public, found in the prompt or the public tests.
 * - Hidden test files: any checking line (assert, assertion method, EvalPlus inputs/results) not also in the public
 *   test, found in the prompt. Call lines shared with docstring usage examples (`df, ax = task_func(10)`) are upstream
 *   examples, not leaks.
 */
function leaks(task: Task): string[] {
  const found: string[] = [];
  const prose = proseOf(task.prompt);
  const body = task.reference.startsWith(task.prompt) ? task.reference.slice(task.prompt.length) : task.reference;
  for (const line of significantLines(body)) if (!literalOnly(line) && prose.includes(line)) found.push(`prompt contains reference line: ${line}`);

  const publicText = testText(task.publicTests);
  const publicLines = new Set(significantLines(publicText));
  const hiddenOnly = (task.hiddenTests.tests ?? []).filter((t) => !(task.publicTests.tests ?? []).some((p) => p.code === t.code));
  for (const t of hiddenOnly) {
    if (task.prompt.includes(t.code)) found.push(`prompt contains hidden test ${t.name}`);
    if (publicText.includes(t.code)) found.push(`public tests contain hidden test ${t.name}`);
  }
  for (const line of significantLines(task.hiddenTests.test ?? '').filter(checks)) {
    // The public check asserts call the entry point by name where the official test says `candidate`.
    const asPublic = line.replace(/\bcandidate\b(?=\s*\()/g, task.entryPoint);
    if (publicLines.has(line) || publicLines.has(asPublic)) continue;
    if (task.prompt.includes(line) || task.prompt.includes(asPublic)) found.push(`prompt contains hidden test line: ${line.slice(0, 80)}`);
  }
  return found;
}

const loaded = new Map<string, Task[]>();

beforeAll(async () => {
  for (const b of BENCHMARK_LIST) loaded.set(b.name, await loadBenchmark(b.name, { dataDir }));
  loaded.set('bigcodebench v0.1.0', await loadBenchmark('bigcodebench', { dataDir, version: '0.1.0' }));
});

describe('no leaks', () => {
  for (const b of [...BENCHMARK_LIST.map((x) => x.name), 'bigcodebench v0.1.0']) {
    it(`${b}: no prompt shows the reference or hidden-only test code`, () => {
      const tasks = loaded.get(b) ?? [];
      expect(tasks.length).toBeGreaterThan(0);
      const bad = tasks.flatMap((t) => leaks(t).map((l) => `${t.id}: ${l}`));
      expect(bad).toEqual([]);
    });
  }

  it('MBPP: asserts 2 and 3 appear neither in the prompt nor in the public tests', () => {
    for (const name of ['mbpp', 'mbpp-sanitized'] as const) {
      for (const t of loaded.get(name) ?? []) {
        const [first, ...rest] = t.hiddenTests.tests ?? [];
        expect(t.publicTests.tests).toEqual([first]);
        expect(t.prompt).toContain(first?.code);
        for (const h of rest) {
          if (h.code === first?.code) continue;
          expect(t.prompt).not.toContain(h.code);
        }
      }
    }
  });

  it('the check catches a planted leak of each kind', async () => {
    const mbpp = (loaded.get('mbpp') ?? [])[0] as Task;
    const second = (mbpp.hiddenTests.tests ?? [])[1]?.code ?? '';
    expect(leaks({ ...mbpp, prompt: `${mbpp.prompt}\n${second}` })).toContain('prompt contains hidden test assert_2');
    const he = (loaded.get('humaneval') ?? [])[0] as Task;
    const refLine = significantLines(he.reference.slice(he.prompt.length))[0] ?? '';
    const closing = he.prompt.lastIndexOf('"""');
    const planted = `${he.prompt.slice(0, closing)}    ${refLine}\n    ${he.prompt.slice(closing)}`;
    expect(leaks({ ...he, prompt: planted }).some((l) => l.startsWith('prompt contains reference line'))).toBe(true);
    const bcb = (loaded.get('bigcodebench') ?? [])[0] as Task;
    const lastCheck = significantLines(bcb.hiddenTests.test ?? '').filter(checks).at(-1) ?? '';
    expect(leaks({ ...bcb, prompt: `${bcb.prompt}\n# ${lastCheck}\n` }).some((l) => l.startsWith('prompt contains hidden test line'))).toBe(true);
    // And the custom loader refuses such a prompt outright.
    const dir = await tmpDir();
    const f = path.join(dir, 'tasks.jsonl');
    const row = { task_id: 'x/1', prompt: 'def f(x):\n    """assert f(2) == 4"""\n', entry_point: 'f', public_tests: ['assert f(1) == 2'], hidden_tests: ['assert f(2) == 4'] };
    await writeFile(f, `${JSON.stringify(row)}\n`);
    await expect(loadBenchmark(`custom:${f}`)).rejects.toMatchObject({ code: 'data-invalid', message: expect.stringContaining('hidden_tests.0') });
  });
});
