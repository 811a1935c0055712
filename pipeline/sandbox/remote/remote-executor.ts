// An executor that judges on other machines: the same run(job) → ExecResult and close() as Executor, over HTTP to a
// list of sandbox services (ours via POST /v1/execute, or a SandboxFusion fleet via POST /run_code). Jobs go to the
// URL with the fewest in flight (capped per URL), fail over when a URL dies, and a job that no URL judged comes back
// as `sandbox-error`: only an answer a server actually gave is ever a verdict.
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import { PipelineError } from '../../errors.ts';
import type { ExecJob, ExecResult } from '../job.ts';
import { SandboxSchema, type RemoteSandboxConfig, type SandboxConfig, type SandboxConfigInput } from '../sandbox-config.ts';
import { ExecResultSchema, RunCodeResponseSchema } from './protocol.ts';
import { resultFromRunCode, runCodeBodyFor, unsupportedOverSandboxFusion } from './sandbox-fusion-job.ts';

/** Why one attempt gave no verdict. `endpoint`: the URL's fault (down, reset, 5xx, bad answer), so another URL may do; otherwise the job's (refused everywhere alike). */
class AttemptError extends Error {
  constructor(
    message: string,
    readonly endpoint: boolean,
    /** A reset on a kept-alive socket the server had just closed: not the server's fault, try again at once. */
    readonly staleSocket = false,
  ) {
    super(message);
  }
}

interface Endpoint {
  base: URL;
  label: string;
  outstanding: number;
  /** Consecutive failed attempts; while > 0 the URL takes one job at a time (a probe) once its cooldown is over. */
  failing: number;
  downUntil: number;
  served: number;
  failures: number;
  lastPick: number;
  agent: http.Agent;
}

export interface RemoteExecutorInfo {
  mode: 'remote';
  protocol: RemoteSandboxConfig['protocol'];
  urls: string[];
  /** Jobs in flight at most: URLs × concurrencyPerUrl. */
  workers: number;
  warning: string | null;
}

export interface RemoteExecutorStats {
  /** Jobs submitted; each ends as exactly one verdict or one sandbox error, however many attempts it took. */
  jobs: number;
  verdicts: number;
  sandboxErrors: number;
  attempts: number;
  /** Attempts after a job's first. */
  retries: number;
  /** Retries sent to another URL than the attempt before. */
  failovers: number;
  urls: Array<{ url: string; served: number; failures: number; outstanding: number; down: boolean }>;
}

/** The per-URL cooldown after n consecutive failures: 0.5 s, 1 s, 2 s, … up to 30 s. */
const cooldownMs = (n: number): number => Math.min(30_000, 500 * 2 ** Math.max(0, n - 1));
/** EvalPlus jobs may first compute the reference's outputs on the server (the worker allows the same). */
const REFERENCE_ALLOWANCE_S = 600;
/** Largest answer read from a server (a job's per-test outcomes), so a broken server cannot exhaust our memory. */
const MAX_ANSWER_BYTES = 256 << 20;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function sandboxError(reason: string, started: number): ExecResult {
  return { passed: false, status: 'sandbox-error', result: `sandbox error: ${reason}`, durationMs: Math.round((performance.now() - started) * 10) / 10 };
}

export class RemoteExecutor {
  /** The local `sandbox` section: workflow runtimes and the AST service still run on this machine under it. */
  readonly config: SandboxConfig;
  readonly remote: RemoteSandboxConfig;
  readonly info: RemoteExecutorInfo;
  private readonly endpoints: Endpoint[];
  private readonly token: string | undefined;
  private readonly waiters: Array<{ avoid: ReadonlySet<Endpoint>; resolve: (e: Endpoint | null) => void }> = [];
  private wakeTimer: NodeJS.Timeout | null = null;
  /** Every attempt in flight listens on it (removed when the attempt ends), so thousands may listen at once. */
  private readonly closing = (() => {
    const c = new AbortController();
    setMaxListeners(0, c.signal);
    return c;
  })();
  private picks = 0;
  private readonly counts = { jobs: 0, verdicts: 0, sandboxErrors: 0, attempts: 0, retries: 0, failovers: 0 };

  /** opts.env: where tokenEnv is read (default process.env). */
  constructor(input: SandboxConfigInput, opts: { env?: NodeJS.ProcessEnv } = {}) {
    this.config = SandboxSchema.parse(input);
    const remote = this.config.remote;
    if (remote === undefined) throw new PipelineError('config-invalid', 'RemoteExecutor needs sandbox.remote (urls, protocol)');
    this.remote = remote;
    if (remote.tokenEnv !== undefined) {
      const t = (opts.env ?? process.env)[remote.tokenEnv];
      if (t === undefined || t === '') {
        throw new PipelineError('env-missing', `sandbox.remote.tokenEnv names ${remote.tokenEnv}, which is not set`, { hint: `export ${remote.tokenEnv}=<the token the services were started with>` });
      }
      this.token = t;
    }
    this.endpoints = remote.urls.map((u) => {
      const base = new URL(u);
      const agent = base.protocol === 'https:' ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
      return { base, label: base.origin + base.pathname.replace(/\/$/, ''), outstanding: 0, failing: 0, downUntil: 0, served: 0, failures: 0, lastPick: 0, agent };
    });
    this.info = { mode: 'remote', protocol: remote.protocol, urls: this.endpoints.map((e) => e.label), workers: remote.urls.length * remote.concurrencyPerUrl, warning: null };
  }

