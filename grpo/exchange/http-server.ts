// The grpo-exchange/v1 HTTP server (trainer-contract.md §10.6): rollouts by long-poll, acks, policy versions, and score shims.
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { ackedConsumers, unackedSteps, writeAck } from './acks.ts';
import { isExchangeError, type ExchangeReason } from './errors.ts';
import { bearerMatches, HttpError, tokenMatches, readJsonBody, sendError, sendJson, sendText } from '../../pipeline/http/http-io.ts';
import { publishPolicy, readPolicy } from './policy-store.ts';
import { isStepCommitted, listCommittedSteps, readStepManifest, readStepPayload } from './rollout-reader.ts';
import { readRunManifest } from './run-manifest.ts';
import {
  AckRequestSchema,
  ConsumerIdSchema,
  OpenRlhfRequestSchema,
  OpenRlhfResultSchema,
  PolicyRequestSchema,
  ScoreRequestSchema,
  ScoreResultSchema,
  type OpenRlhfRequest,
  type OpenRlhfResult,
  type Policy,
  type ScoreRequest,
  type ScoreResult,
} from './schema.ts';

export type Scorer = (req: ScoreRequest, signal: AbortSignal) => Promise<ScoreResult>;
export type OpenRlhfScorer = (req: OpenRlhfRequest, signal: AbortSignal) => Promise<OpenRlhfResult>;

export interface ExchangeServerOptions {
  /** The run root holding run.json, rollouts/, acks/ and policy/. */
  root: string;
  /** Default 127.0.0.1: the exchange carries training data and accepts policy versions, so it is not exposed by default. */
  host?: string;
  /** Default 0: an ephemeral port, read back from the result. */
  port?: number;
  /** When set, every request needs `Authorization: Bearer <token>`. */
  token?: string;
  /** Largest accepted request body (default 1 MiB); larger ones get 413. */
  maxBodyBytes?: number;
  /** Cap on `wait_s` of the long-poll (default 60 s). */
  maxWaitS?: number;
  /** How often a long-poll looks for a new committed step (default 100 ms). */
  pollMs?: number;
  /** Backs `POST /v1/score`; without it that endpoint answers 501. */
  scorer?: Scorer;
  /** Backs `POST /v1/score/openrlhf`; without it that endpoint answers 501. */
  openrlhfScorer?: OpenRlhfScorer;
  /** Told about every newly published policy, e.g. so the rollout loop hot-loads a LoRA adapter or switches versions. */
  onPolicy?: (policy: Policy) => Promise<void> | void;
  /** Told about every 500, so the caller can log it; the server itself writes nothing to stdout. */
  onError?: (error: unknown, route: string) => void;
}

export interface ExchangeServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: string[];
  /** Aborted when the client goes away or the server closes. */
  signal: AbortSignal;
}

interface Route {
  method: 'GET' | 'POST';
  path: RegExp;
  name: string;
  /**
   * Also accept the token as `?token=` in the URL. Only for the scoring routes: OpenRLHF posts to `--remote_rm_url`
   * with no headers at all, so a URL is the only place it can carry one. The server logs no URL.
   */
  queryToken?: boolean;
  handle: (ctx: Ctx) => Promise<void>;
}

const STATUS_OF: Record<ExchangeReason, number> = {
  'invalid-rows': 400,
  'step-exists': 409,
  'step-not-committed': 404,
  'manifest-mismatch': 500,
  'version-conflict': 409,
  'ack-conflict': 409,
  'run-conflict': 409,
  missing: 404,
};

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * The request target as a URL, or null when it is none this server routes. Origin-form ("/path?q") is appended to a fixed
 * origin rather than resolved against it, so "//%zz" stays a path instead of naming a host that fails to parse; absolute-form
 * (what a proxy sends) is routed by its path; "*" and anything else is not a resource here (RFC 9112 §3.2).
 */
