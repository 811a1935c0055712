// scripts/trainers/reference_consumer.py against a live exchange server: exactly-once consumption across SIGKILL, acks, policy bumps, rejection of bad steps.
import { spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readAck } from '../grpo/exchange/acks.ts';
import { startExchangeServer, type ExchangeServer } from '../grpo/exchange/http-server.ts';
import { exchangePaths } from '../grpo/exchange/layout.ts';
import { publishPolicy, readPolicy, readPolicyHistory } from '../grpo/exchange/policy-store.ts';
import { writeStep } from '../grpo/exchange/rollout-writer.ts';
import type { AdvantageRecord, RolloutRowInput } from '../grpo/exchange/schema.ts';
import { rolloutRow } from './helpers/rollout-rows.ts';
import { repoRoot, tmpDir } from './helpers/tmp.ts';

const CONSUMER = path.join(repoRoot, 'scripts', 'trainers', 'reference_consumer.py');
type Golden = Record<string, Record<string, unknown>>;
const golden = JSON.parse(await readFile(path.resolve(repoRoot, '..', 'shared', 'design', 'golden-advantages.json'), 'utf8')) as Golden;
const num = (group: string, key: string): number[] => golden[group]?.[key] as number[];

interface StepSpec {
  settings: AdvantageRecord;
  groups: Array<{ rewards: number[]; advantages: number[] }>;
}

// Three parity settings of trainer-contract.md §10.5, each with the golden advantages the file gives for them.
const A = 'A_one_correct_of_4';
const B = 'B_all_equal_4';
const C = 'C_graded_4';
const STEPS: StepSpec[] = [
  {
    settings: { estimator: 'grpo', std: 'unbiased', eps: 1e-6, scale: 'group', filter: 'none', singleton: 'verl' },
    groups: [A, B, C].map((g) => ({ rewards: num(g, 'rewards'), advantages: num(g, 'verl_grpo(eps=1e-6, unbiased std)') })),
  },
  {
    settings: { estimator: 'grpo', std: 'population', eps: 1e-6, scale: 'group', filter: 'dapo_nonzero_std', singleton: 'zero' },
    groups: [A, C].map((g) => ({ rewards: num(g, 'rewards'), advantages: num(g, 'art(eps=1e-6, population std)') })),
  },
  {
    settings: { estimator: 'grpo', std: 'unbiased', eps: 1e-4, scale: 'batch', filter: 'none', singleton: 'zero' },
    groups: [A, C].map((g) => ({ rewards: num(g, 'rewards'), advantages: num('trl_scale_rewards=batch over [A,C]', g === A ? 'A' : 'C') })),
  },
];
const RLOO: StepSpec = {
  settings: { estimator: 'rloo', std: 'unbiased', eps: 0, scale: 'none', filter: 'none' },
  groups: [A, B, C].map((g) => ({ rewards: num(g, 'rewards'), advantages: num(g, 'verl_rloo') })),
};

function rowsOf(step: number, spec: StepSpec): RolloutRowInput[] {
  return spec.groups.flatMap((g, gi) =>
    g.rewards.map((reward, i) => rolloutRow({
      group_id: `s${step}-g${gi}`,
      group_size: g.rewards.length,
      sample_idx: i,
      prompt_uid: `p${gi}`,
      input_ids: [151644, 872, 198, 1000 + i, 2000 + gi, 151645],
      loss_mask: [0, 0, 0, 1, 1, 1],
      logprobs: [0, 0, 0, -0.5, -0.75, -0.0625],
      reward,
      advantage: g.advantages[i] as number,
      policy_version_start: Math.max(0, step - 1),
      policy_version_end: Math.max(0, step - 1),
    })),
  );
}

const commit = (root: string, step: number, spec: StepSpec): Promise<unknown> =>
  writeStep(root, step, rowsOf(step, spec), { run_id: 'run-consumer', advantage: spec.settings, dropped: { all_equal_groups: 0, unscorable_samples: 0 }, producer: { name: 'ts-orchestrator', version: 'test' } });

interface Proc {
  pid: number;
  lines: Array<Record<string, unknown>>;
  stderr: () => string;
  /** The last JSON line on stderr (the error report of a failed run). */
  lastError: () => Record<string, unknown>;
  /** Resolves once the consumer has installed its SIGTERM handler. */
  started: () => Promise<void>;
  /** Resolves when a stdout line satisfies `pred`. */
  waitFor: (pred: (l: Record<string, unknown>) => boolean) => Promise<void>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill: (sig: NodeJS.Signals) => void;
}

const running: Proc[] = [];
const servers: ExchangeServer[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) p.kill('SIGKILL');
  for (const s of servers.splice(0)) await s.close();
});

