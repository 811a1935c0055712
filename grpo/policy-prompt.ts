// What the policy (the student meta-agent) is asked for one query: design a workflow, in the tagged format it was trained on.
import { describeOperators } from '../pipeline/workflow/operators/registry.ts';
import type { ChatMessage } from '../pipeline/gateway/types.ts';

export function policyMessages(query: string, entryPoint: string): ChatMessage[] {
  const content = [
    'Design a small multi-agent workflow that solves the coding task below. A workflow is a Python class `Workflow` whose async `__call__(self, problem, entry_point)` returns the solution code; it calls operators, each a step done by a worker model or by the test runner.',
    `## Operators\n${describeOperators()}`,
    '`operator`, `prompt_custom`, `create_llm_instance` and `CostManager` are available without import. Keep instructions as string constants in the prompt module and use them as prompt_custom.NAME. Always return a string with the code.',
    `## The task\n${query}\n\nThe solution must define \`${entryPoint}\`.`,
    'Think first, then answer with <modification>what this design does</modification>, <graph>the class Workflow</graph> and <prompt>the prompt module</prompt>.',
  ].join('\n\n');
  return [{ role: 'user', content }];
}

/** The next user turn of a refine rollout: how the last workflow did on the public tests. */
export function refineFeedback(score: number, failures: readonly string[], formatProblems: readonly string[]): ChatMessage {
  const parts =
    formatProblems.length > 0
      ? [`Your reply could not be used: ${formatProblems.join('; ')}.`, 'Answer again with the three tags, each closed.']
      : [
          `Your workflow scored ${score.toFixed(2)} on the public tests.`,
          ...(failures.length > 0 ? ['What went wrong:', ...failures] : ['It passed every public test.']),
          'Improve the workflow with one focused change and answer with the three tags again.',
        ];
  return { role: 'user', content: parts.join('\n') };
}
