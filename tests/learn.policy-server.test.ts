// The decision-policy test double's server (scripts/trainers/policy_server.py), seen by the real gateway the grpo
// stage samples through: token ids and logprobs as vLLM returns them, rollout segments, and replies that every
// check of a meta-agent reply accepts, for all 96 decision sequences and every sequence cut short.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EndpointSchema } from '../pipeline/config/endpoint-schema.ts';
import { Gateway } from '../pipeline/gateway/gateway.ts';
import { metaAgentMessages } from '../pipeline/prompts/meta-agent-turns.ts';
import { checkMetaAgentReply } from '../pipeline/workflow/check-reply.ts';
import { buildSegments } from '../grpo/token-sequence.ts';
import { startPolicyServer, type PolicyServer } from '../scripts/bench/learn-loop.ts';
import { runTrainerPython } from './helpers/trainer-python.ts';

let server: PolicyServer;
beforeAll(async () => {
  server = await startPolicyServer(0);
}, 60_000);
afterAll(async () => {
  await server?.close();
});

const post = async (route: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
  const res = await fetch(`${server.url.replace(/\/v1$/, '')}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
};

describe('decision-policy server', () => {
  it('answers the gateway with token ids and one logprob per token, which become valid rollout segments', async () => {
    const gw = new Gateway({
      models: { policy: EndpointSchema.parse({ baseUrl: server.url, model: 'policy', sampling: { temperature: 1.0, maxTokens: 16 }, capture: { tokenIds: true, logprobs: true } }) },
      seed: 7,
    });
    await gw.preflight(['policy']);
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const r = await gw.chat({ role: 'policy', messages: metaAgentMessages('def add(a, b):\n    """Return a + b."""\n', 'add'), sampleIndex: i, capture: { tokenIds: true, logprobs: true }, cache: false });
      const c = r.choices[0]!;
      expect(c.finishReason).toBe('stop');
      expect(r.promptTokenIds).toEqual([1]);
      expect(c.tokenIds).toHaveLength(5);
      expect(c.tokenIds!.at(-1)).toBe(2);
      const logprobs = (c.logprobs ?? []).map((l) => l.logprob);
      expect(logprobs).toHaveLength(5);
      // Version 0 is uniform over each slot (4, 4, 2, 3 values), and the end token is forced.
      expect(logprobs.map((l) => Math.exp(l))).toEqual([0.25, 0.25, 0.5, 1 / 3, 1].map((p) => expect.closeTo(p, 12)));
      const [seg] = buildSegments([{ promptIds: r.promptTokenIds ?? [], completionIds: c.tokenIds ?? [], logprobs }]);
      expect(seg!.inputIds).toEqual([1, ...c.tokenIds!]);
      expect(seg!.lossMask).toEqual([0, 1, 1, 1, 1, 1]);
      expect(seg!.promptLen).toBe(1);
      const checked = await checkMetaAgentReply(r.content);
      expect(checked.ok, JSON.stringify(checked)).toBe(true);
      seen.add(c.tokenIds!.join(','));
    }
    expect(seen.size).toBeGreaterThan(1);
  });

  it('renders every decision sequence, and every sequence cut short, as a reply the checker accepts', async () => {
    const r = await runTrainerPython(['scripts/trainers/decision_policy.py', '--render-all'], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    const replies = JSON.parse(r.stdout) as Array<{ ids: number[]; finish_reason: string; reply: string }>;
    expect(replies.filter((x) => x.finish_reason === 'stop')).toHaveLength(96);
    expect(replies).toHaveLength(245);
    let maxSites = 0;
    for (const x of replies) {
      const c = await checkMetaAgentReply(x.reply);
      expect(c.ok, `${x.ids.join(',')}: ${JSON.stringify(c)}`).toBe(true);
      if (c.ok) maxSites = Math.max(maxSites, Number(c.metrics.operatorCallSites));
    }
    // Five drafts, ScEnsemble, Review, Revise and two Test calls: within the complexity budget (8 call sites).
    expect(maxSites).toBe(6);
  });

  it('repeats a sample for the same seed, and refuses what its logprobs could not honour', async () => {
    const body = { model: 'policy', messages: [{ role: 'user', content: 'q' }], seed: 11, logprobs: true, return_token_ids: true };
    const a = await post('/v1/chat/completions', body);
    const b = await post('/v1/chat/completions', body);
    expect(a.status).toBe(200);
    expect((a.json.choices as unknown[])[0]).toEqual((b.json.choices as unknown[])[0]);
    expect((await post('/v1/chat/completions', { ...body, stream: true })).status).toBe(400);
    expect((await post('/v1/chat/completions', { ...body, top_p: 0.9 })).status).toBe(400);
    expect((await post('/v1/chat/completions', '{not json')).status).toBe(400);
    expect((await post('/v1/chat/completions', JSON.stringify({ ...body, pad: 'x'.repeat(2 << 20) }))).status).toBe(400);
    const cut = await post('/v1/chat/completions', { ...body, max_tokens: 2 });
    const choice = (cut.json.choices as Array<{ finish_reason: string; token_ids: number[] }>)[0]!;
    expect(choice.finish_reason).toBe('length');
    expect(choice.token_ids).toHaveLength(2);
  });

  it('loads a published version only forwards', async () => {
    expect((await post('/v1/policy', { version: 0, path: 'elsewhere' })).status).toBe(409);
    expect((await post('/v1/policy', { version: 'one' })).status).toBe(400);
    const missing = await post('/v1/policy', { version: 3, path: '/nonexistent/policy.pt' });
    expect(missing.status).toBe(500);
    expect(String(missing.json.message)).toMatch(/No such file|nonexistent/);
    const info = (await (await fetch(`${server.url}/policy`)).json()) as { version: number };
    expect(info.version).toBe(0);
  });
});
