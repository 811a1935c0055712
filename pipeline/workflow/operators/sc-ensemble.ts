// ScEnsemble: shows the worker the candidate solutions under letters and returns the one it judges most self-consistent.
import { z } from 'zod';
import { defineOperator } from './operator-spec.ts';

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** Reads the chosen letter from replies as models write them: a tag, "Answer: B", "**C**", "B." or a lone letter. */
export function readLetter(reply: string, count: number): number | null {
  const valid = LETTERS.slice(0, count);
  const tagged = /<solution_letter>\s*\**\s*([A-Za-z])/i.exec(reply);
  const patterns = [
    tagged?.[1],
    /(?:answer|choice|choose|pick|select(?:ed)?|solution)\s*(?:is|:)?\s*\**\(?([A-Z])\)?\**(?![a-z])/i.exec(reply)?.[1],
    /^\s*\**\(?([A-Z])\)?\**[.)]?\s*$/m.exec(reply)?.[1],
  ];
  for (const p of patterns) {
    if (p === undefined) continue;
    const i = valid.indexOf(p.toUpperCase());
    if (i !== -1) return i;
  }
  return null;
}

export const scEnsemble = defineOperator({
  name: 'ScEnsemble',
  attribute: 'sc_ensemble',
  description: 'Given several candidate solutions, asks the worker model which one agrees most with the others (self-consistency) and returns that candidate unchanged.',
  interface: "sc_ensemble(solutions: List[str], problem: str) -> {'response': str}",
  params: ['solutions', 'problem'],
  args: z.object({ solutions: z.array(z.string()).min(1).max(26), problem: z.string() }),
  async run(args, ctx) {
    if (args.solutions.length === 1) return { response: args.solutions[0] as string };
    const listed = args.solutions.map((s, i) => `${LETTERS[i]}:\n${s}`).join('\n\n');
    const prompt = [
      'Several candidate solutions to the same problem follow, each under a letter.',
      `Problem:\n${args.problem}`,
      listed,
      'Compare what each candidate does and pick the one whose behaviour most of the others share.',
      'Think briefly inside <thought></thought>, then give only the letter inside <solution_letter></solution_letter>.',
    ].join('\n\n');
    const r = await ctx.ask([{ role: 'user', content: prompt }]);
    const i = readLetter(r.content, args.solutions.length);
    // An unreadable choice falls back to the first candidate rather than failing the whole run (recorded in the trace).
    return { response: args.solutions[i ?? 0] as string, chosen: i === null ? null : LETTERS[i], unreadable: i === null };
  },
});
