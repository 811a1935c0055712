// Which tests of each benchmark are public (shown to the meta-agent, run during search) and which stay hidden (final scoring only).
/**
 * # Public / hidden tests, per benchmark
 *
 * A task's `prompt` is what a model sees. Its `publicTests` are what a workflow's Test operator may run and report back
 * while it works (design/flowreasoner.md §5); its `hiddenTests` are the official test and score the final answer.
 * No prompt contains the reference solution or hidden test code that is not also public
 * (tests/datasets.leak.test.ts checks every task of every benchmark). Public jobs run every test
 * (`fastFail: false`, so the feedback covers all of them); hidden MBPP-style and EvalPlus jobs stop at the first
 * failure, as the official harnesses do.
 *
 * - **HumanEval, HumanEval+.** Public: the docstring examples of the prompt, as asserts (`asserts` harness, 3 s,
 *   named example_1, example_2, ...). An example is a `>>> expr` line (plus `... ` continuation lines, trailing
 *   `# comments` dropped) followed by its expected output line(s), up to a blank line, the next `>>>` or the end of the
 *   docstring; it becomes `assert expr == expected`. An example written as `>>> call == literal` with no output line
 *   (HumanEval/108, /128, /145, /156, /162) is read the same way. Skipped: examples that do not call the entry point,
 *   statements (assignments, `print(...)`, imports), outputs that are not a Python literal (or are empty), and the
 *   examples WRONG_DOCSTRING_EXAMPLES lists because the reference disagrees with them (HumanEval/47, /116). If no
 *   example is left, public = the first `assert` written directly in the body of the official `check(candidate)` that
 *   calls `candidate(...)` (an assert inside a loop depends on loop variables and is passed over), with `candidate`
 *   renamed to the entry point (named check_assert_1). HumanEval/38 and /50 (decode_cyclic, decode_shift) have
 *   neither; their public test is our own round-trip assert through the prompt's encoder (PUBLIC_TEST_OVERRIDES).
 *   meta.publicSource says which rule applied ('docstring', 'check-assert' or 'override').
 *   Hidden: HumanEval: the official test (`check` harness, 3 s). HumanEval+: EvalPlus's oracle path (`evalplus`
 *   harness: every base and plus input of the main file is one call, compared with the reference's output by
 *   EvalPlus's rules; 4 s minimum per call (4 x the reference's time when longer), 60 s per sample, baseCount =
 *   len(base_input)). HumanEval/32 (find_zero) is judged by EvalPlus's find_zero oracle (|poly(xs, x)| <= atol), so
 *   its broken OriginFmt test is not needed.
 * - **MBPP (original).** The prompt is the task text and the first of the 3 asserts, in a docstring (EvalPlus's
 *   layout; the asserts fix the function name, so a model must see one). Public: assert 1. Hidden: asserts 1-3
 *   (assert_1..assert_3, `asserts` harness, 3 s, `setup` = test_setup_code). challenge_test_list is not used.
 *   The entry point is the one top-level function of the reference that assert 1 calls.
 * - **Sanitized MBPP.** As MBPP, with the sanitized text; hidden = all of its asserts (3 to 7); `setup` = the
 *   test_imports joined by newlines.
 * - **MBPP+.** The prompt is EvalPlus's (text and first original assert in a docstring). Public: the assert shown in
 *   the prompt (`asserts` harness, 3 s, setup = the OriginFmt test_imports). Hidden: EvalPlus's oracle path as for
 *   HumanEval+, with MBPP+'s input deserialisation and special oracles (pipeline/sandbox/py/fr_evalplus.py).
 * - **BigCodeBench, BigCodeBench-Hard.** The prompt is complete_prompt. Public: the test file with `TestCases` cut
 *   down to its first test method in source order (imports, module helpers, setUp/tearDown, helper methods and class
 *   attributes kept; the other test* methods, their decorators and the comments right above them removed), as a
 *   `unittest` job (240 s, same `requires`). Hidden: the whole suite.
 * - **custom:FILE.** Public: `public_tests`; hidden: `hidden_tests` (both `asserts`, 3 s, `setup` before both). A
 *   prompt that contains a hidden test which is not also in public_tests is rejected as data-invalid.
 */
