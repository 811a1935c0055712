// The performance component: the workflow's hidden-test pass rate, averaged over its K executions.
/**
 * FlowReasoner scores a workflow by executing it and running the solution on the tests (flowreasoner.md §7–§8);
 * K independent executions smooth the worker's sampling noise, as in distillation (runsPerRound, K = 3).
 * A null entry is an execution that produced no solution: it counts 0, never dropped, so a workflow that
 * often crashes cannot look good on its few lucky runs. Throws RangeError on an empty list (nothing was
 * executed: the caller treats that sample as unscorable) and on a pass rate outside [0, 1].
 */
export function performanceReward(passRates: readonly (number | null)[]): number {
  if (passRates.length === 0) throw new RangeError('performanceReward needs at least one execution');
  let sum = 0;
  for (const p of passRates) {
    if (p === null) continue;
    if (!(p >= 0 && p <= 1)) throw new RangeError(`pass rate ${p} is outside [0, 1]`);
    sum += p;
  }
  return sum / passRates.length;
}
