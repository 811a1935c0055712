// Group integrity of one step (trainer-contract.md §10.5): exactly G samples per group, whole groups, segments that agree.
import { ExchangeError, type ExchangeReason } from './errors.ts';

/** The columns this check needs; both producer rows and rows read back from parquet have them. */
export interface GroupedRowFields {
  group_id: string;
  group_size: number;
  sample_idx: number;
  segment_idx: number;
  prompt_uid: string;
  data_source: string;
  reward: number | null;
  advantage: number;
}

export interface CheckedGroup<R> {
  group_id: string;
  group_size: number;
  prompt_uid: string;
  data_source: string;
  /** Sorted by sample_idx, then segment_idx. */
  rows: R[];
}

export interface CheckedGroups<R> {
  /** In order of each group's first row. */
  groups: Array<CheckedGroup<R>>;
  groupSize: number;
  numSamples: number;
}

/**
 * Groups rows and enforces the rules every trainer relies on: one G for the step (TRL and Atropos batch whole groups of
 * one size), sample_idx exactly 0..G−1, segments 0..k−1 per sample sharing the sample's reward and advantage.
 * `reason` says whose fault a violation is: the producer's rows, or a step on disk that disagrees with its manifest.
 */
export function checkGroups<R extends GroupedRowFields>(rows: readonly R[], reason: ExchangeReason): CheckedGroups<R> {
  const fail = (msg: string): never => {
    throw new ExchangeError(reason, msg);
  };
  const byGroup = new Map<string, R[]>();
  for (const r of rows) {
    const g = byGroup.get(r.group_id);
    if (g === undefined) byGroup.set(r.group_id, [r]);
    else g.push(r);
  }
  let groupSize: number | null = null;
  let numSamples = 0;
  const groups: Array<CheckedGroup<R>> = [];
  for (const [groupId, members] of byGroup) {
    const first = members[0] as R;
    for (const r of members) {
      if (r.group_size !== first.group_size || r.prompt_uid !== first.prompt_uid || r.data_source !== first.data_source) {
        fail(`group ${groupId}: rows disagree on group_size, prompt_uid or data_source`);
      }
    }
    groupSize ??= first.group_size;
    if (first.group_size !== groupSize) fail(`group ${groupId} has group_size ${first.group_size}, but the step's groups have ${groupSize}`);
    const sorted = [...members].sort((a, b) => a.sample_idx - b.sample_idx || a.segment_idx - b.segment_idx);
    const bySample = new Map<number, R[]>();
    for (const r of sorted) {
      const s = bySample.get(r.sample_idx);
      if (s === undefined) bySample.set(r.sample_idx, [r]);
      else s.push(r);
    }
    if (bySample.size !== groupSize) fail(`group ${groupId} has ${bySample.size} samples, expected exactly G = ${groupSize}`);
    for (let i = 0; i < groupSize; i++) {
      const segs = bySample.get(i);
      if (segs === undefined) return fail(`group ${groupId} has no sample_idx ${i}`);
      const head = segs[0] as R;
      segs.forEach((seg, k) => {
        if (seg.segment_idx !== k) fail(`group ${groupId} sample ${i}: segment_idx ${seg.segment_idx} where ${k} was expected (segments run 0..k−1, once each)`);
        if (seg.reward !== head.reward || seg.advantage !== head.advantage) fail(`group ${groupId} sample ${i}: segments disagree on reward or advantage (segments share them)`);
      });
    }
    numSamples += groupSize;
    groups.push({ group_id: groupId, group_size: groupSize, prompt_uid: first.prompt_uid, data_source: first.data_source, rows: sorted });
  }
  return { groups, groupSize: groupSize ?? 0, numSamples };
}