function runConsumer(args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn('python3', [CONSUMER, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const lines: Array<Record<string, unknown>> = [];
  let err = '';
  let buf = '';
  const waiters: Array<{ pred: (l: Record<string, unknown>) => boolean; resolve: () => void }> = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = JSON.parse(buf.slice(0, nl)) as Record<string, unknown>;
      buf = buf.slice(nl + 1);
      lines.push(line);
      for (const w of waiters.splice(0)) (w.pred(line) ? w.resolve() : waiters.push(w));
    }
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const proc: Proc = {
    pid: child.pid ?? -1,
    lines,
    stderr: () => err,
    lastError: () => JSON.parse(err.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>,
    started: async () => {
      while (!err.includes('"started"')) await new Promise((r) => setTimeout(r, 20));
    },
    waitFor: (pred) => (lines.some(pred) ? Promise.resolve() : new Promise((resolve) => waiters.push({ pred, resolve }))),
    exit,
    kill: (sig) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    },
  };
  running.push(proc);
  return proc;
}

async function setup(token?: string): Promise<{ root: string; srv: ExchangeServer }> {
  const root = await tmpDir();
  const srv = await startExchangeServer({ root, pollMs: 20, ...(token !== undefined ? { token } : {}) });
  servers.push(srv);
  await publishPolicy(root, { version: 0, served_model: 'policy', source: 'disk' });
  return { root, srv };
}

const consumed = (lines: Array<Record<string, unknown>>): number[] => lines.filter((l) => l.event === 'consumed').map((l) => l.step as number);

describe('reference_consumer.py', () => {
  it('consumes three committed steps once each, verifying advantages for three parity settings, acking and bumping the policy', async () => {
    const token = 'consumer-test-token-42';
    const { root, srv } = await setup(token);
    for (const [i, spec] of STEPS.entries()) await commit(root, i + 1, spec);
    const state = path.join(root, 'consumer.state.json');
    const p = runConsumer(['--url', srv.url, '--consumer', 'ref', '--max-steps', '3', '--root', root, '--state', state, '--wait-s', '2'], { GRPO_EXCHANGE_TOKEN: token });
    expect(await p.exit, p.stderr()).toEqual({ code: 0, signal: null });
    expect(consumed(p.lines)).toEqual([1, 2, 3]);
    expect(p.lines.map((l) => l.policy_version)).toEqual([1, 2, 3]);
    for (const l of p.lines) expect(l.max_abs_advantage_error as number).toBeLessThan(1e-6);
    for (const s of [1, 2, 3]) expect(await readAck(root, s, 'ref')).toMatchObject({ status: 'trained', trained_policy_version: s, rows_dropped: 0 });
    expect((await readPolicy(root))?.version).toBe(3);
    expect((await readPolicyHistory(root)).map((h) => h.version)).toEqual([0, 1, 2, 3]);
    const st = JSON.parse(await readFile(state, 'utf8'));
    expect(Object.keys(st.steps).sort()).toEqual(['1', '2', '3']);
    expect(Object.values(st.steps).every((e) => (e as { phase: string }).phase === 'acked')).toBe(true);
    expect(p.stderr()).not.toContain(token);

    // Restarted with nothing left, it idles on the long-poll and stops cleanly on SIGTERM.
    const idle = runConsumer(['--url', srv.url, '--consumer', 'ref', '--state', state, '--wait-s', '1'], { GRPO_EXCHANGE_TOKEN: token });
    await idle.started();
    await new Promise((r) => setTimeout(r, 300));
    idle.kill('SIGTERM');
    expect(await idle.exit).toEqual({ code: 0, signal: null });
    expect(idle.lines).toEqual([]);
  });

  it('consumes every step exactly once in total when killed with SIGKILL after its first step and restarted', async () => {
    const { root, srv } = await setup();
    const state = path.join(root, 'state.json');
    const args = ['--url', srv.url, '--consumer', 'ref', '--state', state, '--wait-s', '1'];
    await commit(root, 1, STEPS[0] as StepSpec);
    const first = runConsumer(args);
    await first.waitFor((l) => l.event === 'consumed');
    first.kill('SIGKILL');
    expect((await first.exit).signal).toBe('SIGKILL');
    await commit(root, 2, STEPS[1] as StepSpec);
    await commit(root, 3, STEPS[2] as StepSpec);

    // Whatever the kill interrupted (policy POST, ack, state update), the restart finishes it without training again.
    // It runs until all three acks exist, then gets SIGTERM (an ack already in flight from the killed run may still land).
    const second = runConsumer(args);
    await second.started();
    const refAcks = async (): Promise<string[]> => (await readdir(exchangePaths.acks(root)).catch(() => [] as string[])).filter((n) => n.endsWith('.ref.json')).sort();
    while ((await refAcks()).length < 3) await new Promise((r) => setTimeout(r, 50));
    second.kill('SIGTERM');
    expect(await second.exit, second.stderr()).toEqual({ code: 0, signal: null });

    const all = [...consumed(first.lines), ...consumed(second.lines)].sort();
    expect(all).toEqual([1, 2, 3]);
    expect(await refAcks()).toEqual(['step=000001.ref.json', 'step=000002.ref.json', 'step=000003.ref.json']);
    expect((await readPolicy(root))?.version).toBe(3);
    expect((await readPolicyHistory(root)).map((h) => h.version)).toEqual([0, 1, 2, 3]);
  });

  it('finishes a step recorded as trained but never acked (killed between state and ack) without consuming it again', async () => {
    const { root, srv } = await setup();
    await commit(root, 1, RLOO);
    await commit(root, 2, RLOO);
    const state = path.join(root, 'state.json');
    await writeFile(state, JSON.stringify({ consumer: 'ref', steps: { '1': { phase: 'trained', policy_version: 1, rows_used: 12, rows_dropped: 0, max_abs_advantage_error: 0 } } }));
    const p = runConsumer(['--url', srv.url, '--consumer', 'ref', '--state', state, '--max-steps', '2', '--wait-s', '1']);
    expect(await p.exit, p.stderr()).toEqual({ code: 0, signal: null });
    expect(p.lines.map((l) => [l.event, l.step])).toEqual([
      ['acked', 1],
      ['consumed', 2],
    ]);
    expect((await readAck(root, 1, 'ref'))?.trained_policy_version).toBe(1);
    expect((await readAck(root, 2, 'ref'))?.trained_policy_version).toBe(2);
    expect((await readPolicy(root))?.version).toBe(2);
  });

  it('exits non-zero and acks nothing when an advantage does not follow the manifest settings', async () => {
    const { root, srv } = await setup();
    const rows = rowsOf(1, STEPS[0] as StepSpec).map((r) => (r.group_id === 's1-g2' && r.sample_idx === 1 ? { ...r, advantage: r.advantage + 0.01 } : r));
    await writeStep(root, 1, rows, { run_id: 'run-consumer', advantage: (STEPS[0] as StepSpec).settings, dropped: { all_equal_groups: 0, unscorable_samples: 0 }, producer: { name: 'x', version: '1' } });
    const p = runConsumer(['--url', srv.url, '--consumer', 'ref', '--max-steps', '1', '--wait-s', '1']);
    expect((await p.exit).code).toBe(3);
    expect(p.lastError()).toMatchObject({ event: 'error', kind: 'contract' });
    expect(p.stderr()).toContain('s1-g2');
    expect(await readAck(root, 1, 'ref')).toBeNull();
    expect((await readPolicy(root))?.version).toBe(0);
  });

  it('exits non-zero on a corrupted manifest: wrong advantage settings (its own check) or a wrong checksum (the server refuses the step)', async () => {
    const { root, srv } = await setup();
    await commit(root, 1, STEPS[0] as StepSpec);
    await commit(root, 2, STEPS[0] as StepSpec);
    // any: the manifest is edited as loose JSON, to corrupt it on purpose.
    const edit = async (step: number, f: (m: Record<string, any>) => void): Promise<void> => {
      const file = exchangePaths.manifest(exchangePaths.stepDir(root, step));
      const m = JSON.parse(await readFile(file, 'utf8'));
      f(m);
      await writeFile(file, JSON.stringify(m));
    };
    await edit(1, (m) => (m.advantage.std = 'population'));
    const p1 = runConsumer(['--url', srv.url, '--consumer', 'ref', '--max-steps', '1', '--wait-s', '1']);
    expect((await p1.exit).code).toBe(3);
    expect(p1.stderr()).toContain('do not follow');

    await edit(1, (m) => (m.advantage.std = 'unbiased'));
    await edit(1, (m) => (m.files[0].sha256 = 'f'.repeat(64)));
    // A fresh server: the first one keeps the payload it already verified and served (steps are immutable).
    const fresh = await startExchangeServer({ root, pollMs: 20 });
    servers.push(fresh);
    const p2 = runConsumer(['--url', fresh.url, '--consumer', 'ref', '--max-steps', '1', '--wait-s', '1']);
    expect((await p2.exit).code).toBe(1);
    expect(p2.lastError()).toMatchObject({ kind: 'http', status: 500, body: { error: 'manifest-mismatch' } });
    expect(await readAck(root, 1, 'ref')).toBeNull();
  });

  it('with --root, rejects a part file on disk that no longer matches the manifest it was served with', async () => {
    const { root, srv } = await setup();
    await commit(root, 1, STEPS[1] as StepSpec);
    const ok = runConsumer(['--url', srv.url, '--consumer', 'first', '--max-steps', '1', '--root', root, '--wait-s', '1']);
    expect(await ok.exit, ok.stderr()).toEqual({ code: 0, signal: null });
    // The server keeps verified payloads of immutable steps in memory, so the second consumer is served the original rows
    // while the file on disk has changed underneath: only the consumer's own sha256 check can notice.
    const part = path.join(exchangePaths.stepDir(root, 1), 'part-00000.parquet');
    const bytes = await readFile(part);
    bytes[bytes.length - 20] = (bytes[bytes.length - 20] ?? 0) ^ 0x01;
    await writeFile(part, bytes);
    const bad = runConsumer(['--url', srv.url, '--consumer', 'second', '--max-steps', '1', '--root', root, '--wait-s', '1']);
    expect((await bad.exit).code).toBe(3);
    expect(bad.stderr()).toContain('sha256');
  });

  it('fails with status 2 on a usage error', async () => {
    const p = runConsumer(['--consumer', 'x']);
    expect((await p.exit).code).toBe(2);
  });
});
