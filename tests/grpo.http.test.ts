// The grpo-exchange/v1 HTTP server over real sockets: every endpoint, auth, limits, validation, conflicts and the long-poll.
import { request as httpRequest } from 'node:http';
import { cp, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { readAck } from '../grpo/exchange/acks.ts';
import { startExchangeServer, type ExchangeServer, type ExchangeServerOptions } from '../grpo/exchange/http-server.ts';
import { exchangePaths } from '../grpo/exchange/layout.ts';
import { readPolicyHistory } from '../grpo/exchange/policy-store.ts';
import { writeStep } from '../grpo/exchange/rollout-writer.ts';
import { writeRunManifest } from '../grpo/exchange/run-manifest.ts';
import type { AdvantageRecord, Policy, RolloutRowInput, StepPayload } from '../grpo/exchange/schema.ts';
import { tmpDir } from './helpers/tmp.ts';
import { rolloutRow } from './helpers/rollout-rows.ts';

const SETTINGS: AdvantageRecord = { estimator: 'grpo', std: 'unbiased', eps: 1e-6, scale: 'group', filter: 'none', singleton: 'verl' };
// Rewards and verl advantages of golden groups A and C (shared/design/golden-advantages.json).
const GROUPS: Array<[number[], number[]]> = [
  [
    [1, 0, 0, 0],
    [1.499997, -0.499999, -0.499999, -0.499999],
  ],
  [
    [0.9, 0.1, 0.5, 0.3],
    [1.317461241, -1.024692077, 0.146384582, -0.439153747],
  ],
];

function stepRows(step: number): RolloutRowInput[] {
  return GROUPS.flatMap(([rewards, advs], gi) =>
    rewards.map((reward, i) => rolloutRow({
      group_id: `s${step}-g${gi}`,
      group_size: 4,
      sample_idx: i,
      prompt_uid: `p${gi}`,
      input_ids: [151644, 872, 198, 100 + i, 200 + i, 151645],
      loss_mask: [0, 0, 0, 1, 1, 1],
      logprobs: [0, 0, 0, -0.25, -1.5, -0.125],
      reward,
      advantage: advs[i] as number,
      policy_version_start: step,
      policy_version_end: step,
      served_model: `policy@${step}`,
      messages_json: JSON.stringify([{ role: 'user', content: 'task' }, { role: 'assistant', content: 'workflow' }]),
      sampling_json: '{"temperature":1}',
    })),
  );
}

const commit = (root: string, step: number): Promise<unknown> =>
  writeStep(root, step, stepRows(step), { run_id: 'run-http', advantage: SETTINGS, dropped: { all_equal_groups: 0, unscorable_samples: 0 }, producer: { name: 'ts-orchestrator', version: 'test' } });

const servers: ExchangeServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function start(extra: Partial<ExchangeServerOptions> = {}): Promise<{ root: string; srv: ExchangeServer }> {
  const root = extra.root ?? (await tmpDir());
  const srv = await startExchangeServer({ root, pollMs: 20, ...extra });
  servers.push(srv);
  return { root, srv };
}

interface Reply {
  status: number;
  // any: JSON replies of many shapes; each test asserts on the fields it reads.
  body: any;
  text: string;
  headers: Headers;
}

async function call(srv: ExchangeServer, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(srv.url + path, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed, text, headers: res.headers };
}

const RUN = {
  schema: 'grpo-exchange/v1' as const,
  run_id: 'run-http',
  base_model: 'Qwen/Qwen2.5-7B-Instruct',
  tokenizer_revision: 'main',
  chat_template_sha256: 'b'.repeat(64),
  group_size: 4,
  advantage: SETTINGS,
  created_at: '2026-01-01T00:00:00Z',
};

describe('exchange HTTP server', () => {
  it('binds to 127.0.0.1 by default and answers health, run, 404 and 405', async () => {
    const { root, srv } = await start();
    expect(srv.url).toBe(`http://127.0.0.1:${srv.port}`);
    expect(await call(srv, 'GET', '/v1/health')).toMatchObject({ status: 200, body: { ok: true } });
    expect(await call(srv, 'GET', '/v1/run')).toMatchObject({ status: 404, body: { error: 'missing' } });
    await writeRunManifest(root, RUN);
    expect(await call(srv, 'GET', '/v1/run')).toMatchObject({ status: 200, body: RUN });
    expect(await call(srv, 'GET', '/v1/nope')).toMatchObject({ status: 404, body: { error: 'not-found' } });
    expect(await call(srv, 'GET', '/v1/healthz')).toMatchObject({ status: 404 });
    const wrong = await call(srv, 'DELETE', '/v1/policy');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, POST');
  });

  it('requires the bearer token on every endpoint when one is set, and never echoes it', async () => {
    const token = 'exchange-secret-token-123';
    const { srv } = await start({ token });
    for (const [method, path] of [
      ['GET', '/v1/health'],
      ['GET', '/v1/run'],
      ['GET', '/v1/rollouts/next?consumer=a'],
      ['POST', '/v1/rollouts/1/ack'],
      ['GET', '/v1/policy'],
      ['POST', '/v1/policy'],
      ['POST', '/v1/score'],
      ['POST', '/v1/score/openrlhf'],
      ['GET', '/v1/unknown'],
    ] as const) {
      for (const auth of [undefined, 'Bearer wrong', `Bearer ${token}x`, token, `Basic ${token}`]) {
        const r = await call(srv, method, path, method === 'POST' ? {} : undefined, auth === undefined ? {} : { authorization: auth });
        expect(r.status, `${method} ${path} with ${auth ?? 'no header'}`).toBe(401);
        expect(r.headers.get('www-authenticate')).toBe('Bearer');
        expect(r.text).not.toContain(token);
      }
    }
    expect(await call(srv, 'GET', '/v1/health', undefined, { authorization: `Bearer ${token}` })).toMatchObject({ status: 200 });
    expect(await call(srv, 'GET', '/v1/health', undefined, { authorization: `bearer   ${token}` })).toMatchObject({ status: 200 });
  });

  it('accepts the token in the URL query on the scoring routes only (OpenRLHF posts to --remote_rm_url without headers)', async () => {
    const token = 'exchange-secret-token-123';
    const { srv } = await start({
      token,
      scorer: async () => ({ score: 1 }),
      openrlhfScorer: async (req) => ({ rewards: req.query.map(() => 0.5) }),
    });
    const q = `?token=${encodeURIComponent(token)}`;
    expect(await call(srv, 'POST', `/v1/score/openrlhf${q}`, { query: ['p r'], prompts: ['p '], labels: ['x'] })).toMatchObject({ status: 200, body: { rewards: [0.5] } });
    expect(await call(srv, 'POST', `/v1/score${q}`, { data_source: 'x', solution_str: 'y', ground_truth: 'z' })).toMatchObject({ status: 200, body: { score: 1 } });
    for (const bad of ['?token=wrong', `?token=${token}x`, '?token=', `?tok=${token}`]) {
      const r = await call(srv, 'POST', `/v1/score/openrlhf${bad}`, { query: ['p r'], prompts: ['p '], labels: ['x'] });
      expect(r.status, bad).toBe(401);
      expect(r.text).not.toContain(token);
    }
    // Everything else still needs the header: a token in a URL ends up in proxies' logs, so it opens only what must.
    for (const [method, path] of [
      ['GET', '/v1/run'],
      ['GET', '/v1/rollouts/next'],
      ['POST', '/v1/rollouts/1/ack'],
      ['POST', '/v1/policy'],
      ['GET', '/v1/health'],
    ] as const) {
      expect((await call(srv, method, `${path}${q}`, method === 'POST' ? {} : undefined)).status, path).toBe(401);
    }
  });

  it('long-polls: 204 when nothing is committed, then returns a step committed while the request waits', async () => {
    const { root, srv } = await start();
    expect((await call(srv, 'GET', '/v1/rollouts/next?consumer=trl&wait_s=0')).status).toBe(204);
    let settled = false;
    const waiting = call(srv, 'GET', '/v1/rollouts/next?consumer=trl&wait_s=20').finally(() => {
      settled = true;
    });
    // Replays the commit by hand: the step directory appears without _SUCCESS (which must not wake the poll), then _SUCCESS.
    const scratch = await tmpDir();
    await commit(scratch, 4);
    await unlink(exchangePaths.success(exchangePaths.stepDir(scratch, 4)));
    await mkdir(exchangePaths.rollouts(root), { recursive: true });
    await cp(exchangePaths.stepDir(scratch, 4), exchangePaths.stepDir(root, 4), { recursive: true });
    await new Promise((r) => setTimeout(r, 200));
    expect(settled).toBe(false);
    await writeFile(exchangePaths.success(exchangePaths.stepDir(root, 4)), '');
    const r = await waiting;
    expect(r.status).toBe(200);
    const payload = r.body as StepPayload;
    expect(payload.step).toBe(4);
    expect(payload.manifest).toMatchObject({ step: 4, num_groups: 2, num_rows: 8, group_size: 4, advantage: SETTINGS });
    expect(payload.groups.map((g) => [g.group_id, g.group_size, g.prompt_uid, g.data_source, g.samples.length])).toEqual([
      ['s4-g0', 4, 'p0', 'bigcodebench', 4],
      ['s4-g1', 4, 'p1', 'bigcodebench', 4],
    ]);
    expect(payload.groups[1]?.samples.map((s) => s.reward)).toEqual([0.9, 0.1, 0.5, 0.3]);
    expect(payload.groups[0]?.samples[0]).toMatchObject({ input_ids: [151644, 872, 198, 100, 200, 151645], loss_mask: [0, 0, 0, 1, 1, 1], reward_components: { performance: 1, complexity: 0, efficiency: 0, diversity: 0, format: 0 }, step: 4 });
  });

  it('caps wait_s, and validates consumer and wait_s', async () => {
    const { srv } = await start({ maxWaitS: 0.2 });
    expect((await call(srv, 'GET', '/v1/rollouts/next?consumer=trl&wait_s=3600')).status).toBe(204);
    expect(await call(srv, 'GET', '/v1/rollouts/next?wait_s=1')).toMatchObject({ status: 400, body: { error: 'invalid-query' } });
    expect(await call(srv, 'GET', '/v1/rollouts/next?consumer=../etc&wait_s=1')).toMatchObject({ status: 400 });
    expect(await call(srv, 'GET', '/v1/rollouts/next?consumer=trl&wait_s=-1')).toMatchObject({ status: 400 });
    expect(await call(srv, 'GET', '/v1/rollouts/next?consumer=trl&wait_s=abc')).toMatchObject({ status: 400 });
  });

  it('serves the lowest unacked step per consumer; acks are written once, repeats are idempotent, conflicts 409', async () => {
    const { root, srv } = await start();
    for (const s of [1, 2, 3]) await commit(root, s);
    expect((await call(srv, 'GET', '/v1/rollouts/next?consumer=trl')).body.step).toBe(1);
    const ack = { consumer: 'trl', status: 'trained', trained_policy_version: 2, metrics: { loss: 0.25, note: 'ok' } };
    expect(await call(srv, 'POST', '/v1/rollouts/1/ack', ack)).toMatchObject({ status: 200, body: { ok: true, duplicate: false, acked_by: ['trl'] } });
    expect(await readAck(root, 1, 'trl')).toMatchObject({ consumer: 'trl', step: 1, status: 'trained', trained_policy_version: 2, rows_used: 8, rows_dropped: 0, metrics: { loss: 0.25, note: 'ok' } });
    expect(await call(srv, 'POST', '/v1/rollouts/1/ack', ack)).toMatchObject({ status: 200, body: { ok: true, duplicate: true } });
    expect(await call(srv, 'POST', '/v1/rollouts/1/ack', { ...ack, status: 'dropped' })).toMatchObject({ status: 409, body: { error: 'ack-conflict' } });
    expect((await call(srv, 'GET', '/v1/rollouts/next?consumer=trl')).body.step).toBe(2);
    expect((await call(srv, 'GET', '/v1/rollouts/next?consumer=verl')).body.step).toBe(1);
    await call(srv, 'POST', '/v1/rollouts/2/ack', { consumer: 'trl', status: 'dropped' });
    expect(await readAck(root, 2, 'trl')).toMatchObject({ status: 'dropped', trained_policy_version: null, rows_used: 0, rows_dropped: 8 });
    expect((await call(srv, 'GET', '/v1/rollouts/next?consumer=trl')).body.step).toBe(3);
    expect(await call(srv, 'POST', '/v1/rollouts/9/ack', ack)).toMatchObject({ status: 404, body: { error: 'step-not-committed' } });
    const bad = await call(srv, 'POST', '/v1/rollouts/3/ack', { consumer: 'trl', status: 'done' });
    expect(bad).toMatchObject({ status: 400, body: { error: 'invalid-body' } });
    expect(bad.body.message).toContain('status');
    expect(await call(srv, 'POST', '/v1/rollouts/3/ack', { ...ack, extra: 1 })).toMatchObject({ status: 400 });
    expect(await call(srv, 'POST', '/v1/rollouts/3/ack', '{not json')).toMatchObject({ status: 400, body: { error: 'invalid-json' } });
  });

  it('publishes policy versions that never go backwards (409), defaulting served_model, and tells onPolicy', async () => {
    const seen: Policy[] = [];
    const { root, srv } = await start({ onPolicy: (p) => void seen.push(p) });
    expect(await call(srv, 'GET', '/v1/policy')).toMatchObject({ status: 404 });
    const synced_at = '2026-01-01T00:00:00Z';
    expect(await call(srv, 'POST', '/v1/policy', { version: 0, source: 'disk', synced_at })).toMatchObject({ status: 400, body: { error: 'invalid-body' } });
    await writeRunManifest(root, RUN);
    expect(await call(srv, 'POST', '/v1/policy', { version: 0, source: 'disk', synced_at })).toMatchObject({ status: 200, body: { ok: true, changed: true, policy: { version: 0, served_model: RUN.base_model } } });
    expect(await call(srv, 'POST', '/v1/policy', { version: 1, served_model: 'policy@1', source: 'lora', path: '/ckpt/1', synced_at })).toMatchObject({ status: 200 });
    expect(await call(srv, 'POST', '/v1/policy', { version: 1, served_model: 'policy@1', source: 'lora', path: '/ckpt/1', synced_at })).toMatchObject({ status: 200, body: { changed: false } });
    expect(await call(srv, 'POST', '/v1/policy', { version: 0, source: 'disk', synced_at })).toMatchObject({ status: 409, body: { error: 'version-conflict' } });
    expect(await call(srv, 'POST', '/v1/policy', { version: 2, source: 'nccl', synced_at })).toMatchObject({ status: 200, body: { policy: { served_model: 'policy@1' } } });
    expect(await call(srv, 'POST', '/v1/policy', { version: 3, source: 'lora', path: '/ckpt/3', synced_at })).toMatchObject({ status: 200, body: { policy: { served_model: 'policy@3' } } });
    expect(await call(srv, 'POST', '/v1/policy', { version: 4, source: 'ftp', synced_at })).toMatchObject({ status: 400 });
    expect(await call(srv, 'POST', '/v1/policy', { version: 4, source: 'disk' })).toMatchObject({ status: 400 });
    const cur = await call(srv, 'GET', '/v1/policy');
    expect(cur.body).toMatchObject({ version: 3, served_model: 'policy@3', source: 'lora', path: '/ckpt/3' });
    expect(JSON.parse(await readFile(exchangePaths.policyCurrent(root), 'utf8'))).toEqual(cur.body);
    expect((await readPolicyHistory(root)).map((h) => h.version)).toEqual([0, 1, 2, 3]);
    expect(seen.map((p) => p.version)).toEqual([0, 1, 2, 3]);
  });

  it('scores verl-shaped and OpenRLHF-shaped requests through the injected scorers, 501 without them', async () => {
    const bare = await start();
    expect(await call(bare.srv, 'POST', '/v1/score', { data_source: 'x', solution_str: 'y', ground_truth: 'z' })).toMatchObject({ status: 501, body: { error: 'not-implemented' } });
    expect(await call(bare.srv, 'POST', '/v1/score/openrlhf', { query: [], prompts: [], labels: [] })).toMatchObject({ status: 501 });

    const { srv } = await start({
      scorer: async (req) => ({ score: req.solution_str === req.ground_truth ? 1 : 0, data_source_seen: req.data_source, idx: Number(req.extra_info?.index ?? -1) }),
      openrlhfScorer: async (req) => ({ rewards: req.query.map((q, i) => (q.slice((req.prompts[i] ?? '').length) === req.labels[i] ? 1 : 0)), extra_logs: { len: req.query.map((q) => q.length) } }),
    });
    expect(await call(srv, 'POST', '/v1/score', { data_source: 'bcb', solution_str: '42', ground_truth: '42', extra_info: { index: 7 } })).toMatchObject({
      status: 200,
      body: { score: 1, data_source_seen: 'bcb', idx: 7 },
    });
    expect(await call(srv, 'POST', '/v1/score', { data_source: 'bcb', solution_str: '41', ground_truth: '42' })).toMatchObject({ status: 200, body: { score: 0 } });
    const missing = await call(srv, 'POST', '/v1/score', { data_source: 'bcb', ground_truth: '42' });
    expect(missing).toMatchObject({ status: 400 });
    expect(missing.body.message).toContain('solution_str');
    expect(await call(srv, 'POST', '/v1/score/openrlhf', { query: ['Q:1+1=A:2', 'Q:2+2=A:5'], prompts: ['Q:1+1=A:', 'Q:2+2=A:'], labels: ['2', '4'] })).toMatchObject({
      status: 200,
      body: { rewards: [1, 0], scores: [1, 0], extra_logs: { len: [9, 9] } },
    });
    expect(await call(srv, 'POST', '/v1/score/openrlhf', { query: ['a'], prompts: [], labels: ['x'] })).toMatchObject({ status: 400 });

    const broken = await start({ scorer: async () => ({ score: 'high' }) as never });
    expect(await call(broken.srv, 'POST', '/v1/score', { data_source: 'x', solution_str: 'y', ground_truth: 'z' })).toMatchObject({ status: 500, body: { error: 'scorer-invalid' } });
    // verl averages every key it gets back: a null (or an object) in the reply is refused here, not sent to the trainer.
    const withNull = await start({ scorer: async () => ({ score: 1, reason: null }) as never });
    expect(await call(withNull.srv, 'POST', '/v1/score', { data_source: 'x', solution_str: 'y', ground_truth: 'z' })).toMatchObject({ status: 500, body: { error: 'scorer-invalid' } });
  });

  it('refuses bodies over maxBodyBytes with 413, declared or streamed', async () => {
    const { srv } = await start({ maxBodyBytes: 256, scorer: async () => ({ score: 1 }) });
    const big = { data_source: 'x', solution_str: 'y'.repeat(400), ground_truth: 'z' };
    expect(await call(srv, 'POST', '/v1/score', big)).toMatchObject({ status: 413, body: { error: 'body-too-large' } });
    // Chunked upload without Content-Length: the limit is enforced while reading.
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${srv.url}/v1/score`, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      for (let i = 0; i < 4; i++) req.write('x'.repeat(100));
      req.end();
    });
    expect(status).toBe(413);
    expect(await call(srv, 'POST', '/v1/score', { data_source: 'x', solution_str: 'y', ground_truth: 'z' })).toMatchObject({ status: 200 });
  });

  it('answers a waiting long-poll with 503 when the server closes', async () => {
    const { srv } = await start();
    const waiting = call(srv, 'GET', '/v1/rollouts/next?consumer=trl&wait_s=30');
    await new Promise((r) => setTimeout(r, 100));
    servers.splice(servers.indexOf(srv), 1);
    await srv.close();
    expect(await waiting).toMatchObject({ status: 503, body: { error: 'shutting-down' } });
  });
});
