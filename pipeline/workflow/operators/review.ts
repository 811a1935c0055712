// Review: asks the worker to judge a solution against the problem; returns a verdict and feedback.
import { z } from 'zod';
import { defineOperator } from './operator-spec.ts';

/** Reads <review_result> and <feedback>; without a readable verdict the solution counts as not approved. */
export function readReview(reply: string): { review_result: boolean; feedback: string } {
  const verdict = /<review_result>\s*([^<]*?)\s*<\/review_result>/i.exec(reply)?.[1];
  const feedback = /<feedback>([\s\S]*?)(?:<\/feedback>|$)/i.exec(reply)?.[1]?.trim();
  const approved = verdict !== undefined && /^(true|yes|correct|pass(ed)?|1)\b/i.test(verdict);
  return { review_result: approved, feedback: feedback ?? reply.trim() };
}

export const review = defineOperator({
  name: 'Review',
  attribute: 'review',
  description: 'Asks the worker model to check a solution against the problem statement and say whether it is correct, with feedback on what is wrong.',
  interface: "review(problem: str, solution: str) -> {'review_result': bool, 'feedback': str}",
  params: ['problem', 'solution'],
  args: z.object({ problem: z.string(), solution: z.string() }),
  async run(args, ctx) {
    const prompt = [
      'Check whether this solution solves the problem exactly as stated: signature, edge cases, and return values.',
      `Problem:\n${args.problem}`,
      `Solution:\n${args.solution}`,
      'Answer with <review_result>true</review_result> or <review_result>false</review_result>, then concrete feedback inside <feedback></feedback>.',
    ].join('\n\n');
    const r = await ctx.ask([{ role: 'user', content: prompt }]);
    return readReview(r.content);
  },
});
