// Hugging Face Inference Providers and Inference Endpoints through the official `@huggingface/inference` client.
import { InferenceClient, InferenceClientProviderApiError, InferenceClientProviderOutputError } from '@huggingface/inference';
import { parseRetryAfter } from '../retry.ts';
import { TransportError, fromStatus, rootCode } from '../transport-error.ts';
import { parseCompletion } from './parse-completion.ts';
import type { Provider, ProviderCall } from './provider.ts';
import type { RawCompletion } from '../types.ts';

export class HuggingFaceProvider implements Provider {
  private readonly client: InferenceClient;

  constructor(
    private readonly role: string,
    apiKey: string | undefined,
    private readonly apiKeyEnv: string | undefined,
    private readonly hfProvider: string | undefined,
  ) {
    this.client = new InferenceClient(apiKey);
  }

  async complete(call: ProviderCall): Promise<RawCompletion> {
    // The HF client hides response headers in its errors; a fetch wrapper keeps retry-after for the gateway.
    let retryAfterMs: number | null = null;
    const timer = AbortSignal.timeout(call.headersTimeoutMs);
    const fetchWithHeaders: typeof fetch = async (input, init) => {
      const res = await fetch(input, { ...init, signal: AbortSignal.any([call.signal, timer]) });
      retryAfterMs = parseRetryAfter((n) => res.headers.get(n));
      return res;
    };
    const { model, messages, ...params } = call.body;
    try {
      // The HF client types its arguments per task; our body is the OpenAI shape that its conversational task accepts.
      const args = {
        model: String(model),
        messages,
        ...params,
        ...(call.baseUrl !== undefined ? { endpointUrl: call.baseUrl } : this.hfProvider !== undefined ? { provider: this.hfProvider } : {}),
      } as unknown as Parameters<InferenceClient['chatCompletion']>[0];
      const resp: unknown = await this.client.chatCompletion(args, { signal: call.signal, fetch: fetchWithHeaders, retry_on_error: false });
      return parseCompletion(resp);
    } catch (e) {
      if (e instanceof TransportError) throw e;
      if (e instanceof InferenceClientProviderApiError) {
        throw fromStatus(e.httpResponse.status, e.message, retryAfterMs, this.role, this.apiKeyEnv);
      }
      if (e instanceof InferenceClientProviderOutputError) throw new TransportError('malformed-response', e.message, { retryable: true, cause: e });
      if (call.signal.aborted) throw e;
      if (timer.aborted) throw new TransportError('timeout', 'no response before the timeout', { retryable: true, cause: e });
      const code = rootCode(e);
      if (code !== undefined) throw new TransportError('endpoint-unreachable', `connection failed (${code})`, { retryable: true, down: true, cause: e });
      throw e;
    }
  }
}
