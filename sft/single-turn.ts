// The FlowReasoner-style sample: instruction and query in, the teacher's reasoning over all rounds plus the best workflow out.
import type { ReasoningFormat } from './config-schema.ts';
import { assistantTurn } from './assistant-turn.ts';
import type { Conversation } from './conversation.ts';
import { singleTurnInstruction, taskText } from '../pipeline/prompts/meta-agent.ts';
import { renderWorkflow } from './render-workflow.ts';
import type { Selected } from './select.ts';
import type { Split } from './split.ts';

/**
 * FlowReasoner (flowreasoner.md §1) concatenated the l rounds of (reasoning, workflow) into one reasoning R̂ and
 * ended on the final workflow Ŝ. Here R̂ is the reasoning of each round on the path from the seed to the best
 * round, in order, separated by a blank line; the intermediate workflows are not repeated (each round's
 * reasoning already argues its change, and the sample stays shorter). Rounds off that path, or invalid, are
 * left out: their reasoning argued from other parents. The answer is the best round's workflow.
 */
export function singleTurnSample(s: Selected, split: Split, format: ReasoningFormat): Conversation {
  const steps = s.path.slice(1);
  const reasoning = steps
    .map((p) => p.reasoning ?? '')
    .filter((r) => r !== '')
    .join('\n\n');
  const best = s.path[s.path.length - 1];
  if (best === undefined) throw new Error('a selected trace has a path');
  return {
    id: s.trace.queryId,
    queryId: s.trace.queryId,
    dataset: s.trace.dataset,
    taskId: s.trace.taskId,
    split,
    messages: [
      { role: 'system', content: singleTurnInstruction() },
      { role: 'user', content: taskText(s.trace.query, s.trace.entryPoint) },
      assistantTurn(reasoning, renderWorkflow(best.round), format),
    ],
    rounds: [best.round.round],
  };
}
