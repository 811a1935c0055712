// A fake but deterministic tokenizer, so usage, token ids and truncation behave like a real server's.
import { hash32 } from '../random.ts';

/** Roughly a Qwen2 vocabulary, so ids look plausible to code that range-checks them. */
export const VOCAB_SIZE = 151_000;

/**
 * Pieces are a word with its leading whitespace, one punctuation mark with its leading whitespace,
 * or trailing whitespace. Every character lands in exactly one piece, so joining pieces gives the text
 * back and a cut at a piece boundary is a real prefix of the reply.
 */
const PIECE = /\s*[\p{L}\p{N}_]+|\s*[^\s\p{L}\p{N}_]|\s+/gu;

export function tokenize(text: string): string[] {
  return text.match(PIECE) ?? [];
}

export function countTokens(text: string): number {
  return tokenize(text).length;
}

// hash32 is a SHA-256; prompts repeat the same pieces constantly, so remember them (bounded).
const idCache = new Map<string, number>();
const ID_CACHE_LIMIT = 200_000;

export function tokenId(piece: string): number {
  let id = idCache.get(piece);
  if (id === undefined) {
    id = hash32('tok', piece) % VOCAB_SIZE;
    if (idCache.size >= ID_CACHE_LIMIT) idCache.clear();
    idCache.set(piece, id);
  }
  return id;
}

export function tokenBytes(piece: string): number[] {
  return [...Buffer.from(piece, 'utf8')];
}

export interface PromptMessage {
  role: string;
  text: string;
}

/**
 * A ChatML-like template: `<|im_start|>`, role, newline, content, `<|im_end|>`. That is where the
 * "+4 tokens per message" of the usage count comes from, and it keeps prompt_token_ids the same length.
 */
export function promptTokenIds(messages: readonly PromptMessage[]): number[] {
  const ids: number[] = [];
  for (const m of messages) {
    ids.push(tokenId('<|im_start|>'), tokenId(m.role), tokenId('\n'));
    for (const piece of tokenize(m.text)) ids.push(tokenId(piece));
    ids.push(tokenId('<|im_end|>'));
  }
  return ids;
}

export function promptTokenCount(messages: readonly PromptMessage[]): number {
  let n = 0;
  for (const m of messages) n += countTokens(m.text) + 4;
  return n;
}
