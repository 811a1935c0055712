// The multi-turn sample: each round on the path to the best one is a turn; the user reports the previous workflow's public results.
import type { ReasoningFormat } from './config-schema.ts';
import { assistantTurn } from './assistant-turn.ts';
import type { ChatMessage, Conversation } from './conversation.ts';
import { multiTurnInstruction, taskText } from '../pipeline/prompts/meta-agent.ts';
import { renderWorkflow } from './render-workflow.ts';
import type { Selected } from './select.ts';
import type { Split } from './split.ts';
import type { RoundInput } from './trace-input.ts';

/**
 * What the user says about a workflow: its mean public pass rate and the public-test failures distill recorded
 * for it (the same ones the teacher was shown). Hidden tests are never mentioned: the student must not learn
 * to expect them.
 */
export function publicReport(round: RoundInput): string {
  const score = `It scored ${(round.score ?? 0).toFixed(2)} of 1.00 on the public tests.`;
  const failures = round.feedback.length > 0 ? round.feedback.map((f, i) => `Failure ${i + 1}:\n${f.trim()}`).join('\n\n') : 'It passed every public test in every run.';
  return `${score}\n\n${failures}\n\nImprove the workflow with one focused change.`;
}

function startingWorkflow(seed: RoundInput): string {
  return `Starting workflow:\n<graph>\n${seed.graph.trim()}\n</graph>\n<prompt>\n${seed.prompt.trim()}\n</prompt>`;
}

/**
 * The seed round opens the conversation (task, seed workflow, its report); every later round on the path is
 * one assistant turn (its reasoning and workflow) followed by the report on it, except the last (best) round,
 * which ends the conversation. Only the path is used, so every turn revises the workflow just before it.
 */
export function multiTurnSample(s: Selected, split: Split, format: ReasoningFormat): Conversation {
  const [seed, ...steps] = s.path;
  if (seed === undefined || steps.length === 0) throw new Error('a selected trace has at least one teacher round');
  const messages: ChatMessage[] = [
    { role: 'system', content: multiTurnInstruction() },
    { role: 'user', content: `${taskText(s.trace.query, s.trace.entryPoint)}\n\n${startingWorkflow(seed.round)}\n\n${publicReport(seed.round)}` },
  ];
  steps.forEach((step, i) => {
    messages.push(assistantTurn(step.reasoning ?? '', renderWorkflow(step.round), format));
    if (i < steps.length - 1) messages.push({ role: 'user', content: publicReport(step.round) });
  });
  return {
    id: s.trace.queryId,
    queryId: s.trace.queryId,
    dataset: s.trace.dataset,
    taskId: s.trace.taskId,
    split,
    messages,
    rounds: steps.map((p) => p.round.round),
  };
}
