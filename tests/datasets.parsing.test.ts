// The small Python readers behind the split rules: literals, logical lines, docstring examples, check asserts, unittest surgery.
import { describe, expect, it } from 'vitest';
import { firstCheckAssert } from '../datasets/check-asserts.ts';
import { docstringExamples } from '../datasets/docstring-examples.ts';
import { mbppEntryPoint } from '../datasets/mbpp-entry-point.ts';
import { logicalLines } from '../datasets/python-lines.ts';
import { parsePythonLiteral, parsePythonStringList, toPythonLiteral } from '../datasets/python-literal.ts';
import { parsePythonJson } from '../datasets/read-rows.ts';
import { keepFirstTestMethod } from '../datasets/unittest-first.ts';

describe('python literals', () => {
  it.each(['1', '-0.5', '1e-5', '0x1F', "'a'", '"a\\"b"', "b'x'", 'True', 'None', '[1, [2, 3]]', '(1,)', '()', "{'a': 1, 2: (3, 4)}", '{1, 2}', "'ab' 'cd'", '[\n 1,\n 2,\n]', '1+2j'])('reads %s', (text) => {
    expect(parsePythonLiteral(text)).toBeDefined();
  });

  it.each(['', 'foo', 'f(1)', '1 2', '[1,', "'unterminated", 'Traceback (most recent call last):', 'x == 1', '-True'])('rejects %j', (text) => {
    expect(parsePythonLiteral(text)).toBeUndefined();
  });

  it('keeps string values with escapes and adjacent concatenation', () => {
    expect(parsePythonLiteral("'a\\tb' \"c\"")).toEqual({ kind: 'str', value: 'a\tbc' });
    expect(parsePythonLiteral("r'a\\tb'")).toEqual({ kind: 'str', value: 'a\\tb' });
    expect(parsePythonLiteral('(1)')).toEqual({ kind: 'num', text: '1' });
  });

  it('parses a libs field and refuses anything but a list of strings', () => {
    expect(parsePythonStringList("['random', 'itertools']")).toEqual(['random', 'itertools']);
    expect(parsePythonStringList('[]')).toEqual([]);
    expect(parsePythonStringList("['a', 1]")).toBeUndefined();
    expect(parsePythonStringList("'a'")).toBeUndefined();
  });

  it('writes JSON values as Python source', () => {
    expect(toPythonLiteral([[1, 2.5, -3], true, null, 'q"x', { a: [false] }])).toBe('[[1, 2.5, -3], True, None, "q\\"x", {"a": [False]}]');
    expect(toPythonLiteral([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])).toBe("[float('nan'), float('inf'), -float('inf')]");
  });

  it("reads Python's JSON dialect (NaN, Infinity) without touching strings", () => {
    expect(parsePythonJson('[[-Infinity, Infinity], NaN, "NaN and -Infinity"]')).toEqual([[-Infinity, Infinity], Number.NaN, 'NaN and -Infinity']);
    expect(() => parsePythonJson('[Nope]')).toThrow(SyntaxError);
  });
});

describe('logical lines', () => {
  it('joins bracketed and backslash-continued lines and skips comments', () => {
    const src = ['x = [1,', '     2]  # two', '# note', '', 'y = 1 + \\', '    2', 'z = "]"'].join('\n');
    expect(logicalLines(src).map((l) => [l.start, l.end, l.indent])).toEqual([
      [0, 1, 0],
      [4, 5, 0],
      [6, 6, 0],
    ]);
  });

  it('does not read a triple-quoted block at column 0 as statements', () => {
    const src = ['class T:', '    def test_a(self):', '        data = """a,b', 'def not_code():', '"""', '        self.x = 1'].join('\n');
    const lines = logicalLines(src);
    expect(lines.map((l) => l.start)).toEqual([0, 1, 2, 5]);
    expect(lines[2]?.end).toBe(4);
  });
});

