// The simulated worker as a reviewer: asked for a <review_result>, it approves the reference and catches a wrong solution as often as its skill allows.
import type { Rng } from '../../random.ts';
import type { SimTask } from '../task-index.ts';
import { normalizeSpace } from '../task-index.ts';
import type { Draft } from './types.ts';

/** The function bodies of a program, whitespace-folded, for a loose "is this the reference?" comparison. */
function folded(program: string): string {
  return normalizeSpace(program.replace(/^\s*(from|import)\s.*$/gm, ''));
}

/**
 * A solution that matches the reference is always approved. A wrong one is caught with probability `accuracy`
 * (the same skill that writes a right answer), else waved through: a review is a second opinion, not an oracle.
 */
export function reviewerDraft(message: string, task: SimTask | undefined, accuracy: number, rng: Rng): Draft | null {
  if (!/<review_result>/i.test(message)) return null;
  const solution = /Solution:\s*([\s\S]*?)(?:\n\s*Answer with|$)/.exec(message)?.[1] ?? '';
  const right = task !== undefined && solution.trim() !== '' && folded(solution).includes(folded(task.solution).slice(-200));
  const approved = right || (task !== undefined && !rng.chance(accuracy));
  return {
    reasoning: approved ? 'The solution follows the specification.' : 'Something in the solution does not match the specification.',
    content: approved
      ? '<review_result>true</review_result>\n<feedback>The solution handles the stated cases correctly.</feedback>'
      : `<review_result>false</review_result>\n<feedback>${task === undefined ? 'I cannot tell what the task asks.' : `Check ${task.entryPoint} against the examples in the description; at least one case comes out wrong.`}</feedback>`,
  };
}
