// The exchange's two scoring routes on top of scoreReplies: verl's compute_score shape and OpenRLHF's remote reward shape.
import { HttpError } from '../pipeline/http/http-io.ts';
import type { OpenRlhfScorer, Scorer } from './exchange/http-server.ts';
import { scoreReplies, type RemoteScore, type RemoteScoreDeps, type ScoreItem } from './remote-scorer.ts';
import { taskRefOf, UnknownTaskError } from './task-resolver.ts';
import { REWARD_COMPONENT_FIELDS } from './exchange/schema.ts';

async function scoreOrHttpError(items: readonly ScoreItem[], deps: RemoteScoreDeps, signal: AbortSignal): Promise<RemoteScore[]> {
  let out: RemoteScore[];
  try {
    out = await scoreReplies(items, deps, signal);
  } catch (e) {
    if (e instanceof UnknownTaskError) throw new HttpError(404, 'unknown-task', e.message);
    throw e;
  }
  // A sample the infrastructure could not judge has no reward. Sending 0 would teach the policy that its workflow
  // failed; 503 says "not judged", OpenRLHF retries it, and the verl shim retries and then raises (trainers/README.md).
  const bad = out.find((r) => r.reward === null);
  if (bad !== undefined) throw new HttpError(503, 'unscorable', `${bad.uid} could not be judged (${bad.reason ?? 'unscorable'}): no reward is given rather than a false 0`);
  return out;
}

function refOrHttpError(groundTruth: string, dataSource: string, what: string): ScoreItem['ref'] {
  const ref = taskRefOf(groundTruth, dataSource);
  if (ref === null) throw new HttpError(400, 'invalid-ground-truth', `${what} names no task: expected our prompt files' JSON {"dataset","taskId"} or "<dataset>:<task id>"`);
  return ref;
}

/**
 * verl averages every key of the dict it gets back and fails on null, so the reply holds numbers and strings only:
 * score, the five components, pass_rate and format_ok as numbers; status, reason ('' when none) and task as strings.
 */
export function verlScorer(deps: RemoteScoreDeps): Scorer {
  return async (req, signal) => {
    const ref = refOrHttpError(req.ground_truth, req.data_source, 'ground_truth');
    const [r] = await scoreOrHttpError([{ reply: req.solution_str, ref }], deps, signal);
    if (r === undefined || r.reward === null) throw new Error('scoreReplies returned no score');
    const components = Object.fromEntries(REWARD_COMPONENT_FIELDS.map((c) => [c, r.components[c]]));
    return { score: r.reward, ...components, pass_rate: r.passRate, format_ok: r.formatOk ? 1 : 0, status: r.status, reason: r.reason ?? '', task: r.uid };
  };
}

/** OpenRLHF sends prompt + response in `query` and the label (our `answer` column, the ground truth) in `labels`. */
export function openRlhfScorer(deps: RemoteScoreDeps): OpenRlhfScorer {
  return async (req, signal) => {
    const items = req.query.map((q, i): ScoreItem => {
      const prompt = req.prompts[i] ?? '';
      return { reply: q.startsWith(prompt) ? q.slice(prompt.length) : q, ref: refOrHttpError(req.labels[i] ?? '', '', `labels[${i}]`) };
    });
    const out = await scoreOrHttpError(items, deps, signal);
    const rewards = out.map((o) => o.reward as number);
    const extra_logs: Record<string, number[]> = Object.fromEntries(REWARD_COMPONENT_FIELDS.map((c) => [c, out.map((o) => o.components[c])]));
    extra_logs.pass_rate = out.map((o) => o.passRate);
    return { rewards, scores: rewards, extra_logs };
  };
}
