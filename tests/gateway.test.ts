// The model gateway against the simulator over real HTTP: retries, failover, caps, cache, budgets, reply errors, capture, journal.
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { Gateway } from '../pipeline/gateway/gateway.ts';
import { Journal, readAll } from '../pipeline/store/journal.ts';
import type { CallRecord } from '../pipeline/gateway/types.ts';
import { startSimServer, type SimServer } from '../pipeline/sim/server.ts';
import { gatewayBurst } from '../pipeline/bench/gateway-burst.ts';
import { endpoint, fastBackoff } from './helpers/gateway.ts';
import { tmpDir } from './helpers/tmp.ts';

const servers: SimServer[] = [];
async function sim(opts: Parameters<typeof startSimServer>[0] = {}): Promise<SimServer> {
  const s = await startSimServer({ port: 0, ...opts });
  servers.push(s);
  return s;
}
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

const ask = (text: string) => [{ role: 'user' as const, content: text }];

describe('retries', () => {
  it('honours retry-after on 429 instead of its own (much longer) backoff', async () => {
    const s = await sim();
    const g = new Gateway({ models: { worker: endpoint({ baseUrl: s.url, model: 'sim-worker', limits: { backoff: { initialMs: 600_000, maxMs: 600_000 } } }) } });
    s.injectFaults([{ kind: '429', retryAfterMs: 250 }]);
    const t0 = performance.now();
    const r = await g.chat({ role: 'worker', messages: ask('write def f(): pass') });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(240);
    expect(r.attempts).toBe(2);
    expect(s.stats().byStatus['429']).toBe(1);
    expect(g.report().errors['retried:rate-limited']).toBe(1);
  });

  it('retries 500s with backoff and gives up after maxRetries with a typed error', async () => {
    const s = await sim();
    const g = new Gateway({ models: { worker: endpoint({ baseUrl: s.url, model: 'sim-worker', limits: { maxRetries: 2, backoff: fastBackoff } }) } });
    s.injectFaults([{ kind: '500' }, { kind: '500' }]);
    const ok = await g.chat({ role: 'worker', messages: ask('one') });
    expect(ok.attempts).toBe(3);
    s.injectFaults([{ kind: '500' }, { kind: '500' }, { kind: '500' }]);
    await expect(g.chat({ role: 'worker', messages: ask('two') })).rejects.toMatchObject({ code: 'server-error' });
    expect(s.stats().byStatus['500']).toBe(5);
  });

  it('does not retry a 4xx that would fail again', async () => {
    const s = await sim();
    const g = new Gateway({ models: { worker: endpoint({ baseUrl: s.url, model: 'no-such-model', limits: { backoff: fastBackoff } }) } });
    await expect(g.chat({ role: 'worker', messages: ask('x') })).rejects.toMatchObject({ code: 'bad-request' });
    expect(s.stats().requests).toBe(1);
  });

  it('times out a hung request and retries it', async () => {
    const s = await sim();
    const g = new Gateway({ models: { worker: endpoint({ baseUrl: s.url, model: 'sim-worker', limits: { timeoutS: 0.5, backoff: fastBackoff } }) } });
    s.injectFaults([{ kind: 'hang' }]);
    const r = await g.chat({ role: 'worker', messages: ask('hang then answer') });
    expect(r.attempts).toBe(2);
    expect(g.report().errors['retried:timeout']).toBe(1);
  });
});

