// Test: runs the solution against the task's public tests; on failure asks the worker to reflect and fix, a bounded number of times.
import { z } from 'zod';
import { jobFor } from '../../../datasets/task.ts';
import type { ExecResult } from '../../sandbox/job.ts';
import { defineOperator } from './operator-spec.ts';
import type { OperatorContext } from './operator-context.ts';

/** What a failing run tells the worker: the failing public test and its error (public tests are no secret). */
export function describeFailure(r: ExecResult, ctx: OperatorContext): string {
  const spec = ctx.task.publicTests;
  const failed = r.firstFailure;
  const testCode = failed !== undefined ? spec.tests?.find((t) => t.name === failed.name)?.code : undefined;
  const lines = [`Result: ${r.result}`];
  if (testCode !== undefined) lines.push(`Failing test:\n${testCode}`);
  if (failed !== undefined && failed.error !== '') lines.push(`Error: ${failed.error}`);
  if (r.output !== undefined && r.output.trim() !== '') lines.push(`Output (truncated):\n${r.output.slice(0, 1500)}`);
  return lines.join('\n');
}

function hasPublicTests(ctx: OperatorContext): boolean {
  const s = ctx.task.publicTests;
  return s.harness === 'asserts' ? (s.tests?.length ?? 0) > 0 : (s.test ?? '').trim() !== '';
}

export const test = defineOperator({
  name: 'Test',
  attribute: 'test',
  description:
    "Runs the solution against the problem's public tests in the sandbox; if a test fails, shows the worker the failure, asks it to reflect and fix the code, and tests again (a few rounds). Returns whether the final code passes, and that code.",
  interface: "test(problem: str, solution: str, entry_point: str) -> {'result': bool, 'solution': str}",
  params: ['problem', 'solution', 'entry_point'],
  args: z.object({ problem: z.string(), solution: z.string(), entry_point: z.string() }),
  async run(args, ctx) {
    if (!hasPublicTests(ctx)) {
      // Recorded explicitly instead of pretending the code was checked.
      return { result: true, solution: args.solution, no_public_tests: true };
    }
    let solution = args.solution;
    let last: ExecResult | undefined;
    for (let round = 0; round <= ctx.testFixRounds; round++) {
      last = await ctx.executor.run(jobFor(ctx.task, solution, 'public'));
      if (last.passed) return { result: true, solution, rounds: round };
      if (round === ctx.testFixRounds) break;
      const prompt = [
        `This Python code for the problem below fails one of its tests.`,
        `Problem:\n${args.problem}`,
        `Code:\n\`\`\`python\n${solution}\n\`\`\``,
        describeFailure(last, ctx),
        `First explain in a few sentences why it fails. Then give the corrected complete code, defining \`${args.entry_point}\`, in one fenced python block, with no tests or example calls.`,
      ].join('\n\n');
      const r = await ctx.ask([{ role: 'user', content: prompt }]);
      const fixed = await ctx.extractCode(r.content, args.entry_point);
      if (fixed.trim() !== '') solution = fixed;
    }
    return { result: false, solution, rounds: ctx.testFixRounds, last_result: last?.result ?? '' };
  },
});
