// One role's connection: concurrency cap, rate limits, base-URL balancing, per-attempt deadline and the retry loop.
import pLimit, { type LimitFunction } from 'p-limit';
import { PipelineError, isPipelineError } from '../errors.ts';
import { Rng } from '../random.ts';
import { baseUrlsOf, type Endpoint } from '../config/endpoint-schema.ts';
import { BaseUrlPool, type GatewayLogger, type Outcome, type ReplicaSnapshot } from './balancer.ts';
import { WindowLimiter } from './rate-limit.ts';
import { backoffDelay, sleep } from './retry.ts';
import { assertUsableCompletion } from './usable-completion.ts';
import { TransportError } from './transport-error.ts';
import { redactUrl } from '../secrets.ts';
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

export interface RoleClientOptions {
  /** Replica down/up lines go here. */
  logger?: GatewayLogger;
  /** Headers for health probes (the role's key and extra headers). */
  probeHeaders?: Record<string, string>;
}

/** What an attempt's failure says about the replica it ran on. */
function outcomeOf(e: unknown): Outcome {
  if (!(e instanceof TransportError)) return 'error';
  if (e.down) return 'down';
  // 408/409 are the server's word on this request, not on its health; a headers timeout (no status) is.
  if (e.code === 'server-error' || (e.code === 'timeout' && e.status === null)) return 'unhealthy';
  return 'error';
}

function errorDetail(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

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

  constructor(role: string, endpoint: Endpoint, provider: Provider, urls: string[], seed: number, opts: RoleClientOptions = {}) {
    this.role = role;
    this.endpoint = endpoint;
    this.provider = provider;
    this.limit = pLimit(endpoint.limits.concurrency);
    const hc = endpoint.limits.healthCheck;
    const logger = opts.logger;
    this.pool =
      urls.length > 0
        ? new BaseUrlPool(urls, {
            cooldownMs: endpoint.limits.failoverCooldownS * 1000,
            health: { enabled: hc.enabled, path: hc.path, downIntervalMs: hc.downIntervalS * 1000, intervalMs: hc.intervalS * 1000, timeoutMs: hc.timeoutS * 1000, unhealthyAfter: hc.unhealthyAfter },
            ...(opts.probeHeaders !== undefined ? { probeHeaders: opts.probeHeaders } : {}),
            onEvent: (ev) => {
              const fields = { role, url: redactUrl(ev.url), reason: ev.reason, outstanding: ev.outstanding, ...(ev.downForMs !== undefined ? { downForMs: ev.downForMs } : {}) };
              if (ev.state === 'down') logger?.warn(fields, 'replica down');
              else logger?.info(fields, 'replica back up');
            },
          })
        : null;
    const rl: { requestsPerMinute?: number; tokensPerMinute?: number } = {};
    if (endpoint.limits.requestsPerMinute !== undefined) rl.requestsPerMinute = endpoint.limits.requestsPerMinute;
    if (endpoint.limits.tokensPerMinute !== undefined) rl.tokensPerMinute = endpoint.limits.tokensPerMinute;
    this.rate = new WindowLimiter(rl);
    this.rng = new Rng('retry-jitter', role, seed);
  }

  get urls(): string[] {
    return this.pool?.snapshot().map((t) => t.url) ?? baseUrlsOf(this.endpoint);
  }

  /** Per replica: outstanding, served, failures, downs/ups and whether it is out now. */
  poolSnapshot(): ReplicaSnapshot[] {
    return this.pool?.snapshot() ?? [];
  }

  /** Stops background health probes. */
  close(): void {
    this.pool?.close();
  }

  /** One HTTP request on one replica; `where.url` tells the retry loop which one, also when it throws. */
  private async attemptOnce(body: Record<string, unknown>, signal: AbortSignal | undefined, where: { url: string | null }): Promise<{ raw: RawCompletion; url: string | null }> {
    return this.limit(async () => {
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      // A retry goes to another replica when one is in: the one that just failed may fail again.
      const target = this.pool?.acquire(where.url ?? undefined);
      where.url = target?.url ?? null;
      const timeoutMs = this.endpoint.limits.timeoutS * 1000;
      const deadline = AbortSignal.timeout(timeoutMs);
      const sig = signal !== undefined ? AbortSignal.any([signal, deadline]) : deadline;
      try {
        const raw = await this.provider.complete({ baseUrl: target?.url, body, stream: this.endpoint.stream, signal: sig, headersTimeoutMs: timeoutMs });
        target?.release('ok');
        return { raw, url: target?.url ?? null };
      } catch (e) {
        // A cancelled call says nothing about the replica; a blown deadline says it is too slow.
        target?.release(signal?.aborted ? 'error' : deadline.aborted ? 'unhealthy' : outcomeOf(e), deadline.aborted ? `no reply within ${timeoutMs} ms` : errorDetail(e));
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
    const where: { url: string | null } = { url: null };
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw new PipelineError('aborted', 'call cancelled');
      const settle = await this.rate.acquire(estimatedTokens, signal).catch((e: unknown) => {
        throw new PipelineError('aborted', 'call cancelled while waiting for the rate limit', { cause: e });
      });
      try {
        const { raw, url } = await this.attemptOnce(body, signal, where);
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
        // The connection failed or the replica was taken out, and another is in: fail over at once instead of waiting out the backoff.
        if (e instanceof TransportError && this.pool !== null && (e.down || (where.url !== null && this.pool.isDown(where.url))) && this.pool.anyUp()) delay = 0;
        if (isReply) delay = 0;
        if (delay > 0) await sleep(delay, signal).catch(() => {
          throw new PipelineError('aborted', 'call cancelled while waiting to retry');
        });
      }
    }
  }
}
