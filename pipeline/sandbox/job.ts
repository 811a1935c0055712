// The executor's contract: one job = a candidate program plus tests in one harness's format; one result in the official vocabulary.

/**
 * How the tests are run (each mirrors an official harness; see ../shared/design/execution.md):
 * - `check`: human-eval. Exec `program + "\n" + test + "\n" + "check(<entryPoint>)"` in fresh empty globals; pass = no exception.
 * - `asserts`: MBPP. Exec `program + "\n" + setup`, then each named assert snippet in the same namespace, in order;
 *   pass = every one ran without exception. Per-test outcomes are kept; `result` names the first failure.
 * - `evalplus`: an EvalPlus OriginFmt test (inputs, results, an `assertion` helper and a loop over them). The loop is
 *   instrumented so each input gets its own outcome and a per-call time limit; the first `baseCount` inputs are `base`.
 *   For HumanEval+ the test defines `check(candidate)`, called with the entry point; for MBPP+ it is module-level code.
 * - `unittest`: BigCodeBench. Exec `program + "\n" + test` as module `__test__` and run `TestCases`; per-method details.
 */
export type HarnessKind = 'check' | 'asserts' | 'evalplus' | 'unittest';

export interface NamedTest {
  name: string;
  code: string;
}

export interface ExecJob {
  harness: HarnessKind;
  /** The candidate program, already assembled for the benchmark (e.g. HumanEval prompt + completion). */
  program: string;
  entryPoint: string;
  /** check / evalplus / unittest: the test code. */
  test?: string;
  /** asserts: the assert snippets, run in order. */
  tests?: NamedTest[];
  /** asserts: code run after the program and before the tests (MBPP test_setup_code, test imports). */
  setup?: string;
  /** Harness time limit in seconds (whole exec for check/asserts, whole test for evalplus, the suite for unittest). */
  timeoutS: number;
  /** evalplus: per-call limit in seconds. */
  perCallTimeoutS?: number;
  /** evalplus: how many leading inputs are base inputs (the rest are plus). */
  baseCount?: number;
  /** evalplus/asserts: stop at the first failure (the official default) or run every test. */
  fastFail?: boolean;
  /** Top-level modules the task needs; a missing one gives `missing dependency: <lib>` without running anything. */
  requires?: string[];
  /** Address-space limit for this job in MiB (0 = none); defaults come from the sandbox config. */
  memoryMb?: number;
}

export type ExecStatus = 'pass' | 'fail' | 'timeout' | 'missing-dependency' | 'sandbox-error';

export interface TestOutcome {
  name: string;
  passed: boolean;
  /** Error text for a failed test (traceback's last line, or the assertion message). */
  error?: string;
}

export interface ExecResult {
  passed: boolean;
  /** The official harness's words: `passed`, `failed: <error>`, `timed out`; or `missing dependency: <lib>`. */
  result: string;
  status: ExecStatus;
  /** Per-test outcomes where the benchmark has separate tests (MBPP asserts, EvalPlus inputs, BigCodeBench methods). */
  tests?: TestOutcome[];
  firstFailure?: { name: string; error: string };
  /** evalplus: separate verdicts of the base and plus inputs. */
  base?: 'pass' | 'fail' | 'timeout';
  plus?: 'pass' | 'fail' | 'timeout';
  /** Output the program printed (captured, truncated). */
  output?: string;
  durationMs: number;
}
