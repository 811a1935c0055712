// CustomCodeGenerate: asks the worker for a Python solution of the problem and returns only the code it meant.
import { z } from 'zod';
import { defineOperator } from './operator-spec.ts';

export const customCodeGenerate = defineOperator({
  name: 'CustomCodeGenerate',
  attribute: 'custom_code_generate',
  description: 'Asks the worker model to write Python code for the problem, guided by an instruction, and returns just the extracted code (the function named entry_point and what it needs).',
  interface: "custom_code_generate(problem: str, entry_point: str, instruction: str) -> {'response': str}",
  params: ['problem', 'entry_point', 'instruction'],
  args: z.object({ problem: z.string(), entry_point: z.string(), instruction: z.string() }),
  async run(args, ctx) {
    const ask = [
      args.instruction.trim(),
      args.problem,
      `Write the complete Python code, defining \`${args.entry_point}\` with the exact signature asked for, in one fenced python block.`,
    ]
      .filter((p) => p !== '')
      .join('\n\n');
    const r = await ctx.ask([{ role: 'user', content: ask }]);
    return { response: await ctx.extractCode(r.content, args.entry_point) };
  },
});
