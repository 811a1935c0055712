// One GRPO step: B prompts × G samples, pipelined (each sample is executed as soon as it is sampled), scored, filtered, advantaged.
import { setMaxListeners } from 'node:events';
import pLimit from 'p-limit';
import { isPipelineError } from '../pipeline/errors.ts';
import { hash32 } from '../pipeline/random.ts';
import type { Task } from '../datasets/task.ts';
import { promptIndices } from './prompt-cursor.ts';
import { runSample, type SampleDeps, type SampleOutcome, type SampleSpec } from './sample.ts';
import { buildSegments } from './token-sequence.ts';
import type { RewardComponent } from '../rewards/combine.ts';

export interface StepQuery {
  uid: string;
  dataSource: string;
  task: Task;
}

export interface SampleReward {
  reward: number | null;
  components: Record<RewardComponent, number>;
}

export interface StepSettings {
  batchSize: number;
  groupSize: number;
  mode: 'single' | 'refine';
  refineRounds: number;
  hiddenRuns: number;
  sampleConcurrency: number;
  sampleDeadlineS: number;
  /** DAPO: drop groups whose rewards are all equal and sample more prompts to fill the batch. */
  dropAllEqual: boolean;
  maxRefills: number;
}

export interface StepHooks {
  scoreGroup(outcomes: readonly SampleOutcome[]): SampleReward[];
  keepGroup(rewards: ReadonlyArray<number | null>): boolean;
  advantages(groups: ReadonlyArray<ReadonlyArray<number | null>>): number[][];
}

export interface RolloutRowDraft {
  group_id: string;
  group_size: number;
  sample_idx: number;
  segment_idx: number;
  prompt_uid: string;
  data_source: string;
  input_ids: number[];
  loss_mask: number[];
  logprobs: number[];
  prompt_len: number;
  reward: number | null;
  reward_components: Record<RewardComponent, number>;
  advantage: number;
  policy_version_start: number;
  policy_version_end: number;
  served_model: string;
  finish_reason: string;
  truncated: boolean;
  num_turns: number;
  messages_json: string;
  tools_json: string | null;
  sampling_json: string;
  metrics_json: string;
}

export interface StepResult {
  rows: RolloutRowDraft[];
  groups: number;
  samples: number;
  cursorEnd: number;
  dropped: { all_equal_groups: number; unscorable_samples: number };
  outcomes: SampleOutcome[];
  rewards: number[];
  components: Record<string, number[]>;
  timings: { wallMs: number; samplingMs: number; executionMs: number };
}

