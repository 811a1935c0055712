// Reads OpenAI-shaped completion JSON (whole or streamed chunks) into a RawCompletion, keeping reasoning, token ids and logprobs.
import { normaliseReasoning } from '../reasoning.ts';
import { TransportError } from '../transport-error.ts';
import type { ChatChoice, RawCompletion, TokenLogprob, Usage } from '../types.ts';

type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

function readLogprobs(lp: unknown): TokenLogprob[] | undefined {
  if (!isObj(lp) || !Array.isArray(lp.content)) return undefined;
  return lp.content.filter(isObj).map((t) => ({ token: String(t.token ?? ''), logprob: Number(t.logprob) }));
}

function readIds(v: unknown): number[] | undefined {
  return Array.isArray(v) && v.every((x) => typeof x === 'number') ? (v as number[]) : undefined;
}

export function readUsage(u: unknown): Usage | null {
  if (!isObj(u)) return null;
  const details = isObj(u.completion_tokens_details) ? u.completion_tokens_details : {};
  const promptDetails = isObj(u.prompt_tokens_details) ? u.prompt_tokens_details : {};
  return {
    promptTokens: Number(u.prompt_tokens ?? 0),
    completionTokens: Number(u.completion_tokens ?? 0),
    reasoningTokens: Number(details.reasoning_tokens ?? 0),
    cachedPromptTokens: Number(promptDetails.cached_tokens ?? 0),
  };
}

function malformed(what: string): TransportError {
  return new TransportError('malformed-response', `malformed completion: ${what}`, { retryable: true });
}

export function parseCompletion(resp: unknown): RawCompletion {
  if (!isObj(resp) || !Array.isArray(resp.choices)) throw malformed('no choices array');
  const choices: ChatChoice[] = resp.choices.map((c, i): ChatChoice => {
    if (!isObj(c) || !isObj(c.message)) throw malformed(`choice ${i} has no message`);
    const { content, reasoning } = normaliseReasoning(c.message);
    const choice: ChatChoice = { index: typeof c.index === 'number' ? c.index : i, content, reasoning, finishReason: String(c.finish_reason ?? 'unknown') };
    const ids = readIds(c.token_ids);
    if (ids !== undefined) choice.tokenIds = ids;
    const lps = readLogprobs(c.logprobs);
    if (lps !== undefined) choice.logprobs = lps;
    return choice;
  });
  const first = resp.choices[0];
  const promptIds = readIds(resp.prompt_token_ids) ?? (isObj(first) ? readIds(first.prompt_token_ids) : undefined);
  return {
    model: String(resp.model ?? ''),
    choices,
    usage: readUsage(resp.usage),
    ...(promptIds !== undefined ? { promptTokenIds: promptIds } : {}),
  };
}

/** Accumulates streamed chunks; `finish()` gives the same RawCompletion a non-streamed reply would. */
export class StreamAccumulator {
  private model = '';
  private usage: Usage | null = null;
  private promptIds: number[] | undefined;
  private readonly acc = new Map<number, { content: string[]; rc: string[]; r: string[]; finish: string | null; ids: number[]; lps: TokenLogprob[]; sawIds: boolean; sawLps: boolean }>();

  add(chunk: unknown): void {
    if (!isObj(chunk)) return;
    if (typeof chunk.model === 'string') this.model = chunk.model;
    const u = readUsage(chunk.usage);
    if (u !== null) this.usage = u;
    const pids = readIds(chunk.prompt_token_ids);
    if (pids !== undefined) this.promptIds = pids;
    if (!Array.isArray(chunk.choices)) return;
    for (const c of chunk.choices) {
      if (!isObj(c)) continue;
      const idx = typeof c.index === 'number' ? c.index : 0;
      let a = this.acc.get(idx);
      if (a === undefined) {
        a = { content: [], rc: [], r: [], finish: null, ids: [], lps: [], sawIds: false, sawLps: false };
        this.acc.set(idx, a);
      }
      const d = isObj(c.delta) ? c.delta : {};
      if (typeof d.content === 'string') a.content.push(d.content);
      if (typeof d.reasoning_content === 'string') a.rc.push(d.reasoning_content);
      if (typeof d.reasoning === 'string') a.r.push(d.reasoning);
      if (typeof c.finish_reason === 'string') a.finish = c.finish_reason;
      const ids = readIds(c.token_ids);
      if (ids !== undefined) {
        a.ids.push(...ids);
        a.sawIds = true;
      }
      const lps = readLogprobs(c.logprobs);
      if (lps !== undefined) {
        a.lps.push(...lps);
        a.sawLps = true;
      }
      const cp = readIds(c.prompt_token_ids);
      if (cp !== undefined) this.promptIds = cp;
    }
  }

  finish(): RawCompletion {
    if (this.acc.size === 0) throw malformed('stream ended without any choice');
    // A stream cut before its finish_reason is a broken transfer, not a short answer.
    for (const [i, a] of this.acc) if (a.finish === null) throw malformed(`stream of choice ${i} ended before its finish_reason`);
    const choices = [...this.acc.entries()]
      .sort((x, y) => x[0] - y[0])
      .map(([index, a]): ChatChoice => {
        const { content, reasoning } = normaliseReasoning({ content: a.content.join(''), reasoning_content: a.rc.join(''), reasoning: a.r.join('') });
        const choice: ChatChoice = { index, content, reasoning, finishReason: a.finish ?? 'unknown' };
        if (a.sawIds) choice.tokenIds = a.ids;
        if (a.sawLps) choice.logprobs = a.lps;
        return choice;
      });
    return { model: this.model, choices, usage: this.usage, ...(this.promptIds !== undefined ? { promptTokenIds: this.promptIds } : {}) };
  }
}