describe('failover and limits', () => {
  it('fails over from a dead base URL to a live one', async () => {
    const dead = await sim();
    const live = await sim();
    const deadUrl = dead.url;
    await dead.close();
    const g = new Gateway({ models: { worker: endpoint({ baseUrl: [deadUrl, live.url], model: 'sim-worker', limits: { concurrency: 4, backoff: fastBackoff, failoverCooldownS: 60 } }) } });
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => g.chat({ role: 'worker', messages: ask(`task ${i}`) })));
    expect(results).toHaveLength(12);
    expect(live.stats().completed).toBe(12);
    const pool = g.client('worker').poolSnapshot();
    expect(pool.find((t) => t.url === deadUrl)?.down).toBe(true);
    expect(pool.find((t) => t.url === live.url)?.served).toBe(12);
  });

  it('balances over two live base URLs by outstanding requests', async () => {
    const a = await sim({ latency: { fixedMs: 20 } });
    const b = await sim({ latency: { fixedMs: 20 } });
    const g = new Gateway({ models: { worker: endpoint({ baseUrl: [a.url, b.url], model: 'sim-worker', limits: { concurrency: 8 } }) } });
    await Promise.all(Array.from({ length: 40 }, (_, i) => g.chat({ role: 'worker', messages: ask(`t${i}`) })));
    expect(a.stats().completed + b.stats().completed).toBe(40);
    expect(Math.abs(a.stats().completed - b.stats().completed)).toBeLessThanOrEqual(8);
  });

  it('never exceeds the concurrency cap, measured at the server', async () => {
    const s = await sim({ latency: { fixedMs: 15 } });
    const g = new Gateway({ models: { worker: endpoint({ baseUrl: s.url, model: 'sim-worker', limits: { concurrency: 5 } }) } });
    await Promise.all(Array.from({ length: 60 }, (_, i) => g.chat({ role: 'worker', messages: ask(`c${i}`) })));
    // Never above the cap (under load the server may see fewer at once, never more).
    expect(s.stats().maxInFlight).toBeLessThanOrEqual(5);
    expect(s.stats().maxInFlight).toBeGreaterThan(1);
    expect(s.stats().completed).toBe(60);
  });

  it('keeps to requestsPerMinute over a sliding window', async () => {
    const s = await sim();
    const g = new Gateway({ models: { worker: endpoint({ baseUrl: s.url, model: 'sim-worker', limits: { requestsPerMinute: 3 } }) } });
    await Promise.all(Array.from({ length: 3 }, (_, i) => g.chat({ role: 'worker', messages: ask(`r${i}`) })));
    const fourth = g.chat({ role: 'worker', messages: ask('r3'), signal: AbortSignal.timeout(300) });
    await expect(fourth).rejects.toMatchObject({ code: 'aborted' });
    expect(s.stats().requests).toBe(3);
  });
});

describe('burst', () => {
  it('completes 2000 calls at concurrency 64 with the cap respected and no call lost or duplicated', async () => {
    const r = await gatewayBurst({ calls: 2000, concurrency: 64, latencyMs: 5 });
    expect(r.ok).toBe(2000);
    expect(r.mismatched).toBe(0);
    expect(r.distinctRequests).toBe(2000);
    expect(r.duplicateRequests).toBe(0);
    expect(r.serverMaxInFlight).toBeLessThanOrEqual(64);
    expect(r.gatewayMaxInFlight).toBe(64);
  });
});

describe('cache', () => {
  it('answers a repeated request from the cache, also from a fresh gateway (another process or a resumed run)', async () => {
    const s = await sim();
    const cacheDir = await tmpDir();
    const models = { worker: endpoint({ baseUrl: s.url, model: 'sim-worker' }) };
    const g1 = new Gateway({ models, cacheDir });
    const a = await g1.chat({ role: 'worker', messages: ask('cache me'), sampleIndex: 3 });
    const b = await g1.chat({ role: 'worker', messages: ask('cache me'), sampleIndex: 3 });
    expect(a.cacheHit).toBe(false);
    expect(b.cacheHit).toBe(true);
    expect(b.content).toBe(a.content);
    expect(b.spent).toBe(0);
    expect(b.cost).toBe(a.cost);
    const g2 = new Gateway({ models, cacheDir });
    expect((await g2.chat({ role: 'worker', messages: ask('cache me'), sampleIndex: 3 })).cacheHit).toBe(true);
    // Another sample index is another sample, and cache: false bypasses the cache.
    expect((await g2.chat({ role: 'worker', messages: ask('cache me'), sampleIndex: 4 })).cacheHit).toBe(false);
    expect((await g2.chat({ role: 'worker', messages: ask('cache me'), sampleIndex: 3, cache: false })).cacheHit).toBe(false);
    expect(s.stats().requests).toBe(3);
  });

  it('shares one request between identical concurrent calls', async () => {
    const s = await sim({ latency: { fixedMs: 30 } });
    const g = new Gateway({ models: { worker: endpoint({ baseUrl: s.url, model: 'sim-worker' }) }, cacheDir: await tmpDir() });
    const rs = await Promise.all(Array.from({ length: 5 }, () => g.chat({ role: 'worker', messages: ask('same') })));
    expect(new Set(rs.map((r) => r.content)).size).toBe(1);
    expect(s.stats().requests).toBe(1);
  });
});