export async function runStep(step: number, cursorStart: number, queries: readonly StepQuery[], settings: StepSettings, deps: SampleDeps, hooks: StepHooks): Promise<StepResult> {
  const t0 = performance.now();
  const limit = pLimit(settings.sampleConcurrency);
  let cursor = cursorStart;
  const kept: Array<{ query: StepQuery; groupId: string; outcomes: SampleOutcome[]; scored: SampleReward[] }> = [];
  const allOutcomes: SampleOutcome[] = [];
  let droppedEqual = 0;
  for (let refill = 0; kept.length < settings.batchSize && refill <= settings.maxRefills; refill++) {
    const need = settings.batchSize - kept.length;
    const picks = promptIndices(queries.length, deps.seed, cursor, need);
    cursor += need;
    // A deadline for this round of sampling: late samples are cut and recorded as timeouts, not waited for.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new Error('sample deadline')), settings.sampleDeadlineS * 1000);
    const signal = AbortSignal.any([deadline.signal, deps.signal]);
    // Every call of every sample of the step listens on it.
    setMaxListeners(0, signal);
    const groups = picks.map(({ index, epoch }, gi) => {
      const query = queries[index] as StepQuery;
      const groupId = `s${step}-${hash32('group', deps.seed, step, refill, gi, query.uid).toString(16)}`;
      const specs: SampleSpec[] = Array.from({ length: settings.groupSize }, (_, sampleIdx) => ({
        step, groupId, sampleIdx, task: query.task, promptUid: query.uid, mode: settings.mode, refineRounds: settings.refineRounds, hiddenRuns: settings.hiddenRuns,
      }));
      void epoch;
      return { query, groupId, promise: Promise.all(specs.map((spec) => limit(() => sampleOrTimeout(spec, { ...deps, signal })))) };
    });
    const settled = await Promise.all(groups.map(async (g) => ({ ...g, outcomes: await g.promise })));
    clearTimeout(timer);
    for (const g of settled) {
      allOutcomes.push(...g.outcomes);
      const scored = hooks.scoreGroup(g.outcomes);
      if (settings.dropAllEqual && !hooks.keepGroup(scored.map((s) => s.reward))) {
        droppedEqual++;
        continue;
      }
      if (kept.length < settings.batchSize) kept.push({ query: g.query, groupId: g.groupId, outcomes: g.outcomes, scored });
    }
  }
  const adv = hooks.advantages(kept.map((g) => g.scored.map((s) => s.reward)));
  const rows: RolloutRowDraft[] = [];
  let unscorable = 0;
  const rewards: number[] = [];
  const components: Record<string, number[]> = {};
  kept.forEach((g, gi) => {
    g.outcomes.forEach((o, si) => {
      const s = g.scored[si] as SampleReward;
      if (s.reward === null) unscorable++;
      else rewards.push(s.reward);
      for (const [k, v] of Object.entries(s.components)) (components[k] ??= []).push(v);
      const segments = buildSegments(o.turns);
      const segs = segments.length > 0 ? segments : [{ segmentIdx: 0, inputIds: [], lossMask: [], logprobs: [], promptLen: 0 }];
      for (const seg of segs) {
        rows.push({
          group_id: g.groupId,
          group_size: settings.groupSize,
          sample_idx: si,
          segment_idx: seg.segmentIdx,
          prompt_uid: g.query.uid,
          data_source: g.query.dataSource,
          input_ids: seg.inputIds,
          loss_mask: seg.lossMask,
          logprobs: seg.logprobs,
          prompt_len: seg.promptLen,
          reward: s.reward,
          reward_components: s.components,
          advantage: adv[gi]?.[si] ?? 0,
          policy_version_start: o.policyVersionStart,
          policy_version_end: o.policyVersionEnd,
          served_model: o.servedModel,
          finish_reason: o.finishReason,
          truncated: o.truncated,
          num_turns: o.turns.length,
          messages_json: JSON.stringify(o.messages),
          tools_json: null,
          sampling_json: JSON.stringify({ mode: settings.mode, refineRounds: settings.refineRounds }),
          metrics_json: JSON.stringify({ status: o.status, formatFailures: o.formatFailures, metrics: o.metrics, passRates: o.passRates, totals: o.totals, timings: o.timings, ...(o.error !== undefined ? { error: o.error } : {}) }),
        });
      }
    });
  });
  return {
    rows,
    groups: kept.length,
    samples: kept.length * settings.groupSize,
    cursorEnd: cursor,
    dropped: { all_equal_groups: droppedEqual, unscorable_samples: unscorable },
    outcomes: allOutcomes,
    rewards,
    components,
    timings: {
      wallMs: performance.now() - t0,
      samplingMs: allOutcomes.reduce((s, o) => s + o.timings.samplingMs, 0),
      executionMs: allOutcomes.reduce((s, o) => s + o.timings.executionMs, 0),
    },
  };
}

/** A sample cut by the deadline is a recorded timeout with what it had, never a hang and never a wrong answer. */
async function sampleOrTimeout(spec: SampleSpec, deps: SampleDeps): Promise<SampleOutcome> {
  const version = deps.policyVersion();
  try {
    return await runSample(spec, deps);
  } catch (e) {
    if (!isPipelineError(e, 'aborted') && !(e instanceof Error && /deadline|abort/i.test(e.message))) throw e;
    return {
      spec, status: 'timeout', turns: [], messages: [], finishReason: 'abort', truncated: false, formatFailures: [], metrics: null, passRates: [], hiddenRuns: [],
      totals: { workerTokens: 0, costUsd: 0, wallS: 0 }, workflow: null, policyVersionStart: version, policyVersionEnd: deps.policyVersion(), servedModel: deps.servedModel() ?? '',
      timings: { samplingMs: 0, executionMs: 0 }, error: 'sample deadline reached',
    };
  }
}
