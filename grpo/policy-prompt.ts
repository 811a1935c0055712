// What the policy (the student meta-agent) is asked for one query: the system and user messages SFT trained it on and the
// RL prompt Parquet holds (pipeline/prompts/meta-agent.ts), byte for byte, so sampling sees the prompt training saw.
import { singleTurnInstruction, taskText } from '../pipeline/prompts/meta-agent.ts';
import type { ChatMessage } from '../pipeline/gateway/types.ts';

export function policyMessages(query: string, entryPoint: string): ChatMessage[] {
  return [
    { role: 'system', content: singleTurnInstruction() },
    { role: 'user', content: taskText(query, entryPoint) },
  ];
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