import type { z } from 'zod';
import { firstCheckAssert } from './check-asserts.ts';
import { docstringExamples } from './docstring-examples.ts';
import type { NamedTestSchema } from './task.ts';
import { keepFirstTestMethod } from './unittest-first.ts';

export type NamedTest = z.infer<typeof NamedTestSchema>;

/** Public tests we wrote ourselves, for tasks whose prompt and official test offer no standalone example. */
export const PUBLIC_TEST_OVERRIDES: Readonly<Record<string, { tests: string[]; why: string }>> = {
  'HumanEval/38': {
    tests: ["assert decode_cyclic(encode_cyclic('abcdefghijk')) == 'abcdefghijk'"],
    why: 'no docstring example; the official asserts sit in a loop over random strings',
  },
  'HumanEval/50': {
    tests: ["assert decode_shift(encode_shift('helloworld')) == 'helloworld'"],
    why: 'no docstring example; the official asserts sit in a loop over random strings',
  },
};

/** Docstring examples whose printed output is wrong upstream (the reference disagrees); they are not used. */
export const WRONG_DOCSTRING_EXAMPLES: Readonly<Record<string, { sources: string[]; why: string }>> = {
  'HumanEval/47': {
    sources: ['median([-10, 4, 6, 1000, 10, 20])'],
    why: 'the docstring says 15.0; the median of those six numbers is 8.0, which the reference and the official test expect',
  },
  'HumanEval/116': {
    sources: ['sort_array([1, 5, 2, 3, 4]) == [1, 2, 3, 4, 5]', 'sort_array([-2, -3, -4, -5, -6]) == [-6, -5, -4, -3, -2]'],
    why: 'the examples sort by value, but the task (and the reference and the official test) sorts by the number of 1 bits first',
  },
};

export interface HumanEvalPublic {
  tests: NamedTest[];
  source: 'docstring' | 'check-assert' | 'override';
  /** Docstring examples that could not be turned into asserts. */
  skippedExamples: number;
}

/** Public asserts of a HumanEval(+) task; undefined when neither an example nor a standalone check assert exists. */
export function humanevalPublicTests(taskId: string, prompt: string, entryPoint: string, checkTest: string): HumanEvalPublic | undefined {
  const examples = docstringExamples(prompt, entryPoint, WRONG_DOCSTRING_EXAMPLES[taskId]?.sources);
  const override = PUBLIC_TEST_OVERRIDES[taskId];
  if (override !== undefined) {
    return { tests: override.tests.map((code, i) => ({ name: `override_${i + 1}`, code })), source: 'override', skippedExamples: examples.skipped };
  }
  if (examples.tests.length > 0) return { tests: examples.tests, source: 'docstring', skippedExamples: examples.skipped };
  const fromCheck = firstCheckAssert(checkTest, entryPoint);
  if (fromCheck === undefined) return undefined;
  return { tests: [{ name: 'check_assert_1', code: fromCheck }], source: 'check-assert', skippedExamples: examples.skipped };
}

/** MBPP and sanitized MBPP: every assert is hidden (assert_1..n); the first is also public. */
export function mbppTests(asserts: readonly string[]): { publicTests: NamedTest[]; hiddenTests: NamedTest[] } {
  const hiddenTests = asserts.map((code, i) => ({ name: `assert_${i + 1}`, code: code.trim() }));
  return { publicTests: hiddenTests.slice(0, 1), hiddenTests };
}

/** The prompt we show for MBPP and sanitized MBPP: EvalPlus's MBPP+ layout (text, then the first assert, in a docstring). */
export function mbppPrompt(text: string, firstAssert: string): string {
  return `"""\n${text.replace(/\r\n/g, '\n').trim()}\n${firstAssert.trim()}\n"""\n`;
}

/** The assert lines an MBPP+ prompt shows (one per task in v0.2.0), named assert_1, ... */
export function promptAsserts(prompt: string): NamedTest[] {
  return prompt
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^assert\b/.test(l))
    .map((code, i) => ({ name: `assert_${i + 1}`, code }));
}

/** BigCodeBench public test: the suite cut down to its first test method. */
export function bigcodebenchPublicTest(test: string): string | undefined {
  return keepFirstTestMethod(test, 'TestCases');
}
