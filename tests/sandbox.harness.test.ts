// Harness semantics: MBPP per-assert outcomes, EvalPlus base/plus verdicts and per-input outcomes, BigCodeBench unittest details, missing dependencies.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Executor } from '../pipeline/sandbox/executor.ts';
import { loadBenchmark } from '../datasets/registry.ts';
import { assembleProgram, jobFor } from '../datasets/task.ts';
import { sharedDatasets } from './helpers/tmp.ts';

let ex: Executor;
beforeAll(() => {
  ex = new Executor({ workers: 2 });
});
afterAll(async () => {
  await ex.close();
});

describe('asserts (MBPP)', () => {
  it('keeps one outcome per assert and reports the first failure', async () => {
    const r = await ex.run({
      harness: 'asserts',
      program: 'def sq(x):\n    return x * x if x < 3 else 0\n',
      entryPoint: 'sq',
      tests: [
        { name: 'assert_1', code: 'assert sq(2) == 4' },
        { name: 'assert_2', code: 'assert sq(3) == 9, "sq(3)"' },
        { name: 'assert_3', code: 'assert sq(1) == 1' },
      ],
      timeoutS: 3,
    });
    expect(r.passed).toBe(false);
    expect(r.result).toBe('failed: sq(3)');
    expect(r.tests?.map((t) => t.passed)).toEqual([true, false, true]);
    expect(r.firstFailure).toEqual({ name: 'assert_2', error: 'AssertionError: sq(3)' });
  });

  it('fails every test when the program itself raises', async () => {
    const r = await ex.run({ harness: 'asserts', program: 'import no_such_module_anywhere\n', entryPoint: 'f', tests: [{ name: 'a', code: 'assert True' }], timeoutS: 3 });
    expect(r.result).toBe("failed: No module named 'no_such_module_anywhere'");
    expect(r.tests).toEqual([{ name: 'a', passed: false, error: "ModuleNotFoundError: No module named 'no_such_module_anywhere'" }]);
  });
});

describe('programs compiled by the comparer', () => {
  it('gives a program that does not compile the error exec would raise, and judges one over 1 MiB in its own process', async () => {
    const check = 'def check(candidate):\n    assert candidate(2) == 4\n';
    const broken = await ex.run({ harness: 'check', program: 'def sq(x):\n    return x *\n', test: check, entryPoint: 'sq', timeoutS: 3 });
    expect(broken.result).toBe('failed: invalid syntax (<string>, line 2)');
    // Past the comparer's compile limit the candidate's process compiles the source itself, under its own limits.
    const padded = `${'# padding\n'.repeat(120_000)}def sq(x):\n    return x * x\n`;
    expect(padded.length).toBeGreaterThan(1 << 20);
    const big = await ex.run({ harness: 'check', program: padded, test: check, entryPoint: 'sq', timeoutS: 10 });
    expect(big.result).toBe('passed');
    const bigWrong = await ex.run({ harness: 'check', program: padded.replace('x * x', 'x + x + 1'), test: check, entryPoint: 'sq', timeoutS: 10 });
    expect(bigWrong.result).toBe('failed: ');
  });
});

describe('evalplus', () => {
  it('judges base and plus inputs separately, per input', async () => {
    const [task] = (await loadBenchmark('mbpp-plus', { dataDir: sharedDatasets })).filter((t) => t.id === 'Mbpp/2');
    // Right on the three base inputs, wrong on empty tuples (a plus input).
    const program = 'def similar_elements(a, b):\n    if not a or not b:\n        return (None,)\n    return tuple(set(a) & set(b))\n';
    const r = await ex.run(jobFor(task!, assembleProgram(task!, { solution: program }), 'hidden'));
    expect(r.base).toBe('pass');
    expect(r.plus).toBe('fail');
    expect(r.passed).toBe(false);
    expect(r.tests!.filter((t) => t.name.startsWith('base_')).every((t) => t.passed)).toBe(true);
    expect(r.firstFailure?.name).toMatch(/^plus_\d+$/);
  });

  it('gives a slow input its own time limit without losing the other outcomes', async () => {
    const program = 'import time\ndef ident(x):\n    if x == 2:\n        time.sleep(30)\n    return x\n';
    // EvalPlus's oracle path: the reference (here the identity) gives the expected outputs.
    const r = await ex.run({
      harness: 'evalplus',
      program,
      entryPoint: 'ident',
      inputsJson: '[[1], [2], [3]]',
      reference: 'def ident(x):\n    return x\n',
      atol: 0,
      dataset: 'mbpp',
      taskId: 'Mbpp/0',
      timeoutS: 20,
      perCallTimeoutS: 0.5,
      baseCount: 1,
    });
    expect(r.base).toBe('pass');
    expect(r.plus).toBe('timeout');
    expect(r.tests).toEqual([
      { name: 'base_0', passed: true },
      { name: 'plus_1', passed: false, error: 'timed out' },
    ]);
  });
});

describe('unittest (BigCodeBench)', () => {
  it('runs TestCases as module __test__ with per-method details', async () => {
    const test = [
      'import unittest',
      'class TestCases(unittest.TestCase):',
      '    def test_ok(self):',
      '        self.assertEqual(task_func(2), 4)',
      '    def test_name(self):',
      '        self.assertEqual(__name__, "__test__")',
      '    def test_bad(self):',
      '        self.assertEqual(task_func(3), 10)',
    ].join('\n');
    const r = await ex.run({ harness: 'unittest', program: 'def task_func(x):\n    return x * 2\n', test, entryPoint: 'task_func', timeoutS: 60 });
    expect(r.passed).toBe(false);
    expect(r.tests?.find((t) => t.name === 'test_ok')?.passed).toBe(true);
    expect(r.tests?.find((t) => t.name === 'test_name')?.passed).toBe(true);
    expect(r.tests?.find((t) => t.name === 'test_bad')?.error).toMatch(/AssertionError: 6 != 10/);
  });

  it('passes stdlib-only BigCodeBench references', async () => {
    const tasks = (await loadBenchmark('bigcodebench', { dataDir: sharedDatasets })).filter((t) => t.requires.length === 0).slice(0, 8);
    expect(tasks.length).toBe(8);
    const rs = await Promise.all(tasks.map((t) => ex.run(jobFor(t, assembleProgram(t, { solution: t.reference }), 'hidden'))));
    expect(rs.filter((r) => !r.passed).map((r) => r.result)).toEqual([]);
  });

  it('reports a missing library as a missing dependency, not a model failure', async () => {
    const r = await ex.run({ harness: 'unittest', program: 'import tensorflow\n', test: '', entryPoint: 'task_func', timeoutS: 60, requires: ['tensorflow', 'json'] });
    expect(r.status).toBe('missing-dependency');
    expect(r.result).toBe('missing dependency: tensorflow');
    expect(r.passed).toBe(false);
  });
});
