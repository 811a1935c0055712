// OpenAI-compatible endpoints (OpenAI, DeepSeek, vLLM, SGLang, Ollama, llama.cpp) through the official `openai` client.
import OpenAI from 'openai';
import { parseRetryAfter } from '../retry.ts';
import { TransportError, fromStatus, rootCode } from '../transport-error.ts';
import { StreamAccumulator, parseCompletion } from './parse-completion.ts';
import type { Provider, ProviderCall } from './provider.ts';
import type { RawCompletion } from '../types.ts';

export class OpenAIProvider implements Provider {
  private readonly clients = new Map<string, OpenAI>();

  constructor(
    private readonly role: string,
    private readonly apiKey: string | undefined,
    private readonly apiKeyEnv: string | undefined,
    private readonly headers: Record<string, string> | undefined,
  ) {}

  private client(baseUrl: string, headersTimeoutMs: number): OpenAI {
    const key = `${baseUrl}|${headersTimeoutMs}`;
    let c = this.clients.get(key);
    if (c === undefined) {
      c = new OpenAI({
        baseURL: baseUrl,
        // Local servers (vLLM, the simulator) accept any key; the client insists on one.
        apiKey: this.apiKey ?? 'no-key',
        maxRetries: 0, // the gateway retries, with failover and accounting
        timeout: headersTimeoutMs,
        ...(this.headers !== undefined ? { defaultHeaders: this.headers } : {}),
      });
      this.clients.set(key, c);
    }
    return c;
  }

  async complete(call: ProviderCall): Promise<RawCompletion> {
    if (call.baseUrl === undefined) throw new TransportError('bad-request', 'provider openai needs a baseUrl', { retryable: false });
    const client = this.client(call.baseUrl, call.headersTimeoutMs);
    try {
      if (!call.stream) {
        // The body is built from validated config; the SDK's param types cannot express provider extras such as return_token_ids.
        const resp: unknown = await client.chat.completions.create(call.body as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming, { signal: call.signal });
        return parseCompletion(resp);
      }
      const stream = await client.chat.completions.create(
        { ...(call.body as unknown as OpenAI.ChatCompletionCreateParamsStreaming), stream: true, stream_options: { include_usage: true } },
        { signal: call.signal },
      );
      const acc = new StreamAccumulator();
      for await (const chunk of stream) acc.add(chunk);
      return acc.finish();
    } catch (e) {
      throw this.classify(e, call.signal);
    }
  }

  private classify(e: unknown, signal: AbortSignal): unknown {
    if (e instanceof TransportError) return e;
    if (e instanceof OpenAI.APIError && typeof e.status === 'number') {
      const headers = e.headers;
      const ra = parseRetryAfter((n) => headers?.get(n) ?? null);
      return fromStatus(e.status, e.message, ra, this.role, this.apiKeyEnv);
    }
    if (signal.aborted || e instanceof OpenAI.APIUserAbortError) return e; // the caller decides: timeout or cancellation
    if (e instanceof OpenAI.APIConnectionTimeoutError) {
      return new TransportError('timeout', 'no response headers before the timeout', { retryable: true, cause: e });
    }
    const code = rootCode(e);
    if (e instanceof OpenAI.APIConnectionError || code !== undefined) {
      return new TransportError('endpoint-unreachable', `connection failed${code !== undefined ? ` (${code})` : ''}: ${(e as Error).message}`, {
        retryable: true,
        down: true,
        cause: e,
      });
    }
    if (e instanceof SyntaxError) return new TransportError('malformed-response', `reply is not JSON: ${e.message}`, { retryable: true, cause: e });
    return e;
  }
}
