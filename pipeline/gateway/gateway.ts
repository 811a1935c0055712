// The one door to every model: roles, cache, budgets, cost accounting and the call journal.
import { PipelineError, errorClass, errorMessage, isPipelineError } from '../errors.ts';
import { hash32 } from '../random.ts';
import { redactUrl, registerSecret, scrubText } from '../secrets.ts';
import { baseUrlsOf, type Endpoint } from '../config/endpoint-schema.ts';
import type { Journal } from '../store/journal.ts';
import { Accounting, costOf, type Budget } from './accounting.ts';
import { ResponseCache, cacheKey } from './cache.ts';
import { RoleClient } from './role-client.ts';
import type { GatewayLogger } from './balancer.ts';
import { OpenAIProvider } from './providers/openai-provider.ts';
import { HuggingFaceProvider } from './providers/hf-provider.ts';
import type { Provider } from './providers/provider.ts';
import type { CallRecord, ChatRequest, ChatResult, Usage } from './types.ts';

export interface GatewayOptions {
  models: Record<string, Endpoint>;
  budget?: Budget;
  /** Response cache directory; undefined disables the cache. */
  cacheDir?: string;
  /** Where `baseUrl: sim` points (the running simulator's /v1 URL). */
  simUrl?: string;
  journal?: Journal<CallRecord>;
  env?: NodeJS.ProcessEnv;
  seed?: number;
  /** Roles to set up now; others are set up on first use (so a missing key of an unused role is no error). */
  roles?: string[];
  /** Where replica down/up lines go (a run's pino logger fits). */
  logger?: GatewayLogger;
}

export type { GatewayLogger } from './balancer.ts';

const ZERO: Usage = { promptTokens: 0, completionTokens: 0, reasoningTokens: 0, cachedPromptTokens: 0 };

/** Rough token count for rate limiting before the real usage is known. */
function estimateTokens(messages: ChatRequest['messages'], maxTokens: number | undefined): number {
  const chars = messages.reduce((s, m) => s + m.content.length, 0);
  return Math.ceil(chars / 4) + (maxTokens ?? 1024);
}

export class Gateway {
  readonly accounting: Accounting;
  readonly cache: ResponseCache<ChatResult> | null;
  private readonly opts: GatewayOptions;
  private readonly clients = new Map<string, RoleClient>();
  private readonly inflight = new Map<string, Promise<ChatResult>>();
  private readonly env: NodeJS.ProcessEnv;
  private readonly listeners: Array<(r: CallRecord) => void> = [];
  private closed = false;

  constructor(opts: GatewayOptions) {
    this.opts = opts;
    this.env = opts.env ?? process.env;
    this.accounting = new Accounting(opts.budget);
    this.cache = opts.cacheDir !== undefined ? new ResponseCache<ChatResult>(opts.cacheDir) : null;
    for (const r of opts.roles ?? []) this.client(r);
  }

  get roles(): string[] {
    return Object.keys(this.opts.models);
  }

  /** Called after every call (cached, failed or not), e.g. for progress bars. */
  onCall(listener: (r: CallRecord) => void): void {
    this.listeners.push(listener);
  }

  endpoint(role: string): Endpoint {
    const ep = this.opts.models[role];
    if (ep === undefined) {
      throw new PipelineError('config-invalid', `no model configured for role "${role}"`, {
        hint: `Add models.${role} to the config (configured roles: ${this.roles.join(', ') || 'none'}).`,
      });
    }
    return ep;
  }

  /** Base URLs of a role with `sim` resolved; throws if the simulator is needed but not running. */
  urlsOf(role: string): string[] {
    const ep = this.endpoint(role);
    return baseUrlsOf(ep).map((u) => {
      if (u !== 'sim') return u;
      if (this.opts.simUrl === undefined) {
        throw new PipelineError('config-invalid', `models.${role}.baseUrl is "sim" but no simulator is running`, { hint: 'Run through the CLI, which starts it, or start one with `npm run sim`.' });
      }
      return this.opts.simUrl;
    });
  }

  client(role: string): RoleClient {
    const existing = this.clients.get(role);
    if (existing !== undefined) return existing;
    const ep = this.endpoint(role);
    const urls = this.urlsOf(role);
    let apiKey: string | undefined;
    if (ep.apiKeyEnv !== undefined) {
      apiKey = this.env[ep.apiKeyEnv];
      if (apiKey === undefined || apiKey === '') {
        throw new PipelineError('env-missing', `role ${role} (${urls.map(redactUrl).join(', ') || ep.hfProvider || 'huggingface'}): environment variable ${ep.apiKeyEnv} is not set`, {
          hint: `export ${ep.apiKeyEnv}=<your key>, or run on the simulator with --config configs/demo.yaml`,
        });
      }
      registerSecret(apiKey);
    }
    for (const v of Object.values(ep.headers ?? {})) registerSecret(v);
    const provider: Provider =
      ep.provider === 'huggingface' ? new HuggingFaceProvider(role, apiKey, ep.apiKeyEnv, ep.hfProvider) : new OpenAIProvider(role, apiKey, ep.apiKeyEnv, ep.headers);
    const probeHeaders = { ...(apiKey !== undefined ? { authorization: `Bearer ${apiKey}` } : {}), ...ep.headers };
    const c = new RoleClient(role, ep, provider, urls, this.opts.seed ?? 0, { probeHeaders, ...(this.opts.logger !== undefined ? { logger: this.opts.logger } : {}) });
    // A client made after close() still calls, but never probes.
    if (this.closed) c.close();
    this.clients.set(role, c);
    return c;
  }

