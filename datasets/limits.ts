// Time limits each benchmark's jobs carry, declared as data with the reason for each value.

export const LIMITS = {
  /** human-eval `check_correctness` default: one 3 s alarm around the whole exec (execution.md §2). */
  humaneval: { timeoutS: 3 },
  /**
   * Our choice: google-research ships no harness or limit for MBPP, and every reference must pass (execution.md §4);
   * task 123's reference needs about 20 s on a slow host, so the whole exec gets 30 s (public tests too: the same
   * reference must pass them).
   */
  mbpp: { timeoutS: 30 },
  /**
   * EvalPlus caps a whole sample at min(60 s, sum of per-call limits); the per-call limit is max(4 s, 4 x the
   * reference's time for that input). We do not ship reference timings, so the per-call limit is the 4 s floor and
   * the whole test gets the 60 s cap (execution.md §3).
   */
  evalplus: { timeoutS: 60, perCallTimeoutS: 4 },
  /** EvalPlus-family public tests are single MBPP-style asserts, judged like MBPP. */
  evalplusPublic: { timeoutS: 3 },
  /** BigCodeBench suite alarm: BIGCODEBENCH_TIMEOUT_PER_TASK defaults to 240 s (execution.md §5). */
  bigcodebench: { timeoutS: 240 },
  /** Users' private tasks: MBPP-style asserts. */
  custom: { timeoutS: 3 },
} as const;