  stats(): RemoteExecutorStats {
    const now = Date.now();
    return {
      ...this.counts,
      urls: this.endpoints.map((e) => ({ url: e.label, served: e.served, failures: e.failures, outstanding: e.outstanding, down: e.failing > 0 && e.downUntil > now })),
    };
  }

  async run(job: ExecJob): Promise<ExecResult> {
    const started = performance.now();
    this.counts.jobs++;
    const done = (r: ExecResult): ExecResult => {
      if (r.status === 'sandbox-error') this.counts.sandboxErrors++;
      else this.counts.verdicts++;
      return r;
    };
    if (this.remote.protocol === 'sandbox-fusion') {
      const why = unsupportedOverSandboxFusion(job);
      if (why !== null) return done(sandboxError(why, started));
    }
    const jobId = randomUUID();
    const body = Buffer.from(JSON.stringify(this.remote.protocol === 'flowreasoner' ? job : runCodeBodyFor(job, { graceS: this.config.graceS, memoryMb: this.config.memoryMb })), 'utf8');
    const timeoutMs = (job.timeoutS + (job.harness === 'evalplus' ? REFERENCE_ALLOWANCE_S : 0) + this.remote.timeoutS) * 1000;
    const tried = new Set<Endpoint>();
    let previous: Endpoint | null = null;
    let lastError = 'no attempt was made';
    for (let attempt = 0; attempt <= this.remote.retries; attempt++) {
      if (this.closing.signal.aborted) return done(sandboxError('the remote executor was closed', started));
      if (attempt > 0) {
        this.counts.retries++;
        // Jittered backoff: a fleet-wide hiccup does not come back as one synchronized wave.
        await sleep(Math.min(5_000, 100 * 2 ** (attempt - 1)) * (0.5 + Math.random()));
      }
      const ep = await this.acquire(tried);
      if (ep === null) return done(sandboxError('the remote executor was closed', started));
      if (previous !== null && previous !== ep) this.counts.failovers++;
      previous = ep;
      tried.add(ep);
      this.counts.attempts++;
      let outcome: ExecResult | AttemptError;
      try {
        outcome = await this.attempt(ep, body, jobId, timeoutMs);
      } catch (e) {
        outcome = e instanceof AttemptError ? e : new AttemptError((e as Error).message, true);
      }
      // Released exactly once per attempt; a refusal of the job itself is not the URL's fault.
      this.release(ep, !(outcome instanceof AttemptError) || !outcome.endpoint);
      if (!(outcome instanceof AttemptError)) {
        ep.served++;
        return done(outcome);
      }
      lastError = `${ep.label}: ${outcome.message}`;
      if (!outcome.endpoint) return done(sandboxError(lastError, started));
      ep.failures++;
    }
    return done(sandboxError(`no server judged the job after ${this.remote.retries + 1} attempts (last: ${lastError})`, started));
  }

  /** One HTTP attempt; a stale kept-alive socket is retried once at once on the same URL, as no fault of the server. */
  private async attempt(ep: Endpoint, body: Buffer, jobId: string, timeoutMs: number): Promise<ExecResult> {
    try {
      return await this.attemptOnce(ep, body, jobId, timeoutMs);
    } catch (e) {
      if (e instanceof AttemptError && e.staleSocket) return await this.attemptOnce(ep, body, jobId, timeoutMs);
      throw e;
    }
  }

