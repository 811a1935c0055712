// The teacher's prompt for one round: query, operators, the parent workflow and its score, experience and public-test failures.
import { describeOperators } from '../pipeline/workflow/operators/registry.ts';

export interface MetaPromptInput {
  query: string;
  entryPoint: string;
  parentGraph: string;
  parentPrompt: string;
  parentScore: number;
  experience: string;
  /** What went wrong on the public tests (error messages and failing public tests only: never hidden tests or references). */
  failures: string[];
}

export function buildMetaPrompt(i: MetaPromptInput): string {
  const failures = i.failures.length > 0 ? i.failures.map((f, n) => `Failure ${n + 1}:\n${f}`).join('\n\n') : 'The workflow passed every public test in every run.';
  return [
    'You design small multi-agent workflows that solve one coding task. A workflow is a Python class `Workflow` whose async `__call__(self, problem, entry_point)` returns the solution code; it calls operators, each a step done by a worker model or by the test runner.',
    `## The task\n${i.query}\n\nThe solution must define \`${i.entryPoint}\`.`,
    `## Operators\n${describeOperators()}`,
    `## The current workflow (score ${i.parentScore.toFixed(2)} of 1.00 on the public tests)\n<graph>\n${i.parentGraph.trim()}\n</graph>\n<prompt>\n${i.parentPrompt.trim()}\n</prompt>`,
    `## What happened when it ran\n${failures}`,
    `## Experience\n${i.experience}`,
    [
      '## Your job',
      'Improve the workflow for this task with one focused change (at most about five changed lines): add, remove or reorder an operator, run candidates in parallel with asyncio.gather, add a check-and-repair loop, or sharpen an instruction.',
      '`operator`, `prompt_custom`, `create_llm_instance` and `CostManager` are already available: do not import them. Other imports are limited to harmless standard modules such as asyncio.',
      'Instructions for operators live in the prompt module as string constants (NAME = """..."""), used as prompt_custom.NAME; write complete instructions without placeholders.',
      'The workflow must always return a string with the code (optionally with the cost: `return code, self.llm.cost_manager.total_cost`), never None.',
    ].join('\n'),
    '## Answer format\nAfter your reasoning, answer with exactly these three tags, each closed:\n<modification>one sentence on what you changed and why</modification>\n<graph>\nthe complete class Workflow\n</graph>\n<prompt>\nthe complete prompt module\n</prompt>',
  ].join('\n\n');
}
