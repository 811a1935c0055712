// The format component: a fixed penalty for a reply that does not parse or fails the static checks.
import { WORKFLOW_FAILURE_CODES, type WorkflowFailureCode } from '../pipeline/workflow/failures.ts';

export type FormatResult =
  | { ok: true; value: 0; reason: null }
  | { ok: false; value: number; reason: WorkflowFailureCode };

/**
 * One fixed value for every failure, not a graded scale: grading would reward "nearly parses" replies that are
 * worth exactly as little as empty ones, and the policy could farm the gradient between grades. The reason is the
 * failure first in WORKFLOW_FAILURE_CODES, which runs from "nothing usable" to "breaks a rule": the root cause,
 * since later codes are often its consequences. It is logged and counted per category (style.md, typed errors).
 */
export function formatReward(failures: readonly WorkflowFailureCode[], formatPenalty: number): FormatResult {
  if (failures.length === 0) return { ok: true, value: 0, reason: null };
  for (const code of failures) if (!WORKFLOW_FAILURE_CODES.includes(code)) throw new RangeError(`unknown workflow failure code ${String(code)}`);
  const rank = (code: WorkflowFailureCode): number => WORKFLOW_FAILURE_CODES.indexOf(code);
  const reason = failures.reduce((best, code) => (rank(code) < rank(best) ? code : best));
  return { ok: false, value: formatPenalty, reason };
}
