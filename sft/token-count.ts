// Token counts for the length filter and stats: the student's tokenizer.json when given (read offline), else a documented estimate.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { PipelineError, errorMessage } from '../pipeline/errors.ts';
import type { SftConfig } from './config-schema.ts';
import type { Conversation } from './conversation.ts';

export interface TokenCounter {
  /** How counts are made, for stats and the summary. */
  method: string;
  count(text: string): number;
}

/** ceil(chars / charsPerToken): no file needed, roughly right for BPE tokenizers on English and Python. */
export function estimateCounter(charsPerToken: number): TokenCounter {
  return { method: `estimate: ceil(chars / ${charsPerToken})`, count: (t) => Math.ceil(t.length / charsPerToken) };
}

async function readJson(file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new PipelineError('config-invalid', `sft.tokenizer: cannot read ${what} ${file} (${errorMessage(e)})`, {
      hint: 'Point sft.tokenizer (or --tokenizer) at the tokenizer.json of the student model, e.g. a local copy of the model folder.',
    });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new PipelineError('config-invalid', `sft.tokenizer: ${file} is not JSON (${errorMessage(e)})`);
  }
}

/**
 * Loads a Hugging Face tokenizer.json with @huggingface/tokenizers (pure JS, no network). A tokenizer_config.json
 * beside it is read too when present (it holds settings such as added special tokens). Counts are of the text
 * alone, without special tokens: the chat template adds a few per message, so leave that margin in cutoff_len.
 */
export async function tokenizerCounter(file: string): Promise<TokenCounter> {
  const json = await readJson(file, 'tokenizer file');
  const cfgFile = path.join(path.dirname(file), 'tokenizer_config.json');
  const config = existsSync(cfgFile) ? await readJson(cfgFile, 'tokenizer config') : {};
  let tok: Tokenizer;
  try {
    tok = new Tokenizer(json as object, config as object);
  } catch (e) {
    throw new PipelineError('config-invalid', `sft.tokenizer: ${file} is not a tokenizer this library can load (${errorMessage(e)})`);
  }
  return { method: `tokenizer: ${path.resolve(file)}`, count: (t) => tok.encode(t, { add_special_tokens: false }).ids.length };
}

export async function loadTokenCounter(cfg: Pick<SftConfig, 'tokenizer' | 'charsPerToken'>): Promise<TokenCounter> {
  return cfg.tokenizer === undefined ? estimateCounter(cfg.charsPerToken) : tokenizerCounter(cfg.tokenizer);
}

/** All messages of a sample together (reasoning_content included): what a trainer's length limit applies to. */
export function conversationTokens(c: Conversation, counter: TokenCounter): number {
  return c.messages.reduce((n, m) => n + counter.count(m.content) + (m.reasoning_content === undefined ? 0 : counter.count(m.reasoning_content)), 0);
}