  /** Stops every role's background health probes. Calls still work afterwards; idempotent. */
  close(): void {
    this.closed = true;
    for (const c of this.clients.values()) c.close();
  }

  /** The OpenAI request body for a call, with role defaults merged under the call's own settings. */
  buildBody(req: ChatRequest): Record<string, unknown> {
    const ep = this.endpoint(req.role);
    const s = { ...ep.sampling, ...req.sampling };
    const capture = { ...ep.capture, ...req.capture };
    const body: Record<string, unknown> = { model: ep.model, messages: req.messages };
    if (s.temperature !== undefined) body.temperature = s.temperature;
    if (s.topP !== undefined) body.top_p = s.topP;
    if (s.maxTokens !== undefined) body.max_tokens = s.maxTokens;
    if (s.stop !== undefined) body.stop = s.stop;
    if (s.presencePenalty !== undefined) body.presence_penalty = s.presencePenalty;
    if (s.frequencyPenalty !== undefined) body.frequency_penalty = s.frequencyPenalty;
    if (req.n !== undefined && req.n !== 1) body.n = req.n;
    const seed = req.seed ?? (req.sampleIndex !== undefined ? hash32('sample', this.opts.seed ?? 0, req.sampleIndex) & 0x7fffffff : undefined);
    if (seed !== undefined) body.seed = seed;
    if (capture.logprobs) {
      body.logprobs = true;
      if (capture.topLogprobs !== undefined && capture.topLogprobs > 0) body.top_logprobs = capture.topLogprobs;
    }
    if (capture.tokenIds) body.return_token_ids = true;
    if (s.extraBody !== undefined) Object.assign(body, s.extraBody);
    return body;
  }

  async chat(req: ChatRequest): Promise<ChatResult> {
    const ep = this.endpoint(req.role);
    const body = this.buildBody(req);
    const key = cacheKey({ v: 1, provider: ep.provider, body, sampleIndex: req.sampleIndex ?? null });
    const useCache = this.cache !== null && req.cache !== false;
    const shared = useCache ? this.inflight.get(key) : undefined;
    if (shared !== undefined) return shared;
    const p = this.run(req, ep, body, key, useCache);
    if (useCache) {
      this.inflight.set(key, p);
      void p.then(
        () => this.inflight.delete(key),
        () => this.inflight.delete(key),
      );
    }
    return p;
  }

  private async run(req: ChatRequest, ep: Endpoint, body: Record<string, unknown>, key: string, useCache: boolean): Promise<ChatResult> {
    const started = performance.now();
    if (useCache && this.cache !== null) {
      const hit = await this.cache.get(key);
      if (hit !== undefined) {
        const result: ChatResult = { ...hit, spent: 0, cacheHit: true, latencyMs: performance.now() - started, attempts: 0 };
        await this.record(req, ep, result, null, [], null);
        return result;
      }
    }
    try {
      this.accounting.check(req.context);
      const client = this.client(req.role);
      const { raw, attempts, retried, baseUrl } = await client.call(body, estimateTokens(req.messages, body.max_tokens as number | undefined), req.signal);
      const usage = raw.usage ?? { ...ZERO, promptTokens: estimateTokens(req.messages, 0), completionTokens: Math.ceil(raw.choices.reduce((s, c) => s + c.content.length + (c.reasoning?.length ?? 0), 0) / 4) };
      const first = raw.choices[0];
      const result: ChatResult = {
        role: req.role,
        model: raw.model || ep.model,
        choices: raw.choices,
        content: first?.content ?? '',
        reasoning: first?.reasoning ?? null,
        usage,
        ...(raw.promptTokenIds !== undefined ? { promptTokenIds: raw.promptTokenIds } : {}),
        cost: costOf(usage, ep.price),
        spent: costOf(usage, ep.price),
        cacheHit: false,
        latencyMs: performance.now() - started,
        attempts,
        cacheKey: key,
      };
      if (useCache && this.cache !== null) await this.cache.set(key, result);
      await this.record(req, ep, result, baseUrl, retried, null);
      return result;
    } catch (e) {
      const failed: ChatResult = {
        role: req.role,
        model: ep.model,
        choices: [],
        content: '',
        reasoning: null,
        usage: ZERO,
        cost: 0,
        spent: 0,
        cacheHit: false,
        latencyMs: performance.now() - started,
        attempts: 0,
        cacheKey: key,
      };
      await this.record(req, ep, failed, null, [], e);
      throw e;
    }
  }