export function parseTarget(target: string): URL | null {
  let url: URL | null = null;
  try {
    if (target.startsWith('/')) url = new URL(`http://exchange.invalid${target}`);
    else if (/^https?:\/\//i.test(target)) url = new URL(target);
  } catch {
    // An unparsable target is a 400 for the caller to send, not an exception.
    url = null;
  }
  return url;
}

// Node's parser codes for requests it cannot read at all, as the status Node itself would send; anything else is a 400.
const CLIENT_ERROR_STATUS: Record<string, number> = {
  HPE_HEADER_OVERFLOW: 431,
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 413,
  HPE_INVALID_METHOD: 501,
  ERR_HTTP_REQUEST_TIMEOUT: 408,
};

/** A JSON error written straight to a socket that has no ServerResponse (unparsable requests, CONNECT); then closes it. */
function rawError(socket: Duplex, status: number, code: string, message: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify({ error: code, message });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n${body}`,
  );
}

export async function startExchangeServer(opts: ExchangeServerOptions): Promise<ExchangeServer> {
  const root = opts.root;
  const host = opts.host ?? '127.0.0.1';
  const maxBodyBytes = opts.maxBodyBytes ?? 1 << 20;
  const maxWaitS = opts.maxWaitS ?? 60;
  const pollMs = opts.pollMs ?? 100;
  const closing = new AbortController();
  // A failing logger must not turn a handled request error into a crashed orchestrator; the request is answered either way.
  const report = (e: unknown, route: string): void => {
    try {
      opts.onError?.(e, route);
    } catch {
      // Nothing left to tell: the reporter itself is what failed.
    }
  };

  // Steps are immutable once committed, so a verified payload can be served again without re-reading and re-hashing.
  // Two entries: the step most consumers are on, and the one a lagging consumer still needs.
  const payloadCache = new Map<number, string>();
  async function payloadText(step: number): Promise<string> {
    const hit = payloadCache.get(step);
    if (hit !== undefined) return hit;
    const text = JSON.stringify(await readStepPayload(root, step));
    payloadCache.set(step, text);
    while (payloadCache.size > 2) payloadCache.delete(payloadCache.keys().next().value as number);
    return text;
  }

  // Commits are final, so the long-poll only has to look for _SUCCESS in directories it has not seen committed yet.
  const committedSeen = new Set<number>();

  const routes: Route[] = [
    {
      method: 'GET',
      path: /^\/v1\/health$/,
      name: 'health',
      handle: async ({ res }) => sendJson(res, 200, { ok: true }),
    },
    {
      method: 'GET',
      path: /^\/v1\/run$/,
      name: 'run',
      handle: async ({ res }) => {
        const run = await readRunManifest(root);
        if (run === null) throw new HttpError(404, 'missing', 'run.json has not been written yet');
        sendJson(res, 200, run);
      },
    },
    {
      method: 'GET',
      path: /^\/v1\/rollouts\/next$/,
      name: 'rollouts-next',
      handle: async ({ res, url, signal }) => {
        const consumer = ConsumerIdSchema.safeParse(url.searchParams.get('consumer') ?? '');
        if (!consumer.success) throw new HttpError(400, 'invalid-query', `consumer: ${consumer.error.issues[0]?.message ?? 'invalid'}`);
        const rawWait = url.searchParams.get('wait_s') ?? '0';
        const wait = Number(rawWait);
        if (rawWait.trim() === '' || !Number.isFinite(wait) || wait < 0) throw new HttpError(400, 'invalid-query', `wait_s must be a non-negative number of seconds, got "${rawWait}"`);
        const deadline = Date.now() + Math.min(wait, maxWaitS) * 1000;
        for (;;) {
          const next = (await unackedSteps(root, consumer.data, committedSeen))[0];
          if (next !== undefined) return sendText(res, 200, await payloadText(next));
          if (signal.aborted) {
            if (closing.signal.aborted) sendError(res, 503, 'shutting-down', 'the exchange server is closing');
            return;
          }
          const left = deadline - Date.now();
          if (left <= 0) {
            res.writeHead(204, { 'cache-control': 'no-store' });
            res.end();
            return;
          }
          await sleep(Math.min(pollMs, left), signal);
        }
      },
    },
    {
      // What is left for a consumer: lets a trainer that restarts or resumes stop once everything is acked, instead of
      // counting the steps it happened to consume in this process.
      method: 'GET',
      path: /^\/v1\/rollouts\/status$/,
      name: 'rollouts-status',
      handle: async ({ res, url }) => {
        const consumer = ConsumerIdSchema.safeParse(url.searchParams.get('consumer') ?? '');
        if (!consumer.success) throw new HttpError(400, 'invalid-query', `consumer: ${consumer.error.issues[0]?.message ?? 'invalid'}`);
        const committed = await listCommittedSteps(root, committedSeen);
        const unacked = await unackedSteps(root, consumer.data, committedSeen);
        sendJson(res, 200, { consumer: consumer.data, committed, unacked });
      },
    },
    {
      method: 'POST',
      path: /^\/v1\/rollouts\/(\d+)\/ack$/,
      name: 'rollouts-ack',
      handle: async ({ req, res, params }) => {
        const step = Number(params[0]);
        const body = await readJsonBody(req, maxBodyBytes, AckRequestSchema);
        if (!Number.isSafeInteger(step) || !(await isStepCommitted(root, step))) throw new HttpError(404, 'step-not-committed', `step ${params[0]} is not committed`);
        const manifest = await readStepManifest(root, step);
        const trained = body.status === 'trained';
        const { ack, created } = await writeAck(root, {
          consumer: body.consumer,
          step,
          status: body.status,
          consumed_at: new Date().toISOString(),
          trained_policy_version: body.trained_policy_version ?? null,
          rows_used: body.rows_used ?? (trained ? manifest.num_rows : 0),
          rows_dropped: body.rows_dropped ?? (trained ? 0 : manifest.num_rows),
          metrics: body.metrics ?? {},
        });
        sendJson(res, 200, { ok: true, duplicate: !created, step, consumer: ack.consumer, status: ack.status, acked_by: await ackedConsumers(root, step) });
      },
    },
    {
      method: 'GET',
      path: /^\/v1\/policy$/,
      name: 'policy-get',
      handle: async ({ res }) => {
        const policy = await readPolicy(root);
        if (policy === null) throw new HttpError(404, 'missing', 'no policy version has been published yet');
        sendJson(res, 200, policy);
      },
    },
    {
      method: 'POST',
      path: /^\/v1\/policy$/,
      name: 'policy-post',
      handle: async ({ req, res }) => {
        const body = await readJsonBody(req, maxBodyBytes, PolicyRequestSchema);
        // A LoRA version is served as its own adapter, `policy@<v>` (§10.6); an NCCL or disk sync keeps the served name.
        const servedModel =
          body.served_model ?? (body.source === 'lora' ? `policy@${body.version}` : ((await readPolicy(root))?.served_model ?? (await readRunManifest(root))?.base_model));
        if (servedModel === undefined) throw new HttpError(400, 'invalid-body', 'served_model: required while there is no current policy and no run.json to take base_model from');
        const { policy, changed } = await publishPolicy(root, { version: body.version, served_model: servedModel, source: body.source, path: body.path, synced_at: body.synced_at });
        if (changed && opts.onPolicy !== undefined) {
          try {
            await opts.onPolicy(policy);
          } catch (e) {
            throw new HttpError(500, 'on-policy-failed', `policy ${policy.version} was recorded, but applying it failed: ${(e as Error).message}`);
          }
        }
        sendJson(res, 200, { ok: true, changed, policy });
      },
    },
    {
      method: 'POST',
      path: /^\/v1\/score$/,
      name: 'score',
      queryToken: true,
      handle: async ({ req, res, signal }) => {
        if (opts.scorer === undefined) {
          req.resume();
          throw new HttpError(501, 'not-implemented', 'no scorer is configured on this exchange server');
        }
        const body = await readJsonBody(req, maxBodyBytes, ScoreRequestSchema);
        const out = ScoreResultSchema.safeParse(await opts.scorer(body, signal));
        if (!out.success) throw new HttpError(500, 'scorer-invalid', 'the scorer did not return a finite numeric "score"');
        sendJson(res, 200, out.data);
      },
    },
    {
      method: 'POST',
      path: /^\/v1\/score\/openrlhf$/,
      name: 'score-openrlhf',
      queryToken: true,
      handle: async ({ req, res, signal }) => {
        if (opts.openrlhfScorer === undefined) {
          req.resume();
          throw new HttpError(501, 'not-implemented', 'no OpenRLHF scorer is configured on this exchange server');
        }
        const body = await readJsonBody(req, maxBodyBytes, OpenRlhfRequestSchema);
        const out = OpenRlhfResultSchema.safeParse(await opts.openrlhfScorer(body, signal));
        const n = body.query.length;
        if (!out.success || out.data.rewards.length !== n || (out.data.scores !== undefined && out.data.scores.length !== n)) {
          throw new HttpError(500, 'scorer-invalid', `the OpenRLHF scorer must return ${n} rewards (and scores, if any)`);
        }
        // OpenRLHF filters on `scores`, which default to the rewards (trainer-contract.md §2).
        sendJson(res, 200, { rewards: out.data.rewards, scores: out.data.scores ?? out.data.rewards, extra_logs: out.data.extra_logs ?? {} });
      },
    },
  ];

  async function dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let routeName = 'unknown';
    const reqAbort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) reqAbort.abort();
    });
    try {
      // Inside the try: a target the URL parser rejects is the client's mistake, answered with a 400 (auth is not asked first:
      // there is no path to decide which token rules apply).
      const url = parseTarget(req.url ?? '');
      if (url === null) {
        req.resume();
        throw new HttpError(400, 'invalid-target', 'the request target is not a path on this server');
      }
      // Node keeps the first of several Authorization headers; which one a proxy meant is unknowable, so none is trusted.
      if (req.rawHeaders.filter((h, i) => i % 2 === 0 && h.toLowerCase() === 'authorization').length > 1) {
        req.resume();
        throw new HttpError(400, 'invalid-header', 'more than one Authorization header');
      }
      const onPath = routes.filter((r) => r.path.test(url.pathname));
      if (opts.token !== undefined && !bearerMatches(req.headers.authorization, opts.token)) {
        const inQuery = url.searchParams.get('token');
        const queryOk = inQuery !== null && onPath.some((r) => r.queryToken === true) && tokenMatches(inQuery, opts.token);
        if (!queryOk) {
          req.resume();
          throw new HttpError(401, 'unauthorized', 'missing or wrong bearer token');
        }
      }
      if (onPath.length === 0) {
        req.resume();
        throw new HttpError(404, 'not-found', `no endpoint ${url.pathname}`);
      }
      const route = onPath.find((r) => r.method === req.method);
      if (route === undefined) {
        req.resume();
        const allow = onPath.map((r) => r.method).join(', ');
        sendError(res, 405, 'method-not-allowed', `${url.pathname} accepts ${allow}`, { allow });
        return;
      }
      routeName = route.name;
      const params = (route.path.exec(url.pathname) ?? []).slice(1);
      await route.handle({ req, res, url, params, signal: AbortSignal.any([reqAbort.signal, closing.signal]) });
    } catch (e) {
      if (e instanceof HttpError) {
        const headers: Record<string, string> = e.status === 401 ? { 'www-authenticate': 'Bearer' } : {};
        // After a 413 the rest of the body is unread; closing the connection stops the client from sending it.
        if (e.status === 413) headers.connection = 'close';
        sendError(res, e.status, e.code, e.message, headers);
        return;
      }
      if (isExchangeError(e)) {
        const status = STATUS_OF[e.reason];
        if (status >= 500) report(e, routeName);
        sendError(res, status, e.reason, e.message);
        return;
      }
      report(e, routeName);
      sendError(res, 500, 'internal', e instanceof Error ? e.message : 'internal error');
    }
  }

  const server = createServer((req, res) => {
    dispatch(req, res).catch((e: unknown) => {
      // dispatch answers every request error itself; this is a failure while answering (e.g. writing to a dead socket).
      // It ends this request only: an unhandled rejection here would end the whole orchestrator.
      report(e, 'dispatch');
      try {
        if (res.headersSent) res.destroy();
        else sendError(res, 500, 'internal', 'internal error');
      } catch {
        res.destroy();
      }
    });
  });
  // Requests Node cannot parse (bad method, Content-Length or chunking, oversized headers) never reach dispatch; answer them
  // in JSON like every other error. A socket already answering a request is only closed, so no reply is corrupted.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (err.code === 'ECONNRESET' || (inFlight !== undefined && inFlight !== null && inFlight.headersSent)) {
      socket.destroy();
      return;
    }
    const status = CLIENT_ERROR_STATUS[err.code ?? ''] ?? 400;
    rawError(socket, status, 'bad-request', `the request could not be parsed (${err.code ?? 'unknown'})`);
  });
  // Without a listener Node drops a CONNECT without a word; this server tunnels nothing.
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => rawError(socket, 405, 'method-not-allowed', 'CONNECT is not supported'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // After listen, a server 'error' (e.g. EMFILE on accept) with no listener would be thrown and end the process.
  server.on('error', (e) => report(e, 'server'));
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    close: async () => {
      closing.abort();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // Long-polls answer 503 within a poll interval; whatever is still open after the grace period (a slow scorer) is cut.
        const grace = setTimeout(() => server.closeAllConnections(), Math.max(500, pollMs * 2));
        grace.unref();
        server.once('close', () => clearTimeout(grace));
      });
    },
  };
}
