// OpenAI chat-completion wire shapes for a generation: the JSON body, and the SSE chunk sequence.
import type { Rng } from '../random.ts';
import type { GeneratedChoice, Generation } from './completion.ts';
import type { ReasoningFormat } from './options.ts';

export interface ReplyMeta {
  id: string;
  created: number;
  model: string;
  format: ReasoningFormat;
  systemFingerprint: string;
}

export function completionBody(gen: Generation, meta: ReplyMeta): Record<string, unknown> {
  return {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: meta.model,
    system_fingerprint: meta.systemFingerprint,
    choices: gen.choices.map((c) => ({
      index: c.index,
      message: { role: 'assistant', content: c.content, refusal: null, ...reasoningField(meta.format, c.reasoningText) },
      logprobs: c.logprobs ? { content: c.logprobs, refusal: null } : null,
      finish_reason: c.finishReason,
      ...(c.tokenIds ? { token_ids: c.tokenIds } : {}),
    })),
    usage: gen.usage,
    ...(gen.promptTokenIds ? { prompt_token_ids: gen.promptTokenIds } : {}),
  };
}

/** The reasoning channel's field name for this format; think-tags and none have no separate field. */
function reasoningField(format: ReasoningFormat, text: string): Record<string, string> {
  if (format === 'reasoning_content') return { reasoning_content: text };
  if (format === 'reasoning') return { reasoning: text };
  return {};
}

export interface StreamEvent {
  data: unknown;
  /** Tokens this event stands for, so the server can pace the stream like decoding. */
  tokens: number;
}

interface Delta {
  field: 'reasoning' | 'content';
  text: string;
  from: number;
  to: number;
}

/**
 * Role delta per choice, then deltas of 1–4 tokens interleaved across choices round by round, each
 * choice's finish chunk right after its last delta, then the usage chunk if asked.
 */
export function streamEvents(gen: Generation, meta: ReplyMeta, opts: { includeUsage: boolean }, rng: Rng): StreamEvent[] {
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    id: meta.id,
    object: 'chat.completion.chunk',
    created: meta.created,
    model: meta.model,
    system_fingerprint: meta.systemFingerprint,
    choices,
    ...extra,
  });
  const events: StreamEvent[] = [];
  gen.choices.forEach((c, i) => {
    const first = { index: c.index, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null };
    const extra = i === 0 && gen.promptTokenIds ? { prompt_token_ids: gen.promptTokenIds } : {};
    events.push({ data: chunk([first], extra), tokens: 0 });
  });
  const deltas = gen.choices.map((c) => splitDeltas(c, rng));
  const rounds = Math.max(0, ...deltas.map((d) => d.length));
  for (let r = 0; r <= rounds; r++) {
    let roundTokens = Math.max(
      0,
      ...deltas.map((d) => {
        const delta = d[r];
        return delta ? delta.to - delta.from : 0;
      }),
    );
    gen.choices.forEach((c, i) => {
      const d = deltas[i]?.[r];
      if (d) {
        const field = d.field === 'content' ? 'content' : meta.format === 'reasoning' ? 'reasoning' : 'reasoning_content';
        events.push({
          data: chunk([
            {
              index: c.index,
              delta: { [field]: d.text },
              logprobs: c.logprobs ? { content: c.logprobs.slice(d.from, d.to), refusal: null } : null,
              finish_reason: null,
              ...(c.tokenIds ? { token_ids: c.tokenIds.slice(d.from, d.to) } : {}),
            },
          ]),
          tokens: roundTokens,
        });
        // Choices decode in parallel: a round costs its longest delta once, not once per choice.
        roundTokens = 0;
      } else if (r === (deltas[i]?.length ?? 0)) {
        events.push({ data: chunk([{ index: c.index, delta: {}, logprobs: null, finish_reason: c.finishReason }]), tokens: 0 });
      }
    });
  }
  if (opts.includeUsage) events.push({ data: chunk([], { usage: gen.usage }), tokens: 0 });
  return events;
}

/** Consecutive tokens in groups of 1–4; a group never spans the reasoning/content boundary. */
function splitDeltas(choice: GeneratedChoice, rng: Rng): Delta[] {
  const out: Delta[] = [];
  let i = 0;
  while (i < choice.tokens.length) {
    const field = choice.tokens[i]?.field ?? 'content';
    const size = 1 + rng.int(4);
    let j = i;
    let text = '';
    while (j < choice.tokens.length && j - i < size && choice.tokens[j]?.field === field) text += choice.tokens[j++]?.piece ?? '';
    out.push({ field, text, from: i, to: j });
    i = j;
  }
  return out;
}
