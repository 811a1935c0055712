// Parsing and hashing of a chat-completions request body: what the simulator reads and how it names a request.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { PromptMessage } from './tokens.ts';

// Loose objects: real clients send many fields (tools, stop, user, ...) that the simulator just ignores.
const ContentPartSchema = z.looseObject({ type: z.string(), text: z.string().optional() });
const MessageSchema = z.looseObject({
  role: z.string().min(1),
  content: z.union([z.string(), z.array(ContentPartSchema), z.null()]).optional(),
});

export const ChatRequestSchema = z.looseObject({
  model: z.string().min(1),
  messages: z.array(MessageSchema).min(1),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
  n: z.int().min(1).max(128).nullish(),
  max_tokens: z.int().min(1).nullish(),
  max_completion_tokens: z.int().min(1).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  seed: z.int().nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.int().min(0).max(20).nullish(),
  return_token_ids: z.boolean().nullish(),
});
export type ChatRequest = z.infer<typeof ChatRequestSchema>;
type ChatMessage = z.infer<typeof MessageSchema>;

export function messageText(m: ChatMessage): string {
  const c = m.content;
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) return c.map((p) => (typeof p.text === 'string' ? p.text : '')).join('');
  return '';
}

export function promptMessages(req: ChatRequest): PromptMessage[] {
  return req.messages.map((m) => ({ role: m.role, text: messageText(m) }));
}

/** JSON with object keys sorted at every depth, so key order never makes two bodies differ. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}

export function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** Names the exact body: duplicates and fault occurrences are counted per this hash. */
export function bodyHash(body: unknown): string {
  return shortHash(canonicalJson(body));
}

/**
 * Names the sample. It leaves out stream, n, max_tokens and logprob flags on purpose: like a seeded
 * real server, a streamed reply equals the plain one, choice 0 of n equals the single reply, and a
 * max_tokens cut is a prefix of the uncut reply.
 */
export function sampleHash(req: ChatRequest): string {
  return shortHash(
    canonicalJson({
      model: req.model,
      messages: req.messages,
      temperature: req.temperature ?? null,
      top_p: req.top_p ?? null,
      seed: req.seed ?? null,
    }),
  );
}
