// The simulated model server over real HTTP with the real openai client: wire format, determinism, faults, limits.
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { isPipelineError } from '../pipeline/errors.ts';
import { SimOptionsSchema } from '../pipeline/sim/options.ts';
import { startSimServer, type SimServer } from '../pipeline/sim/server.ts';
import type { SimOptionsInput } from '../pipeline/sim/options.ts';
import { parsesAsPython, tag, tinyIndex } from './sim.fixtures.ts';

type Params = OpenAI.Chat.ChatCompletionCreateParamsNonStreaming;
type StreamParams = OpenAI.Chat.ChatCompletionCreateParamsStreaming;
type Logprob = OpenAI.Chat.ChatCompletionTokenLogprob;

/** The reply fields a plain ChatCompletion type does not know: reasoning channels and vLLM token ids. */
interface SimChoice {
  index: number;
  message: { role: string; content: string | null; reasoning_content?: string; reasoning?: string };
  finish_reason: string;
  logprobs: { content: Logprob[] } | null;
  token_ids?: number[];
}
interface SimCompletion {
  id: string;
  choices: SimChoice[];
  usage: OpenAI.CompletionUsage;
  prompt_token_ids?: number[];
}
interface SimChunk {
  choices: Array<{
    index: number;
    delta: { role?: string; content?: string; reasoning_content?: string; reasoning?: string };
    finish_reason: string | null;
    logprobs?: { content: Logprob[] } | null;
    token_ids?: number[];
  }>;
  usage?: OpenAI.CompletionUsage | null;
  prompt_token_ids?: number[];
}

const servers: SimServer[] = [];
async function sim(opts: SimOptionsInput = {}): Promise<SimServer> {
  const s = await startSimServer({ port: 0, ...opts }, { tasks: tinyIndex() });
  servers.push(s);
  return s;
}
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

function client(s: SimServer): OpenAI {
  return new OpenAI({ baseURL: s.url, apiKey: 'sim', maxRetries: 0 });
}

// The extra fields (return_token_ids, top-level reasoning) are real wire fields the typed client just passes on.
async function complete(c: OpenAI, params: Record<string, unknown>, options?: OpenAI.RequestOptions): Promise<SimCompletion> {
  return (await c.chat.completions.create(params as unknown as Params, options)) as unknown as SimCompletion;
}

async function chunks(c: OpenAI, params: Record<string, unknown>): Promise<SimChunk[]> {
  const stream = await c.chat.completions.create({ ...params, stream: true } as unknown as StreamParams);
  const out: SimChunk[] = [];
  for await (const chunk of stream) out.push(chunk as unknown as SimChunk);
  return out;
}

/** Rebuilds each choice from its deltas, the way a streaming client does. */
function assemble(all: SimChunk[]) {
  const byIndex = new Map<number, { content: string; reasoning: string; tokenIds: number[]; logprobs: Logprob[]; finish: string | null }>();
  for (const chunk of all) {
    for (const c of chunk.choices) {
      const acc = byIndex.get(c.index) ?? { content: '', reasoning: '', tokenIds: [], logprobs: [], finish: null };
      acc.content += c.delta.content ?? '';
      acc.reasoning += c.delta.reasoning_content ?? c.delta.reasoning ?? '';
      acc.tokenIds.push(...(c.token_ids ?? []));
      acc.logprobs.push(...(c.logprobs?.content ?? []));
      acc.finish = c.finish_reason ?? acc.finish;
      byIndex.set(c.index, acc);
    }
  }
  return byIndex;
}

async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
}

const META = 'sim-meta-agent';
const WORKER = 'sim-worker';
const ask = (text: string) => [{ role: 'user', content: text }];
const QUERY = ask('Design a workflow for this task:\ndef is_sorted(xs):\n    """True when xs is in non-decreasing order."""\n');

