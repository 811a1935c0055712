// The GRPO prompt set in verl's RL schema (trainer-contract.md §1, §10.2): one row per query, the grader finds the tests by id.
import type { ChatMessage } from '../gateway/types.ts';
import { int64, list, struct, utf8, type Column } from '../store/parquet.ts';

/** The RL prompt set's splits, named as the SFT export names them (train.parquet, val.parquet). */
export type RlSplit = 'train' | 'validation';

export interface RlQuery {
  queryId: string;
  dataset: string;
  taskId: string;
  entryPoint: string;
  split: RlSplit;
  /** system + user: what the policy is asked. */
  prompt: ChatMessage[];
}

/** What the reward function receives as ground_truth: where to find the task, never its tests (a string, as verl wants). */
export function groundTruth(q: Pick<RlQuery, 'dataset' | 'taskId' | 'entryPoint'>): string {
  return JSON.stringify({ dataset: q.dataset, taskId: q.taskId, entryPoint: q.entryPoint });
}

export const RL_COLUMNS: Column[] = [
  { name: 'data_source', type: utf8() },
  { name: 'prompt', type: list(struct([['role', utf8()], ['content', utf8()]])) },
  { name: 'ability', type: utf8() },
  { name: 'reward_model', type: struct([['style', utf8()], ['ground_truth', utf8()]]) },
  { name: 'extra_info', type: struct([['split', utf8()], ['index', int64()], ['prompt_uid', utf8()], ['meta_json', utf8()]]) },
  { name: 'problem', type: utf8() },
  { name: 'answer', type: utf8() },
];

/**
 * data_source `flowreasoner/<dataset>` routes verl's reward function (data.reward_fn_key); `problem` and `answer`
 * repeat the user text and ground truth for EasyR1 (prompt_key=problem) and OpenRLHF (label_key=answer).
 */
export function rlRow(q: RlQuery, index: number): Record<string, unknown> {
  const gt = groundTruth(q);
  return {
    data_source: `flowreasoner/${q.dataset}`,
    prompt: q.prompt.map((m) => ({ role: m.role, content: m.content })),
    ability: 'workflow-design',
    reward_model: { style: 'rule', ground_truth: gt },
    extra_info: {
      split: q.split,
      index: BigInt(index),
      prompt_uid: q.queryId,
      meta_json: JSON.stringify({ queryId: q.queryId, dataset: q.dataset, taskId: q.taskId, entryPoint: q.entryPoint }),
    },
    problem: q.prompt.find((m) => m.role === 'user')?.content ?? '',
    answer: gt,
  };
}