describe('budgets and accounting', () => {
  it('prices tokens per role and stops new calls once the run budget is spent', async () => {
    const s = await sim();
    const g = new Gateway({
      models: { worker: endpoint({ baseUrl: s.url, model: 'sim-worker', price: { inputPerMTok: 1000, outputPerMTok: 1000 } }) },
      budget: { maxCostUsd: 0.5 },
    });
    let done = 0;
    let stopped: unknown;
    for (let i = 0; i < 50 && stopped === undefined; i++) {
      try {
        const r = await g.chat({ role: 'worker', messages: ask(`b${i}`), context: { stage: 'distill', queryId: `q${i % 2}` } });
        expect(r.cost).toBeCloseTo(((r.usage.promptTokens + r.usage.completionTokens) * 1000) / 1e6, 10);
        done++;
      } catch (e) {
        stopped = e;
      }
    }
    expect(stopped).toMatchObject({ code: 'budget-exceeded' });
    expect(done).toBeGreaterThan(0);
    const rep = g.report();
    expect(rep.total.cost).toBeGreaterThanOrEqual(0.5);
    expect(rep.byRole.worker!.calls).toBe(done + 1); // the refused call is counted as an error
    expect(rep.byStage.distill!.cost).toBeCloseTo(rep.total.cost, 10);
    expect(s.stats().requests).toBe(done);
  });

  it('stops one query at its per-query budget while others go on', async () => {
    const s = await sim();
    const g = new Gateway({ models: { worker: endpoint({ baseUrl: s.url, model: 'sim-worker', price: { inputPerMTok: 1000, outputPerMTok: 1000 } }) }, budget: { maxCostPerQueryUsd: 0.01 } });
    await g.chat({ role: 'worker', messages: ask('q1 first'), context: { queryId: 'q1' } });
    await expect(g.chat({ role: 'worker', messages: ask('q1 second'), context: { queryId: 'q1' } })).rejects.toMatchObject({ code: 'budget-exceeded' });
    await expect(g.chat({ role: 'worker', messages: ask('q2 first'), context: { queryId: 'q2' } })).resolves.toBeDefined();
  });
});

describe('reply errors', () => {
  it('retries a reply cut off by finish_reason=length and never returns it', async () => {
    const s = await sim();
    const g = new Gateway({ models: { worker: endpoint({ baseUrl: s.url, model: 'sim-worker' }) } });
    s.injectFaults([{ kind: 'truncate' }]);
    const r = await g.chat({ role: 'worker', messages: ask('long one') });
    expect(r.choices[0]!.finishReason).toBe('stop');
    expect(r.attempts).toBe(2);
    expect(g.report().errors['retried:reply-truncated']).toBe(1);
  });

  it('raises reply-truncated and reply-empty once the reply retries are spent', async () => {
    const s = await sim();
    const g = new Gateway({ models: { worker: endpoint({ baseUrl: s.url, model: 'sim-worker', limits: { maxReplyRetries: 0 } }) } });
    s.injectFaults([{ kind: 'truncate' }]);
    await expect(g.chat({ role: 'worker', messages: ask('a') })).rejects.toMatchObject({ code: 'reply-truncated' });
    s.injectFaults([{ kind: 'empty' }]);
    await expect(g.chat({ role: 'worker', messages: ask('b') })).rejects.toMatchObject({ code: 'reply-empty' });
    expect(g.report().errors).toMatchObject({ 'reply-truncated': 1, 'reply-empty': 1 });
  });

  it('treats a real max_tokens cut as an error, not an answer', async () => {
    const s = await sim();
    const g = new Gateway({ models: { teacher: endpoint({ baseUrl: s.url, model: 'sim-meta-r1', sampling: { maxTokens: 5 }, limits: { maxReplyRetries: 1 } }) } });
    await expect(g.chat({ role: 'teacher', messages: ask('design a workflow for def f(x)') })).rejects.toMatchObject({ code: 'reply-truncated' });
  });
});

