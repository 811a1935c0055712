// One role's connection: concurrency cap, rate limits, base-URL balancing, per-attempt deadline and the retry loop.
import pLimit, { type LimitFunction } from 'p-limit';
import { PipelineError, isPipelineError } from '../errors.ts';
import { Rng } from '../random.ts';
import { baseUrlsOf, type Endpoint } from '../config/endpoint-schema.ts';
import { BaseUrlPool } from './balancer.ts';
import { WindowLimiter } from './rate-limit.ts';
import { backoffDelay, sleep } from './retry.ts';
import { assertUsableCompletion } from './usable-completion.ts';
import { TransportError } from './transport-error.ts';
import type { Provider } from './providers/provider.ts';
import type { RawCompletion } from './types.ts';

export interface Attempted {
  raw: RawCompletion;
  attempts: number;
  retried: string[];
  baseUrl: string | null;
}

/** Longest server-requested wait we honour before retrying anyway. */
const MAX_RETRY_AFTER_MS = 300_000;

export class RoleClient {
  readonly role: string;
  readonly endpoint: Endpoint;
  private readonly limit: LimitFunction;
  private readonly pool: BaseUrlPool | null;
  private readonly rate: WindowLimiter;
  private readonly provider: Provider;
  private readonly rng: Rng;
  private inFlight = 0;
  maxInFlight = 0;

  constructor(role: string, endpoint: Endpoint, provider: Provider, urls: string[], seed: number) {
    this.role = role;
    this.endpoint = endpoint;
    this.provider = provider;
    this.limit = pLimit(endpoint.limits.concurrency);
    this.pool = urls.length > 0 ? new BaseUrlPool(urls, endpoint.limits.failoverCooldownS * 1000) : null;
    const rl: { requestsPerMinute?: number; tokensPerMinute?: number } = {};
    if (endpoint.limits.requestsPerMinute !== undefined) rl.requestsPerMinute = endpoint.limits.requestsPerMinute;
    if (endpoint.limits.tokensPerMinute !== undefined) rl.tokensPerMinute = endpoint.limits.tokensPerMinute;
    this.rate = new WindowLimiter(rl);
    this.rng = new Rng('retry-jitter', role, seed);
  }

  get urls(): string[] {
    return this.pool?.snapshot().map((t) => t.url) ?? baseUrlsOf(this.endpoint);
  }

  poolSnapshot(): ReturnType<BaseUrlPool['snapshot']> {
    return this.pool?.snapshot() ?? [];
  }

  private async attemptOnce(body: Record<string, unknown>, signal: AbortSignal | undefined): Promise<{ raw: RawCompletion; url: string | null }> {
    return this.limit(async () => {
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      const target = this.pool?.acquire();
      const timeoutMs = this.endpoint.limits.timeoutS * 1000;
      const deadline = AbortSignal.timeout(timeoutMs);
      const sig = signal !== undefined ? AbortSignal.any([signal, deadline]) : deadline;
      try {
        const raw = await this.provider.complete({ baseUrl: target?.url, body, stream: this.endpoint.stream, signal: sig, headersTimeoutMs: timeoutMs });
        target?.release('ok');
        return { raw, url: target?.url ?? null };
      } catch (e) {
        target?.release(e instanceof TransportError && e.down ? 'down' : 'error');
        if (signal?.aborted) throw new PipelineError('aborted', 'call cancelled', { cause: e });
        if (deadline.aborted) {
          throw new TransportError('timeout', `no complete reply within limits.timeoutS=${this.endpoint.limits.timeoutS}s`, { retryable: true, cause: e });
        }
        throw e;
      } finally {
        this.inFlight--;
      }
    });
  }

  /** Sends one request with retries; transport failures and bad replies have separate retry allowances. */
  async call(body: Record<string, unknown>, estimatedTokens: number, signal?: AbortSignal): Promise<Attempted> {
    const limits = this.endpoint.limits;
    const retried: string[] = [];
    let transportRetries = 0;
    let replyRetries = 0;
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw new PipelineError('aborted', 'call cancelled');
      const settle = await this.rate.acquire(estimatedTokens, signal).catch((e: unknown) => {
        throw new PipelineError('aborted', 'call cancelled while waiting for the rate limit', { cause: e });
      });
      try {
        const { raw, url } = await this.attemptOnce(body, signal);
        settle(raw.usage !== null ? raw.usage.promptTokens + raw.usage.completionTokens : estimatedTokens);
        assertUsableCompletion(raw);
        return { raw, attempts: attempt, retried, baseUrl: url };
      } catch (e) {
        if (!isPipelineError(e) || !e.retryable) throw e;
        const isReply = e.code === 'reply-truncated' || e.code === 'reply-empty';
        if (isReply ? ++replyRetries > limits.maxReplyRetries : ++transportRetries > limits.maxRetries) {
          const what = isReply ? `limits.maxReplyRetries=${limits.maxReplyRetries}` : `limits.maxRetries=${limits.maxRetries}`;
          throw new PipelineError(e.code, `${e.message} (gave up after ${attempt} attempts, ${what})`, { cause: e, ...(e.hint !== undefined ? { hint: e.hint } : {}) });
        }
        retried.push(e.code);
        let delay = backoffDelay(isReply ? replyRetries : transportRetries, limits.backoff, this.rng);
        if (e instanceof TransportError && e.retryAfterMs !== null) delay = Math.min(e.retryAfterMs, MAX_RETRY_AFTER_MS);
        // Another base URL is up: fail over at once instead of waiting out the backoff.
        if (e instanceof TransportError && e.down && this.pool !== null && this.pool.snapshot().some((t) => !t.down)) delay = 0;
        if (isReply) delay = 0;
        if (delay > 0) await sleep(delay, signal).catch(() => {
          throw new PipelineError('aborted', 'call cancelled while waiting to retry');
        });
      }
    }
  }
}