describe('options', () => {
  it('fills every default from an empty object and rejects unknown keys', async () => {
    const o = SimOptionsSchema.parse({});
    expect(o).toMatchObject({ host: '127.0.0.1', port: 8399, seed: 0, maxConcurrency: 256, keepAliveMs: 15000, models: {} });
    expect(o.latency).toEqual({ fixedMs: 0, perTokenMs: 0, jitterMs: 0 });
    expect(o.worker.accuracy).toBe(0.8);
    expect(o.faults.rateLimit).toEqual({ p: 0, retryAfterMs: 200 });
    expect(o.faults.malformedWorkflow.p).toBe(0);
    expect(SimOptionsSchema.safeParse({ latency: { fixedMS: 3 } }).success).toBe(false);
    const err = await startSimServer({ port: 0, bogus: 1 } as SimOptionsInput).catch((e: unknown) => e);
    expect(isPipelineError(err, 'config-invalid')).toBe(true);
  });
});

describe('endpoints', () => {
  it('lists configured and default models at /v1/models', async () => {
    const s = await sim({ models: { 'my-teacher': { role: 'meta-agent' } } });
    const ids = [];
    for await (const m of client(s).models.list()) ids.push(m.id);
    expect(ids).toEqual(expect.arrayContaining(['my-teacher', META, WORKER]));
  });

  it('serves /health, /sim/stats and /sim/reset', async () => {
    const s = await sim();
    const base = s.url.replace(/\/v1$/, '');
    expect(await (await fetch(`${base}/health`)).json()).toEqual({ status: 'ok' });
    await complete(client(s), { model: WORKER, messages: ask('hi') });
    const stats = (await (await fetch(`${base}/sim/stats`)).json()) as { requests: number };
    expect(stats.requests).toBe(1);
    expect((await fetch(`${base}/sim/reset`, { method: 'POST' })).status).toBe(200);
    expect(s.stats().requests).toBe(0);
  });

  it('answers bad requests in OpenAI error shape: invalid JSON, missing messages, unknown model, unknown path', async () => {
    const s = await sim();
    const bad = await fetch(`${s.url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{nope' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'invalid_json' } });

    const noMessages = await complete(client(s), { model: WORKER }).catch((e: unknown) => e);
    expect(noMessages).toBeInstanceOf(OpenAI.BadRequestError);
    expect((noMessages as InstanceType<typeof OpenAI.BadRequestError>).message).toContain('messages');

    const unknown = await complete(client(s), { model: 'gpt-nothing', messages: ask('x') }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    expect((unknown as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found');

    const path = await fetch(`${s.url}/embeddings`, { method: 'POST', body: '{}' });
    expect(path.status).toBe(404);
    expect(await path.json()).toMatchObject({ error: { code: 'not_found' } });
  });

  it('can queue faults over HTTP for a simulator in another process', async () => {
    const s = await sim();
    const base = s.url.replace(/\/v1$/, '');
    const r = await fetch(`${base}/sim/faults`, { method: 'POST', body: JSON.stringify({ faults: [{ kind: '500' }] }) });
    expect(await r.json()).toEqual({ queued: 1 });
    await expect(complete(client(s), { model: WORKER, messages: ask('x') })).rejects.toBeInstanceOf(OpenAI.InternalServerError);
    expect((await fetch(`${base}/sim/faults`, { method: 'POST', body: JSON.stringify({ faults: [{ kind: 'oops' }] }) })).status).toBe(400);
  });
});

describe('replies', () => {
  it('gives the same text, reasoning and usage streamed and not streamed', async () => {
    const s = await sim();
    const c = client(s);
    const params = { model: META, messages: QUERY, seed: 5 };
    const plain = await complete(c, params);
    const all = await chunks(c, { ...params, stream_options: { include_usage: true } });
    const streamed = assemble(all).get(0)!;
    const choice = plain.choices[0]!;
    expect(streamed.content).toBe(choice.message.content);
    expect(streamed.reasoning).toBe(choice.message.reasoning_content);
    expect(streamed.finish).toBe('stop');
    expect(all[0]!.choices[0]!.delta.role).toBe('assistant');
    const usageChunk = all.at(-1)!;
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage).toEqual(plain.usage);
  });

  it('is deterministic per request and seed, and a different seed gives a different sample', async () => {
    const s = await sim({ seed: 7 });
    const again = await sim({ seed: 7 });
    const other = await sim({ seed: 8 });
    const params = { model: META, messages: QUERY, seed: 1 };
    const a = await complete(client(s), params);
    const b = await complete(client(s), params);
    const c = await complete(client(again), params);
    expect(b.choices).toEqual(a.choices);
    expect(c.choices).toEqual(a.choices);
    const texts = new Set<string>();
    for (let seed = 0; seed < 4; seed++) {
      const r = await complete(client(s), { ...params, seed });
      texts.add(`${r.choices[0]!.message.reasoning_content}\n${r.choices[0]!.message.content}`);
    }
    expect(texts.size).toBeGreaterThan(1);
    const d = await complete(client(other), params);
    expect(d.choices[0]!.message).not.toEqual(a.choices[0]!.message);
  });

  it('returns n distinct choices, the same ones when streamed, interleaved by index', async () => {
    const s = await sim();
    const c = client(s);
    const params = { model: META, messages: QUERY, n: 4, seed: 3 };
    const r = await complete(c, params);
    expect(r.choices.map((ch) => ch.index)).toEqual([0, 1, 2, 3]);
    expect(new Set(r.choices.map((ch) => `${ch.message.reasoning_content}|${ch.message.content}`)).size).toBe(4);
    const all = await chunks(c, params);
    const streamed = assemble(all);
    for (const ch of r.choices) expect(streamed.get(ch.index)?.content).toBe(ch.message.content);
    // Interleaved: the content chunks do not come one choice after another.
    const order = all.flatMap((chunk) => chunk.choices.filter((x) => x.delta.content).map((x) => x.index));
    const firstOfLast = order.indexOf(3);
    expect(order.slice(firstOfLast).some((i) => i !== 3)).toBe(true);
  });

  it('keeps usage, token ids and logprobs consistent, reasoning included', async () => {
    const s = await sim();
    const c = client(s);
    const params = { model: META, messages: QUERY, n: 2, logprobs: true, top_logprobs: 3, return_token_ids: true };
    const r = await complete(c, params);
    let ids = 0;
    for (const ch of r.choices) {
      const lp = ch.logprobs!.content;
      expect(ch.token_ids!.length).toBe(lp.length);
      // The logprob tokens spell out exactly the reasoning and then the content.
      expect(lp.map((t) => t.token).join('')).toBe(`${ch.message.reasoning_content}${ch.message.content}`);
      for (const t of lp) {
        expect(t.top_logprobs).toHaveLength(3);
        expect(t.top_logprobs[0]!.logprob).toBeGreaterThanOrEqual(t.top_logprobs[2]!.logprob);
        expect(t.logprob).toBeLessThan(0);
        expect(Buffer.from(t.bytes!).toString('utf8')).toBe(t.token);
      }
      ids += ch.token_ids!.length;
    }
    expect(r.usage.completion_tokens).toBe(ids);
    expect(r.usage.total_tokens).toBe(r.usage.prompt_tokens + r.usage.completion_tokens);
    expect(r.usage.completion_tokens_details?.reasoning_tokens).toBeGreaterThan(0);
    expect(r.usage.completion_tokens_details!.reasoning_tokens!).toBeLessThan(r.usage.completion_tokens);
    expect(r.prompt_token_ids).toHaveLength(r.usage.prompt_tokens);

    const streamed = assemble(await chunks(c, params));
    for (const ch of r.choices) {
      expect(streamed.get(ch.index)!.tokenIds).toEqual(ch.token_ids);
      expect(streamed.get(ch.index)!.logprobs).toEqual(ch.logprobs!.content);
    }
  });

  it('cuts at max_tokens with finish_reason length, reasoning first', async () => {
    const s = await sim();
    const c = client(s);
    const full = await complete(c, { model: META, messages: QUERY, return_token_ids: true });
    const fullChoice = full.choices[0]!;
    const reasoningTokens = full.usage.completion_tokens_details!.reasoning_tokens!;

    const cut = await complete(c, { model: META, messages: QUERY, max_tokens: reasoningTokens + 7, return_token_ids: true });
    const cutChoice = cut.choices[0]!;
    expect(cutChoice.finish_reason).toBe('length');
    expect(cut.usage.completion_tokens).toBe(reasoningTokens + 7);
    expect(cutChoice.token_ids).toEqual(fullChoice.token_ids!.slice(0, reasoningTokens + 7));
    expect(fullChoice.message.content!.startsWith(cutChoice.message.content!)).toBe(true);
    expect(cutChoice.message.content!.length).toBeGreaterThan(0);

    const onlyThinking = await complete(c, { model: META, messages: QUERY, max_completion_tokens: 5 });
    expect(onlyThinking.choices[0]!.finish_reason).toBe('length');
    expect(onlyThinking.choices[0]!.message.content).toBe('');
    expect(fullChoice.message.reasoning_content!.startsWith(onlyThinking.choices[0]!.message.reasoning_content!)).toBe(true);
    expect(onlyThinking.usage.completion_tokens_details?.reasoning_tokens).toBe(5);
  });

  it('puts reasoning where each format says', async () => {
    const s = await sim({
      models: {
        'r-content': { role: 'meta-agent', reasoningFormat: 'reasoning_content' },
        'r-field': { role: 'meta-agent', reasoningFormat: 'reasoning' },
        'r-tags': { role: 'meta-agent', reasoningFormat: 'think-tags' },
        'r-none': { role: 'meta-agent', reasoningFormat: 'none' },
      },
    });
    const c = client(s);
    const get = async (model: string) => (await complete(c, { model, messages: QUERY, return_token_ids: true })).choices[0]!;

    const content = await get('r-content');
    expect(content.message.reasoning_content).toMatch(/is_sorted/);
    expect(content.message.reasoning).toBeUndefined();
    expect(content.message.content).toMatch(/^<modification>/);

    // Each model name samples on its own, so the formats are compared by shape, not by text.
    const field = await get('r-field');
    expect(field.message.reasoning).toMatch(/is_sorted/);
    expect(field.message.reasoning_content).toBeUndefined();
    expect(field.message.content).toMatch(/^<modification>/);

    const tags = await complete(c, { model: 'r-tags', messages: QUERY });
    const tagged = tags.choices[0]!.message;
    expect(tagged.content).toMatch(/^<think>\n[^<]*is_sorted[^<]*\n<\/think>\n\n<modification>/);
    expect(tagged.reasoning_content).toBeUndefined();
    expect(tagged.reasoning).toBeUndefined();
    expect(tags.usage.completion_tokens_details?.reasoning_tokens).toBeGreaterThan(0);

    const none = await complete(c, { model: 'r-none', messages: QUERY });
    expect(none.choices[0]!.message.content).toMatch(/^<modification>/);
    expect(none.choices[0]!.message.reasoning_content).toBeUndefined();
    expect(none.usage.completion_tokens_details?.reasoning_tokens).toBe(0);

    const streamed = assemble(await chunks(c, { model: 'r-field', messages: QUERY })).get(0)!;
    expect(streamed.reasoning).toBe(field.message.reasoning);
  });

  it('keeps a slow reply alive with blank lines (JSON) and SSE comments (stream) that clients ignore', async () => {
    const s = await sim({ keepAliveMs: 10, latency: { fixedMs: 80 } });
    const body = { model: WORKER, messages: ask('def is_sorted(xs):') };
    const raw = await fetch(`${s.url}/chat/completions`, { method: 'POST', body: JSON.stringify(body) });
    const text = await raw.text();
    expect(text.startsWith('\n')).toBe(true);
    expect(JSON.parse(text)).toMatchObject({ object: 'chat.completion' });
    const viaClient = await complete(client(s), body);
    expect(viaClient.choices[0]!.message.content).toContain('def is_sorted');

    const sse = await (await fetch(`${s.url}/chat/completions`, { method: 'POST', body: JSON.stringify({ ...body, stream: true }) })).text();
    expect(sse.startsWith(': keep-alive\n\n')).toBe(true);
    expect(sse.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(assemble(await chunks(client(s), body)).get(0)!.content).toBe(viaClient.choices[0]!.message.content);
  });
});

describe('faults', () => {
  it('429 carries both retry-after headers', async () => {
    const s = await sim();
    s.injectFaults([{ kind: '429', retryAfterMs: 1500 }, { kind: '429', retryAfterS: 3 }]);
    const first = await complete(client(s), { model: WORKER, messages: ask('a') }).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(OpenAI.RateLimitError);
    const headers = (first as InstanceType<typeof OpenAI.RateLimitError>).headers;
    expect(headers.get('retry-after-ms')).toBe('1500');
    expect(headers.get('retry-after')).toBe('2');
    const second = (await complete(client(s), { model: WORKER, messages: ask('a') }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.RateLimitError>;
    expect(second.headers.get('retry-after')).toBe('3');
    expect(second.headers.get('retry-after-ms')).toBe('3000');
    // The queue is used up: the identical request now succeeds.
    expect((await complete(client(s), { model: WORKER, messages: ask('a') })).choices).toHaveLength(1);
    expect(s.stats().byStatus).toEqual({ '429': 2, '200': 1 });
  });

  it('500 is a server error', async () => {
    const s = await sim();
    s.injectFaults([{ kind: '500' }]);
    await expect(complete(client(s), { model: WORKER, messages: ask('b') })).rejects.toBeInstanceOf(OpenAI.InternalServerError);
    expect(s.stats().byFault).toEqual({ '500': 1 });
  });

  it('hang never answers until the client aborts', async () => {
    const s = await sim();
    s.injectFaults([{ kind: 'hang' }]);
    const controller = new AbortController();
    const pending = complete(client(s), { model: WORKER, messages: ask('c') }, { signal: controller.signal });
    await waitFor(() => s.stats().inFlight === 1);
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(OpenAI.APIUserAbortError);
    await waitFor(() => s.stats().inFlight === 0);
    expect(s.stats()).toMatchObject({ aborted: 1, completed: 0, byStatus: {} });
  });

  it('truncate cuts the reply with finish_reason length; empty gives "" with stop', async () => {
    const s = await sim();
    const c = client(s);
    const params = { model: WORKER, messages: ask('Please write:\ndef is_sorted(xs):') };
    const whole = await complete(c, params);
    s.injectFaults([{ kind: 'truncate' }, { kind: 'empty' }]);
    const cut = await complete(c, params);
    expect(cut.choices[0]!.finish_reason).toBe('length');
    expect(cut.usage.completion_tokens).toBeLessThan(whole.usage.completion_tokens);
    expect(whole.choices[0]!.message.content!.startsWith(cut.choices[0]!.message.content!)).toBe(true);
    const empty = await complete(c, params);
    expect(empty.choices[0]!.message.content).toBe('');
    expect(empty.choices[0]!.finish_reason).toBe('stop');
    expect(empty.usage.completion_tokens).toBe(0);
  });

  it('malformed-workflow breaks a meta-agent reply and leaves a worker reply alone', async () => {
    const s = await sim();
    const c = client(s);
    const params = { model: META, messages: QUERY };
    const good = (await complete(c, params)).choices[0]!.message.content!;
    s.injectFaults([{ kind: 'malformed-workflow' }, { kind: 'malformed-workflow' }]);
    const broken = (await complete(c, params)).choices[0]!.message.content!;
    expect(broken).not.toBe(good);
    const graph = tag(broken, 'graph');
    const prompt = tag(broken, 'prompt') ?? '';
    const undefinedPrompt = [...(graph ?? '').matchAll(/prompt_custom\.(\w+)/g)].some((m) => !prompt.includes(`${m[1]} =`));
    const brokenWays = [graph === undefined, graph !== undefined && !parsesAsPython(graph), broken.includes('operator.Telepathy('), undefinedPrompt];
    expect(brokenWays.filter(Boolean)).toHaveLength(1);

    const workerParams = { model: WORKER, messages: ask('def is_sorted(xs):') };
    const workerBroken = await complete(c, workerParams);
    expect(workerBroken.choices[0]!.message.content).toBe((await complete(c, workerParams)).choices[0]!.message.content);
  });

  it('rolls probabilistic faults reproducibly per body and occurrence, so a retry can succeed', async () => {
    const faults = { rateLimit: { p: 0.25, retryAfterMs: 10 }, serverError: { p: 0.25 } };
    const run = async (): Promise<number[]> => {
      const s = await sim({ seed: 42, faults });
      const c = client(s);
      const statuses: number[] = [];
      for (let i = 0; i < 30; i++) {
        // Every body is sent three times, as a retrying client would.
        const status = await complete(c, { model: WORKER, messages: ask(`q${i % 10}`) }).then(
          () => 200,
          (e: unknown) => (e instanceof OpenAI.APIError ? (e.status ?? -1) : -1),
        );
        statuses.push(status);
      }
      return statuses;
    };
    const first = await run();
    expect(await run()).toEqual(first);
    expect(first.filter((x) => x === 429).length).toBeGreaterThan(0);
    expect(first.filter((x) => x === 500).length).toBeGreaterThan(0);
    expect(first.filter((x) => x === 200).length).toBeGreaterThan(0);
    // Some body failed once and then succeeded when sent again.
    const recovered = Array.from({ length: 10 }, (_, q) => [first[q], first[q + 10], first[q + 20]]).some(
      ([a, b, c]) => a !== 200 && (b === 200 || c === 200),
    );
    expect(recovered).toBe(true);
  });
});

describe('limits and stats', () => {
  it('runs at most maxConcurrency at once and queues the rest FIFO, while counting all six in flight', async () => {
    const s = await sim({ maxConcurrency: 2, latency: { fixedMs: 40 } });
    const c = client(s);
    const finished: number[] = [];
    const all: Array<Promise<number>> = [];
    for (let i = 0; i < 6; i++) {
      all.push(complete(c, { model: WORKER, messages: ask(`job ${i}`) }).then(() => finished.push(i)));
      // Each waits until the previous one has arrived, so arrival order is known and FIFO can be checked.
      await waitFor(() => s.stats().requests === i + 1);
    }
    await waitFor(() => s.stats().queued === 4);
    await Promise.all(all);
    const st = s.stats();
    expect(st.maxRunning).toBe(2);
    expect(st.maxInFlight).toBe(6);
    expect(st.completed).toBe(6);
    expect(st.running).toBe(0);
    expect(st.queued).toBe(0);
    // Each pair finishes before the next pair starts.
    expect(finished.slice(0, 2).sort()).toEqual([0, 1]);
    expect(finished.slice(4).sort()).toEqual([4, 5]);
  });

  it('counts distinct and duplicate bodies, and resetStats clears the counters', async () => {
    const s = await sim();
    const c = client(s);
    await complete(c, { model: WORKER, messages: ask('same') });
    await complete(c, { model: WORKER, messages: ask('same') });
    await complete(c, { messages: ask('same'), model: WORKER });
    await complete(c, { model: WORKER, messages: ask('other') });
    expect(s.stats()).toMatchObject({ requests: 4, completed: 4, distinctRequests: 2, duplicateRequests: 2, byModel: { [WORKER]: 4 } });
    s.resetStats();
    expect(s.stats()).toMatchObject({ requests: 0, completed: 0, distinctRequests: 0, duplicateRequests: 0, byModel: {}, byStatus: {} });
  });

  it('close() returns promptly while a request hangs, and ends that connection', async () => {
    const s = await startSimServer({ port: 0 });
    s.injectFaults([{ kind: 'hang' }]);
    const pending = complete(client(s), { model: WORKER, messages: ask('stuck') }).catch((e: unknown) => e);
    await waitFor(() => s.stats().inFlight === 1);
    const closed = await Promise.race([s.close().then(() => 'closed'), new Promise((r) => setTimeout(() => r('still open'), 5000))]);
    expect(closed).toBe('closed');
    expect(await pending).toBeInstanceOf(OpenAI.APIConnectionError);
  });
});
