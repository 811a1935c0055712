// Scores meta-agent replies for trainers that call us (verl's compute_score shim, OpenRLHF's remote reward): resolve the
// task, judge each reply as the in-run step does, then score each prompt's replies together with the same function.
import type { ReplyChecker } from '../pipeline/workflow/check-reply.ts';
import type { RewardConfig } from '../rewards/config-schema.ts';
import { judgeReply, type JudgeDeps } from './judge.ts';
import { scoreJudgedGroup, type ScoredGroupSample } from './reward-hooks.ts';
import type { TaskRef, TaskResolver } from './task-resolver.ts';

export interface RemoteScoreDeps extends JudgeDeps {
  checkReply: ReplyChecker;
  rewards: RewardConfig;
  resolveTask: TaskResolver;
  /** How a reply is judged; judgeReply unless a test stands in for the sandbox. */
  judge?: typeof judgeReply;
}

export interface ScoreItem {
  reply: string;
  ref: TaskRef;
}

export interface RemoteScore extends ScoredGroupSample {
  /** `<dataset>:<task id>` of the resolved task. */
  uid: string;
  status: string;
  /** Mean hidden pass rate over the executions (0 when none ran). */
  passRate: number;
}

/**
 * Scores a batch. Replies to the same task form one group, as the G samples of a prompt do in-run, so the diversity
 * component compares them with each other; a reply alone in its group gets diversity 0, as a group of one does in-run.
 * Unknown tasks throw UnknownTaskError before any reply runs. An unscorable reply keeps reward null: the HTTP layer
 * decides how to say so, never by sending 0.
 */
export async function scoreReplies(items: readonly ScoreItem[], deps: RemoteScoreDeps, signal?: AbortSignal): Promise<RemoteScore[]> {
  const queries = await Promise.all(items.map((it) => deps.resolveTask(it.ref)));
  const judged = await Promise.all(
    items.map((it, i) => {
      const q = queries[i] as (typeof queries)[number];
      return (deps.judge ?? judgeReply)(it.reply, q.task, deps, { runKey: `remote/${q.uid}/${i}`, context: { stage: 'grpo-score', queryId: q.uid }, ...(signal !== undefined ? { signal } : {}) });
    }),
  );
  const out: RemoteScore[] = new Array(items.length);
  const byUid = new Map<string, number[]>();
  queries.forEach((q, i) => byUid.set(q.uid, [...(byUid.get(q.uid) ?? []), i]));
  for (const [uid, idx] of byUid) {
    const group = idx.map((i) => judged[i] as (typeof judged)[number]);
    scoreJudgedGroup(group, deps.rewards).forEach((s, k) => {
      const i = idx[k] as number;
      const j = group[k] as (typeof group)[number];
      const rates = j.passRates;
      out[i] = { ...s, uid, status: j.status, passRate: rates.length === 0 ? 0 : rates.reduce((a, b) => a + b, 0) / rates.length };
    });
  }
  return out;
}
