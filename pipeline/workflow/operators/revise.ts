// Revise: asks the worker to rewrite a solution following feedback; returns the revised code.
import { z } from 'zod';
import { defineOperator } from './operator-spec.ts';

export const revise = defineOperator({
  name: 'Revise',
  attribute: 'revise',
  description: 'Gives the worker model a solution and feedback on it and returns the revised solution (code is extracted from the reply).',
  interface: "revise(problem: str, solution: str, feedback: str) -> {'solution': str}",
  params: ['problem', 'solution', 'feedback'],
  args: z.object({ problem: z.string(), solution: z.string(), feedback: z.string() }),
  async run(args, ctx) {
    const prompt = [
      'Improve this solution using the feedback. Keep what is right; change what the feedback shows is wrong.',
      `Problem:\n${args.problem}`,
      `Solution:\n${args.solution}`,
      `Feedback:\n${args.feedback}`,
      'Reply with the complete revised code in one fenced python block.',
    ].join('\n\n');
    const r = await ctx.ask([{ role: 'user', content: prompt }]);
    return { solution: await ctx.extractCode(r.content, ctx.task.entryPoint) };
  },
});