  private async record(req: ChatRequest, ep: Endpoint, r: ChatResult, baseUrl: string | null, retried: string[], error: unknown): Promise<void> {
    const ok = error === null;
    this.accounting.record({ role: req.role, usage: r.usage, cost: r.spent, cacheHit: r.cacheHit, ok, errorClass: ok ? null : errorClass(error), ...(req.context !== undefined ? { context: req.context } : {}) });
    for (const code of retried) this.accounting.errorsByClass.set(`retried:${code}`, (this.accounting.errorsByClass.get(`retried:${code}`) ?? 0) + 1);
    const rec: CallRecord = {
      ts: new Date().toISOString(),
      role: req.role,
      model: ep.model,
      baseUrl: baseUrl === null ? null : redactUrl(baseUrl),
      stage: req.context?.stage ?? null,
      queryId: req.context?.queryId ?? null,
      sampleIndex: req.sampleIndex ?? null,
      ok,
      cacheHit: r.cacheHit,
      latencyMs: Math.round(r.latencyMs * 10) / 10,
      attempts: r.attempts,
      promptTokens: r.usage.promptTokens,
      completionTokens: r.usage.completionTokens,
      reasoningTokens: r.usage.reasoningTokens,
      cost: r.cost,
      spent: r.spent,
      finishReasons: r.choices.map((c) => c.finishReason),
      errorClass: ok ? null : errorClass(error),
      errorMessage: ok ? null : scrubText(errorMessage(error)),
      retried,
      cacheKey: r.cacheKey,
    };
    for (const l of this.listeners) l(rec);
    if (this.opts.journal !== undefined) {
      try {
        await this.opts.journal.append(rec);
      } catch (e) {
        // Losing the journal (e.g. disk full) must stop the run, not pass silently.
        if (isPipelineError(e)) throw e;
        throw new PipelineError('journal-corrupt', `cannot journal call: ${errorMessage(e)}`, { cause: e });
      }
    }
  }

  /** Fails fast, naming role, URL and what to set, when a role's key is missing or its server does not answer. */
  async preflight(roles: string[], timeoutMs = 5000): Promise<void> {
    for (const role of roles) {
      const c = this.client(role);
      if (c.endpoint.provider !== 'openai') continue;
      const urls = this.urlsOf(role);
      const results = await Promise.all(
        urls.map(async (u) => {
          try {
            const res = await fetch(`${u.replace(/\/+$/, '')}/models`, { signal: AbortSignal.timeout(timeoutMs), headers: { authorization: 'Bearer preflight' } });
            return res.status < 500;
          } catch {
            return false;
          }
        }),
      );
      if (!results.some(Boolean)) {
        throw new PipelineError('endpoint-unreachable', `role ${role}: no answer from ${urls.map(redactUrl).join(', ')} (model ${c.endpoint.model})`, {
          hint: `Start the server (e.g. \`vllm serve ${c.endpoint.model} --port 8000\`), fix models.${role}.baseUrl, or use the simulator: --config configs/demo.yaml`,
        });
      }
    }
  }

  /** Usage and cost so far, for summaries. */
  report(): { total: Accounting['total']; byRole: Record<string, Accounting['total']>; byStage: Record<string, Accounting['total']>; errors: Record<string, number>; cache: { hits: number; misses: number } | null } {
    return {
      total: { ...this.accounting.total },
      byRole: Object.fromEntries(this.accounting.byRole),
      byStage: Object.fromEntries(this.accounting.byStage),
      errors: Object.fromEntries(this.accounting.errorsByClass),
      cache: this.cache === null ? null : { hits: this.cache.hits, misses: this.cache.misses },
    };
  }

  /** Re-reads spend from an earlier part of the run (calls.jsonl), so budgets hold across --resume. */
  restore(records: Iterable<CallRecord>): void {
    for (const r of records) {
      const context = { ...(r.stage !== null ? { stage: r.stage } : {}), ...(r.queryId !== null ? { queryId: r.queryId } : {}) };
      this.accounting.record({
        role: r.role,
        context,
        usage: { promptTokens: r.promptTokens, completionTokens: r.completionTokens, reasoningTokens: r.reasoningTokens, cachedPromptTokens: 0 },
        cost: r.spent ?? r.cost,
        cacheHit: r.cacheHit,
        ok: r.ok,
        errorClass: r.errorClass,
      });
    }
  }
}
