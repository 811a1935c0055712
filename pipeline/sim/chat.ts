// POST /v1/chat/completions: validation, faults, the FIFO concurrency cap, latency, and the reply itself.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { Rng } from '../random.ts';
import { generate } from './completion.ts';
import { retryAfterHeaders, rollFault, type Fault } from './faults.ts';
import { BodyTooLargeError, errorBody, keepAlive, readBody, sendJson, sendJsonText, write, type ApiError } from './http.ts';
import type { FifoGate } from './limiter.ts';
import { resolveModel, type ResolvedModel } from './models.ts';
import type { SimOptions } from './options.ts';
import { bodyHash, ChatRequestSchema, promptMessages, sampleHash, type ChatRequest } from './request.ts';
import type { StatsRecorder } from './stats.ts';
import type { TaskIndex } from './task-index.ts';
import { completionBody, streamEvents, type ReplyMeta } from './wire.ts';

/** Meta-prompts carry whole workflows and logs; this is far above them and far below trouble. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

export interface ChatContext {
  options: SimOptions;
  tasks: TaskIndex;
  stats: StatsRecorder;
  gate: FifoGate;
  /** The next injected fault, if any are queued. */
  takeInjectedFault(): Fault | undefined;
}

/** Answers one request. `signal` fires when the client goes away or the server closes; waits then stop. */
export async function handleChat(ctx: ChatContext, req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
  const { options, stats } = ctx;
  const reject = (e: ApiError, headers: Record<string, string> = {}): void => {
    stats.status(e.status);
    sendJson(res, e.status, errorBody(e), headers);
  };

  let raw: string;
  try {
    raw = await readBody(req, MAX_BODY_BYTES);
  } catch (e) {
    if (!(e instanceof BodyTooLargeError)) throw e;
    reject({ status: 413, message: e.message, type: 'invalid_request_error', code: 'request_too_large' }, { connection: 'close' });
    return;
  }
  const checked = validate(raw, options);
  if ('status' in checked) {
    reject(checked);
    return;
  }
  const { body, request, model } = checked;
  stats.model(request.model);

  const hash = bodyHash(body);
  const occurrence = stats.observeBody(hash);
  const fault = ctx.takeInjectedFault() ?? rollFault(options.faults, options.seed, hash, occurrence);
  if (fault) stats.fault(fault.kind);
  if (fault?.kind === '429') {
    reject(
      { status: 429, message: 'Rate limit reached for requests; retry after the indicated delay.', type: 'rate_limit_error', code: 'rate_limit_exceeded' },
      retryAfterHeaders(fault, options.faults.rateLimit.retryAfterMs),
    );
    return;
  }
  if (fault?.kind === '500') {
    reject({ status: 500, message: 'The simulated server had an internal error.', type: 'server_error', code: 'internal_error' });
    return;
  }
  // A hang is silent and holds no slot: the request stays open until the client gives up or close() ends it.
  if (fault?.kind === 'hang') return;

  const messages = promptMessages(request);
  const sample = sampleHash(request);
  const meta: ReplyMeta = {
    id: `chatcmpl-sim-${hash.slice(0, 12)}-${occurrence}`,
    created: Math.floor(Date.now() / 1000),
    model: request.model,
    format: model.reasoningFormat,
    systemFingerprint: `fp_sim_${options.seed}`,
  };
  const streaming = request.stream === true;
  let stopKeepAlive: () => void;
  if (streaming) {
    stats.status(200);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.flushHeaders();
    stopKeepAlive = keepAlive(res, 'sse', options.keepAliveMs, () => {});
  } else {
    stopKeepAlive = keepAlive(res, 'json', options.keepAliveMs, () => stats.status(200));
  }

  let release: (() => void) | undefined;
  try {
    release = await ctx.gate.acquire(signal);
    stats.running(ctx.gate.running);
    const gen = generate({
      req: request,
      messages,
      model,
      seed: options.seed,
      sampleHash: sample,
      fault: fault?.kind,
      tasks: ctx.tasks,
      accuracy: options.worker.accuracy,
    });
    const { fixedMs, perTokenMs, jitterMs } = options.latency;
    const firstTokenMs = fixedMs + new Rng('latency', options.seed, hash, occurrence).next() * jitterMs;
    if (!streaming) {
      // Choices decode in parallel, so the longest one sets the time.
      const longest = Math.max(0, ...gen.choices.map((c) => c.tokens.length));
      await pause(firstTokenMs + perTokenMs * longest, signal);
      stopKeepAlive();
      const text = JSON.stringify(completionBody(gen, meta));
      if (res.headersSent) res.end(text);
      else {
        stats.status(200);
        sendJsonText(res, 200, text);
      }
      stats.complete();
      return;
    }
    await pause(firstTokenMs, signal);
    stopKeepAlive();
    const events = streamEvents(gen, meta, { includeUsage: request.stream_options?.include_usage === true }, new Rng('chunks', options.seed, sample));
    for (const event of events) {
      await pause(perTokenMs * event.tokens, signal);
      await write(res, `data: ${JSON.stringify(event.data)}\n\n`, signal);
    }
    res.end('data: [DONE]\n\n');
    stats.complete();
  } finally {
    stopKeepAlive();
    release?.();
  }
}

/** The body parsed and checked, or the 400/404 a real server would answer. */
function validate(raw: string, options: SimOptions): { body: unknown; request: ChatRequest; model: ResolvedModel } | ApiError {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    // Answered, not swallowed: a client that sends broken JSON gets the same 400 a real server sends.
    return { status: 400, message: 'The request body is not valid JSON.', type: 'invalid_request_error', code: 'invalid_json' };
  }
  const parsed = ChatRequestSchema.safeParse(body);
  if (!parsed.success) {
    const param = parsed.error.issues[0]?.path.join('.') || null;
    return { status: 400, message: `Invalid request: ${z.prettifyError(parsed.error)}`, type: 'invalid_request_error', code: 'invalid_request', param };
  }
  const model = resolveModel(parsed.data.model, options.models);
  if (!model) {
    return {
      status: 404,
      message: `The model \`${parsed.data.model}\` does not exist.`,
      type: 'invalid_request_error',
      code: 'model_not_found',
      param: 'model',
    };
  }
  return { body, request: parsed.data, model };
}

async function pause(ms: number, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  if (ms > 0) await sleep(ms, undefined, { signal });
}
