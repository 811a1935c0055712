// Custom: the instruction followed by the input, sent to the worker; the reply as it is.
import { z } from 'zod';
import { defineOperator } from './operator-spec.ts';

export const custom = defineOperator({
  name: 'Custom',
  attribute: 'custom',
  description: 'Sends one instruction plus an input text to the worker model and returns its raw reply; use it for planning, analysis, critique or any free-form step.',
  interface: "custom(input: str, instruction: str) -> {'response': str}",
  params: ['input', 'instruction'],
  args: z.object({ input: z.string(), instruction: z.string() }),
  async run(args, ctx) {
    const text = args.instruction.trim() === '' ? args.input : `${args.instruction}\n\n${args.input}`;
    const r = await ctx.ask([{ role: 'user', content: text }]);
    return { response: r.content };
  },
});
