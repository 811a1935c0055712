// What every provider adapter implements: send one OpenAI-shaped chat request to one base URL, return a RawCompletion.
import type { RawCompletion } from '../types.ts';

export interface ProviderCall {
  baseUrl: string | undefined;
  /** OpenAI chat-completions request body, `stream` excluded. */
  body: Record<string, unknown>;
  stream: boolean;
  signal: AbortSignal;
  /** Time allowed until the response headers arrive. */
  headersTimeoutMs: number;
}

export interface Provider {
  complete(call: ProviderCall): Promise<RawCompletion>;
}