  private async attemptOnce(ep: Endpoint, body: Buffer, jobId: string, timeoutMs: number): Promise<ExecResult> {
    const route = this.remote.protocol === 'flowreasoner' ? '/v1/execute' : '/run_code';
    const basePath = ep.base.pathname.replace(/\/$/, '');
    const target = new URL(ep.base.href);
    target.pathname = basePath.endsWith(route) ? basePath : `${basePath}${route}`;
    const { status, text } = await this.post(ep, target, body, jobId, timeoutMs);
    if (status >= 500 || status === 401 || status === 403 || status === 404 || status === 405 || status === 429) {
      // This server cannot judge now (down, draining, misconfigured for us): another one may.
      throw new AttemptError(`HTTP ${status}: ${text.slice(0, 300)}`, true);
    }
    if (status !== 200) throw new AttemptError(`HTTP ${status}: ${text.slice(0, 300)}`, false);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new AttemptError('the answer is not JSON', true);
    }
    if (this.remote.protocol === 'flowreasoner') {
      const parsed = ExecResultSchema.safeParse(json);
      if (!parsed.success) throw new AttemptError(`the answer is not an ExecResult: ${parsed.error.issues[0]?.message ?? ''}`, true);
      // A server that itself could not judge says so; another may.
      if (parsed.data.status === 'sandbox-error') throw new AttemptError(parsed.data.result, true);
      return parsed.data;
    }
    const parsed = RunCodeResponseSchema.safeParse(json);
    if (!parsed.success) throw new AttemptError(`the answer is not a RunCodeResponse: ${parsed.error.issues[0]?.message ?? ''}`, true);
    const r = resultFromRunCode(parsed.data, this.config.outputKb * 1024);
    if ('noVerdict' in r) throw new AttemptError(r.noVerdict, true);
    return r.result;
  }

  private post(ep: Endpoint, target: URL, body: Buffer, jobId: string, timeoutMs: number): Promise<{ status: number; text: string }> {
    const lib = target.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        accept: 'application/json',
        'content-length': String(body.byteLength),
        'x-flowreasoner-job-id': jobId,
      };
      if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`;
      let settled = false;
      const fail = (e: AttemptError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.closing.signal.removeEventListener('abort', onAbort);
        reject(e);
      };
      const req = lib.request(target, { method: 'POST', headers, agent: ep.agent }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (d: Buffer) => {
          size += d.byteLength;
          if (size > MAX_ANSWER_BYTES) {
            req.destroy();
            fail(new AttemptError(`answer over ${MAX_ANSWER_BYTES} bytes`, true));
            return;
          }
          chunks.push(d);
        });
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          this.closing.signal.removeEventListener('abort', onAbort);
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
        });
        // A server killed while sending its answer: no verdict from it.
        res.on('aborted', () => fail(new AttemptError('the connection closed mid-answer', true)));
        res.on('error', (e) => fail(new AttemptError(`reading the answer: ${e.message}`, true)));
      });
      const timer = setTimeout(() => {
        req.destroy();
        fail(new AttemptError(`no answer within ${Math.round(timeoutMs / 1000)} s`, true));
      }, timeoutMs);
      const onAbort = (): void => {
        req.destroy();
        fail(new AttemptError('the remote executor was closed', false));
      };
      this.closing.signal.addEventListener('abort', onAbort, { once: true });
      req.on('error', (e: NodeJS.ErrnoException) => {
        const stale = req.reusedSocket && e.code === 'ECONNRESET';
        fail(new AttemptError(`${e.code ?? 'error'}: ${e.message}`, true, stale));
      });
      req.end(body);
    });
  }

  /** The open URL with the fewest jobs in flight, preferring one this job has not tried; waits when all are full or cooling down. */
  private acquire(avoid: ReadonlySet<Endpoint>): Promise<Endpoint | null> {
    if (this.closing.signal.aborted) return Promise.resolve(null);
    const ep = this.waiters.length === 0 ? this.pick(avoid) : null;
    if (ep !== null) return Promise.resolve(ep);
    return new Promise((resolve) => {
      this.waiters.push({ avoid, resolve });
      this.pump();
    });
  }

  private capacity(e: Endpoint): number {
    return e.failing > 0 ? 1 : this.remote.concurrencyPerUrl;
  }

  private pick(avoid: ReadonlySet<Endpoint>): Endpoint | null {
    const now = Date.now();
    const open = this.endpoints.filter((e) => e.outstanding < this.capacity(e) && e.downUntil <= now);
    const fresh = open.filter((e) => !avoid.has(e));
    const pool = fresh.length > 0 ? fresh : open;
    let best: Endpoint | null = null;
    for (const e of pool) if (best === null || e.outstanding < best.outstanding || (e.outstanding === best.outstanding && e.lastPick < best.lastPick)) best = e;
    if (best !== null) {
      best.outstanding++;
      best.lastPick = ++this.picks;
    }
    return best;
  }

  /** Hands freed capacity to waiting jobs in order; when none is open, wakes up at the end of the shortest cooldown. */
  private pump(): void {
    while (this.waiters.length > 0) {
      const w = this.waiters[0] as (typeof this.waiters)[number];
      const ep = this.pick(w.avoid);
      if (ep === null) break;
      this.waiters.shift();
      w.resolve(ep);
    }
    if (this.waiters.length > 0 && this.wakeTimer === null) {
      const now = Date.now();
      const next = Math.min(...this.endpoints.filter((e) => e.downUntil > now).map((e) => e.downUntil));
      if (Number.isFinite(next)) {
        this.wakeTimer = setTimeout(() => {
          this.wakeTimer = null;
          this.pump();
        }, next - now + 1);
      }
    }
  }

  private release(ep: Endpoint, ok: boolean): void {
    ep.outstanding--;
    if (ok) {
      ep.failing = 0;
      ep.downUntil = 0;
    } else {
      ep.failing++;
      ep.downUntil = Date.now() + cooldownMs(ep.failing);
    }
    this.pump();
  }

  /** Aborts what is in flight (those jobs come back as sandbox errors) and frees the connections. */
  async close(): Promise<void> {
    this.closing.abort();
    if (this.wakeTimer !== null) clearTimeout(this.wakeTimer);
    for (const w of this.waiters.splice(0)) w.resolve(null);
    for (const e of this.endpoints) e.agent.destroy();
  }
}