describe('docstring examples', () => {
  it('turns >>> examples into asserts, with multi-line outputs, comments and self-checking comparisons', () => {
    const prompt = [
      'def f(x):',
      '    """Doc.',
      '    >>> f(1)  # one',
      '    [1,',
      '     2]',
      '    >>> f(2) == 3',
      '    >>> print(f(3))',
      '    hello',
      '    >>> y = f(4)',
      '    >>> g(5)',
      '    6',
      '    >>> f(6) < 7',
      '    True',
      '    >>> f(7)',
      "    'seven'\"\"\"",
    ].join('\n');
    const ex = docstringExamples(prompt, 'f');
    expect(ex.tests.map((t) => t.code)).toEqual(['assert f(1) == ([1,\n2])', 'assert f(2) == 3', 'assert (f(6) < 7) == True', "assert f(7) == 'seven'"]);
    expect(ex.skipped).toBe(3);
    expect(docstringExamples(prompt, 'f', ['f(2) == 3']).tests).toHaveLength(3);
  });
});

describe('check asserts', () => {
  it('takes the first top-level assert that calls the candidate, renamed, multi-line asserts joined', () => {
    const test = [
      'def check(candidate):',
      '    assert True, "warm-up"',
      '    for x in range(3):',
      '        assert candidate(x) == x',
      '    assert candidate([1,',
      '                      2]) == 3, "sum"',
      '    assert candidate(0) == 0',
    ].join('\n');
    expect(firstCheckAssert(test, 'total')).toBe('assert total([1,\n                  2]) == 3, "sum"');
    expect(firstCheckAssert('def check(candidate):\n    for x in y:\n        assert candidate(x)\n', 'f')).toBeUndefined();
  });
});

describe('unittest surgery', () => {
  it('keeps setUp, helpers, attributes and the first test; drops the other tests with their decorators and comments', () => {
    const test = [
      'import unittest',
      'from unittest.mock import patch',
      'def helper():',
      '    return 1',
      'class TestCases(unittest.TestCase):',
      '    limit = 3',
      '    def setUp(self):',
      '        self.data = """x',
      'def fake():',
      '"""',
      '    @patch("os.getcwd")',
      '    def test_first(self, m):',
      '        self.assertEqual(helper(), 1)',
      '    # second one',
      '    @patch("os.listdir")',
      '    @patch(',
      '        "os.remove",',
      '    )',
      '    def test_second(self, a, b):',
      '        self.assertTrue(False)',
      '    def _util(self):',
      '        return 2',
      '    def test_third(self):',
      '        pass',
      'class Other:',
      '    def test_x(self):',
      '        pass',
    ].join('\n');
    const out = keepFirstTestMethod(test);
    expect(out).toBe(
      [
        'import unittest',
        'from unittest.mock import patch',
        'def helper():',
        '    return 1',
        'class TestCases(unittest.TestCase):',
        '    limit = 3',
        '    def setUp(self):',
        '        self.data = """x',
        'def fake():',
        '"""',
        '    @patch("os.getcwd")',
        '    def test_first(self, m):',
        '        self.assertEqual(helper(), 1)',
        '    def _util(self):',
        '        return 2',
        'class Other:',
        '    def test_x(self):',
        '        pass',
      ].join('\n'),
    );
    expect(keepFirstTestMethod('class TestCases:\n    def setUp(self):\n        pass\n')).toBeUndefined();
    expect(keepFirstTestMethod('import unittest\n')).toBeUndefined();
  });
});

describe('smaller rules', () => {
  it('MBPP entry point: the one defined function the first assert calls', () => {
    expect(mbppEntryPoint('def helper(x):\n  return x\ndef main_fn(y):\n  return helper(y)', 'assert set(main_fn(1)) == {1}')).toBe('main_fn');
    expect(mbppEntryPoint('def a():\n  pass', 'assert b() == 1')).toBeUndefined();
    expect(mbppEntryPoint('class Node:\n  pass\ndef size(n):\n  return 0', 'assert size(root) == 5')).toBe('size');
  });
});
