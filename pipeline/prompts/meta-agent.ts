// The system text of every sample: our description of the meta-agent's job, the operators it may use and the answer format.
import { describeOperators } from '../workflow/operators/registry.ts';

const FORMAT = [
  'Reason about the task first. Then answer with three tags, each one closed:',
  '<modification>one sentence on the idea behind this workflow</modification>',
  '<graph>',
  'the whole class Workflow',
  '</graph>',
  '<prompt>',
  'the whole prompt module (string constants only)',
  '</prompt>',
].join('\n');

function base(): string {
  return [
    'You are a meta-agent. Given one programming task, you design a small multi-agent workflow that solves it. The workflow is a Python class `Workflow`; its `async def __call__(self, problem, entry_point)` returns the code of the solution, produced by awaiting operators: steps carried out by a worker language model or by a runner of the public tests.',
    `Operators you can use (create them in __init__, await them in __call__):\n${describeOperators()}`,
    [
      'Rules for the code:',
      '- `operator`, `prompt_custom`, `create_llm_instance` and `CostManager` already exist; never import them. Import nothing beyond harmless standard modules such as asyncio.',
      '- Instructions for operators belong in the prompt module as string constants (NAME = """..."""), used as prompt_custom.NAME. Write each in full; placeholders are not filled in.',
      '- `__call__` always returns the code as a string, optionally with the cost (`return code, self.llm.cost_manager.total_cost`); never None.',
    ].join('\n'),
  ].join('\n\n');
}

/** System text of a single-turn sample: design the workflow in one answer. */
export function singleTurnInstruction(): string {
  return `${base()}\n\n${FORMAT}`;
}

/** System text of a multi-turn sample: the user reports public-test results and the assistant revises. */
export function multiTurnInstruction(): string {
  return `${base()}\n\nYou start from a given workflow. After each version you write, the user runs it on the task's public tests and reports the score and what failed; answer each report with one focused change.\n\n${FORMAT}`;
}

/** The user turn that states the task (single-turn samples and RL prompts). */
export function taskText(query: string, entryPoint: string): string {
  return `Task:\n${query.trim()}\n\nThe solution must define \`${entryPoint}\`.`;
}
