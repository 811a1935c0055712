// Builds token-exact training sequences from a (multi-turn) sample: ids as the server returned them, a loss mask, sampler logprobs.
// Turns that extend the previous sequence by prefix are appended; one that does not starts a new segment (trainer-contract §10.5).

export interface Turn {
  /** prompt_token_ids of this request: the whole conversation so far as the server tokenised it. */
  promptIds: number[];
  /** The sampled tokens of this turn. */
  completionIds: number[];
  /** Sampler logprob of each sampled token. */
  logprobs: number[];
}

export interface Segment {
  segmentIdx: number;
  inputIds: number[];
  lossMask: number[];
  logprobs: number[];
  /** Index of the first sampled token. */
  promptLen: number;
}

function startsWith(a: readonly number[], prefix: readonly number[]): boolean {
  if (prefix.length > a.length) return false;
  for (let i = 0; i < prefix.length; i++) if (a[i] !== prefix[i]) return false;
  return true;
}

export function buildSegments(turns: readonly Turn[]): Segment[] {
  const segments: Segment[] = [];
  let cur: Segment | null = null;
  for (const t of turns) {
    if (t.logprobs.length !== t.completionIds.length) {
      throw new Error(`a turn has ${t.completionIds.length} sampled tokens but ${t.logprobs.length} logprobs`);
    }
    if (cur !== null && startsWith(t.promptIds, cur.inputIds)) {
      // Environment tokens (feedback turn, template glue) between the last sample and this one: not trained on.
      const extra = t.promptIds.slice(cur.inputIds.length);
      cur.inputIds.push(...extra, ...t.completionIds);
      cur.lossMask.push(...extra.map(() => 0), ...t.completionIds.map(() => 1));
      cur.logprobs.push(...extra.map(() => 0), ...t.logprobs);
      continue;
    }
    cur = {
      segmentIdx: segments.length,
      inputIds: [...t.promptIds, ...t.completionIds],
      lossMask: [...t.promptIds.map(() => 0), ...t.completionIds.map(() => 1)],
      logprobs: [...t.promptIds.map(() => 0), ...t.logprobs],
      promptLen: t.promptIds.length,
    };
    segments.push(cur);
  }
  return segments;
}
