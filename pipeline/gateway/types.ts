// The gateway's request and result shapes, shared by providers, cache, accounting and callers.
import type { Sampling } from '../config/endpoint-schema.ts';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** Where a call's tokens and cost are charged. */
export interface CallContext {
  stage?: string;
  queryId?: string;
}

export interface ChatRequest {
  role: string;
  messages: ChatMessage[];
  sampling?: Partial<Sampling>;
  /** Completions per request (OpenAI `n`). */
  n?: number;
  /** Distinguishes independent samples of the same prompt: part of the cache key and of the request seed. */
  sampleIndex?: number;
  /** Explicit request seed; derived from sampleIndex when absent. */
  seed?: number;
  capture?: { tokenIds?: boolean; logprobs?: boolean; topLogprobs?: number };
  context?: CallContext;
  signal?: AbortSignal;
  /** false bypasses the response cache for this call. */
  cache?: boolean;
}

export interface TokenLogprob {
  token: string;
  logprob: number;
}

export interface ChatChoice {
  index: number;
  content: string;
  /** Reasoning from reasoning_content, reasoning, or <think> tags, whichever the server used. */
  reasoning: string | null;
  finishReason: string;
  tokenIds?: number[];
  logprobs?: TokenLogprob[];
}

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  reasoningTokens: number;
  cachedPromptTokens: number;
}

/** What a provider returns for one HTTP request, before validation. */
export interface RawCompletion {
  model: string;
  choices: ChatChoice[];
  usage: Usage | null;
  promptTokenIds?: number[];
}

export interface ChatResult {
  role: string;
  model: string;
  choices: ChatChoice[];
  /** choices[0].content, for the common n = 1 case. */
  content: string;
  reasoning: string | null;
  usage: Usage;
  promptTokenIds?: number[];
  /** What the call is worth at the role's prices (the same whether it was answered from the cache or not). */
  cost: number;
  /** USD actually spent now: 0 on a cache hit. Budgets count this. */
  spent: number;
  cacheHit: boolean;
  latencyMs: number;
  attempts: number;
  cacheKey: string;
}

/** One line of calls.jsonl. Never holds a key or a prompt. */
export interface CallRecord {
  ts: string;
  role: string;
  model: string;
  baseUrl: string | null;
  stage: string | null;
  queryId: string | null;
  sampleIndex: number | null;
  ok: boolean;
  cacheHit: boolean;
  latencyMs: number;
  attempts: number;
  promptTokens: number;
  completionTokens: number;
  reasoningTokens: number;
  cost: number;
  /** USD actually spent (0 on a cache hit). */
  spent: number;
  finishReasons: string[];
  errorClass: string | null;
  errorMessage: string | null;
  /** Codes of the failed attempts that were retried. */
  retried: string[];
  cacheKey: string;
}