describe('reasoning and capture through the wire', () => {
  it.each([
    ['reasoning_content', false],
    ['reasoning', false],
    ['think-tags', false],
    ['reasoning_content', true],
    ['think-tags', true],
  ] as const)('normalises %s replies (stream=%s)', async (format, stream) => {
    const s = await sim({ models: { 'meta-x': { role: 'meta-agent', reasoningFormat: format } } });
    const g = new Gateway({ models: { teacher: endpoint({ baseUrl: s.url, model: 'meta-x', stream }) } });
    const r = await g.chat({ role: 'teacher', messages: ask('Write a workflow for: def add(a, b): return the sum') });
    expect(r.reasoning).not.toBeNull();
    expect(r.reasoning!.length).toBeGreaterThan(10);
    expect(r.content).toContain('<graph>');
    expect(r.content).not.toContain('<think>');
  });

  it('gives the same reply streamed and not streamed', async () => {
    const s = await sim();
    const mk = (stream: boolean) => new Gateway({ models: { teacher: endpoint({ baseUrl: s.url, model: 'sim-meta-r1', stream }) } });
    const a = await mk(false).chat({ role: 'teacher', messages: ask('same query'), seed: 11 });
    const b = await mk(true).chat({ role: 'teacher', messages: ask('same query'), seed: 11 });
    expect(b.content).toBe(a.content);
    expect(b.reasoning).toBe(a.reasoning);
    expect(b.usage).toEqual(a.usage);
  });

  it('keeps token ids and logprobs token-exact when asked, also for n > 1', async () => {
    const s = await sim();
    const g = new Gateway({ models: { policy: endpoint({ baseUrl: s.url, model: 'sim-policy', capture: { tokenIds: true, logprobs: true } }) } });
    const r = await g.chat({ role: 'policy', messages: ask('workflow for def g(s)'), n: 3 });
    expect(r.choices).toHaveLength(3);
    expect(new Set(r.choices.map((c) => c.content)).size).toBeGreaterThan(1);
    const total = r.choices.reduce((acc, c) => acc + c.tokenIds!.length, 0);
    expect(total).toBe(r.usage.completionTokens);
    for (const c of r.choices) expect(c.logprobs!.length).toBe(c.tokenIds!.length);
    expect(r.promptTokenIds!.length).toBe(r.usage.promptTokens);
  });
});

describe('providers and journal', () => {
  it('talks to an endpoint through @huggingface/inference too', async () => {
    const s = await sim();
    const g = new Gateway({ models: { worker: endpoint({ provider: 'huggingface', baseUrl: s.url, model: 'sim-worker' }) } });
    const r = await g.chat({ role: 'worker', messages: ask('write def h(): return 1') });
    expect(r.content.length).toBeGreaterThan(0);
    s.injectFaults([{ kind: '429', retryAfterMs: 30 }]);
    const r2 = await g.chat({ role: 'worker', messages: ask('again') });
    expect(r2.attempts).toBe(2);
  });

  it('journals every call without the API key, and fails fast on a missing key or dead endpoint', async () => {
    const s = await sim();
    const dir = await tmpDir();
    const { journal } = await Journal.open<CallRecord>(path.join(dir, 'calls.jsonl'));
    const key = 'sk-test-DO-NOT-LEAK-0123456789';
    const g = new Gateway({ models: { worker: endpoint({ baseUrl: s.url, model: 'sim-worker', apiKeyEnv: 'SIM_KEY' }) }, env: { SIM_KEY: key }, journal });
    s.injectFaults([{ kind: '429', retryAfterMs: 5 }]);
    await g.chat({ role: 'worker', messages: ask(`please echo ${key}`), context: { stage: 'smoke', queryId: 'q' } });
    await journal.close();
    const text = await readFile(path.join(dir, 'calls.jsonl'), 'utf8');
    expect(text).not.toContain(key);
    const recs = await readAll<CallRecord>(path.join(dir, 'calls.jsonl'));
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ role: 'worker', model: 'sim-worker', ok: true, stage: 'smoke', queryId: 'q', retried: ['rate-limited'] });

    const noKey = new Gateway({ models: { teacher: endpoint({ baseUrl: 'http://127.0.0.1:9/v1', model: 'deepseek-reasoner', apiKeyEnv: 'DEEPSEEK_API_KEY' }) }, env: {} });
    await expect(noKey.preflight(['teacher'])).rejects.toMatchObject({ code: 'env-missing', message: expect.stringContaining('DEEPSEEK_API_KEY') });
    const dead = new Gateway({ models: { policy: endpoint({ baseUrl: 'http://127.0.0.1:9/v1', model: 'qwen-14b' }) }, env: {} });
    await expect(dead.preflight(['policy'], 1000)).rejects.toMatchObject({ code: 'endpoint-unreachable', message: expect.stringContaining('127.0.0.1:9') });
  });
});
