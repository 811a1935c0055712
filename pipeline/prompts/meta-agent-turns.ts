// The conversation a meta-agent is asked to work in, outside SFT's multi-turn samples: the opening turns (the RL prompt
// SFT trained on, byte for byte) and each later user turn reporting how the last workflow did on the public tests.
// grpo samples the policy with it (refine mode) and eval runs any meta-agent endpoint with it, so both ask the same.
import { singleTurnInstruction, taskText } from './meta-agent.ts';
import type { ChatMessage } from '../gateway/types.ts';
import type { ScoredRun } from '../workflow/score-workflow.ts';

export function metaAgentMessages(query: string, entryPoint: string): ChatMessage[] {
  return [
    { role: 'system', content: singleTurnInstruction() },
    { role: 'user', content: taskText(query, entryPoint) },
  ];
}

/** The next user turn of a refine conversation: how the last workflow did on the public tests, or why the reply was unusable. */
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

/** What went wrong in a workflow's public runs, at most three distinct lines (public tests only, never hidden ones). */
export function publicFailures(runs: readonly ScoredRun[]): string[] {
  const out = new Set<string>();
  for (const r of runs) {
    if (r.run.status !== 'ok') out.add(`The workflow failed (${r.run.status}): ${r.run.error?.message ?? ''}`);
    else if (r.exec !== null && !r.exec.passed) out.add(`Public tests: ${r.exec.result}${r.exec.firstFailure !== undefined ? ` (${r.exec.firstFailure.name}: ${r.exec.firstFailure.error})` : ''}`);
  }
  return [...out].slice(0, 3);
}
