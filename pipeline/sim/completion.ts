// Turns a request into generated choices: role draft, reasoning channel, tokens, truncation, usage.
import { Rng } from '../random.ts';
import type { FaultKind } from './faults.ts';
import { logprobEntries, type LogprobEntry } from './logprobs.ts';
import type { ResolvedModel } from './models.ts';
import type { ReasoningFormat } from './options.ts';
import type { ChatRequest } from './request.ts';
import { metaAgentDraft } from './roles/meta-agent.ts';
import type { Draft } from './roles/types.ts';
import { workerDraft } from './roles/worker.ts';
import type { TaskIndex } from './task-index.ts';
import { promptTokenCount, promptTokenIds, tokenId, tokenize, type PromptMessage } from './tokens.ts';

export interface GeneratedToken {
  piece: string;
  /** Which message field the text lands in. */
  field: 'reasoning' | 'content';
  /** Counted in reasoning_tokens; true inside `<think>…</think>` too, although that text sits in content. */
  reasoning: boolean;
}

export interface GeneratedChoice {
  index: number;
  tokens: GeneratedToken[];
  finishReason: 'stop' | 'length';
  /** The reasoning channel's text, for the formats that have one. */
  reasoningText: string;
  content: string;
  logprobs: LogprobEntry[] | undefined;
  tokenIds: number[] | undefined;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  completion_tokens_details: { reasoning_tokens: number };
}

export interface Generation {
  choices: GeneratedChoice[];
  usage: Usage;
  promptTokenIds: number[] | undefined;
}

export interface GenerationInput {
  req: ChatRequest;
  messages: readonly PromptMessage[];
  model: ResolvedModel;
  seed: number;
  sampleHash: string;
  fault: FaultKind | undefined;
  tasks: TaskIndex;
  accuracy: number;
}

export function generate(input: GenerationInput): Generation {
  const { req, seed, sampleHash } = input;
  const n = req.n ?? 1;
  const maxTokens = req.max_completion_tokens ?? req.max_tokens ?? Infinity;
  const choices: GeneratedChoice[] = [];
  const drafted = new Set<string>();
  for (let index = 0; index < n; index++) {
    const draft = distinctDraft(input, index, drafted);
    let tokens = render(draft, input.model.reasoningFormat);
    let finishReason: GeneratedChoice['finishReason'] = 'stop';
    if (input.fault === 'truncate' && tokens.length > 0) {
      // Cut somewhere in the middle, as a dropped connection or an undersized budget would.
      const keep = Math.floor(tokens.length * (0.3 + 0.4 * new Rng('truncate', seed, sampleHash, index).next()));
      tokens = tokens.slice(0, Math.min(keep, tokens.length - 1));
      finishReason = 'length';
    }
    if (tokens.length > maxTokens) {
      tokens = tokens.slice(0, maxTokens);
      finishReason = 'length';
    }
    const pieces = tokens.map((t) => t.piece);
    choices.push({
      index,
      tokens,
      finishReason,
      reasoningText: join(tokens, 'reasoning'),
      content: join(tokens, 'content'),
      logprobs: req.logprobs ? logprobEntries(pieces, req.top_logprobs ?? 0, new Rng('logprobs', seed, sampleHash, index)) : undefined,
      tokenIds: req.return_token_ids ? pieces.map(tokenId) : undefined,
    });
  }
  const completion = choices.reduce((sum, c) => sum + c.tokens.length, 0);
  const reasoning = choices.reduce((sum, c) => sum + c.tokens.filter((t) => t.reasoning).length, 0);
  const prompt = promptTokenCount(input.messages);
  return {
    choices,
    usage: {
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: prompt + completion,
      completion_tokens_details: { reasoning_tokens: reasoning },
    },
    promptTokenIds: req.return_token_ids ? promptTokenIds(input.messages) : undefined,
  };
}

/** Redraws a fixed number of times at most; the library is small, so n past its size must repeat. */
const MAX_REDRAWS = 16;

/**
 * Meta-agent choices are GRPO rollouts of one query, so they are made to differ where the library allows.
 * Worker choices are left alone: redrawing a repeated correct answer would skew the worker's accuracy.
 */
function distinctDraft(input: GenerationInput, index: number, drafted: Set<string>): Draft {
  const { seed, sampleHash } = input;
  let draft = draftFor(input, new Rng('sample', seed, sampleHash, index));
  if (input.model.role !== 'meta-agent') return draft;
  for (let attempt = 1; drafted.has(key(draft)) && attempt <= MAX_REDRAWS; attempt++) {
    draft = draftFor(input, new Rng('sample', seed, sampleHash, index, attempt));
  }
  drafted.add(key(draft));
  return draft;
}

function key(draft: Draft): string {
  return `${draft.reasoning}\u0000${draft.content}`;
}

function draftFor(input: GenerationInput, rng: Rng): Draft {
  if (input.fault === 'empty') return { reasoning: '', content: '' };
  const roleInput = { messages: input.messages, tasks: input.tasks, accuracy: input.accuracy, rng };
  if (input.model.role === 'meta-agent') return metaAgentDraft(roleInput, { malformed: input.fault === 'malformed-workflow' });
  return workerDraft(roleInput);
}

/**
 * Lays the draft out as the generated token stream, reasoning first. With think-tags the reasoning is
 * part of the content, so a max_tokens cut can land inside `<think>` as it does with R1 distills.
 */
export function render(draft: Draft, format: ReasoningFormat): GeneratedToken[] {
  const content = (piece: string): GeneratedToken => ({ piece, field: 'content', reasoning: false });
  if (format === 'none' || draft.reasoning === '') return tokenize(draft.content).map(content);
  if (format === 'think-tags') {
    const think = `<think>\n${draft.reasoning}\n</think>`;
    const out: GeneratedToken[] = [];
    let offset = 0;
    for (const piece of tokenize(`${think}\n\n${draft.content}`)) {
      out.push({ piece, field: 'content', reasoning: offset < think.length });
      offset += piece.length;
    }
    return out;
  }
  return [
    ...tokenize(draft.reasoning).map((piece): GeneratedToken => ({ piece, field: 'reasoning', reasoning: true })),
    ...tokenize(draft.content).map(content),
  ];
}

function join(tokens: readonly GeneratedToken[], field: GeneratedToken['field']): string {
  let out = '';
  for (const t of tokens) if (t.field === field) out += t.piece;
  return out;
}
