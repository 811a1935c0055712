// GRPO under bad input and long runs: malformed requests answered 4xx/5xx by a live orchestrator that keeps going, a resume
// with nothing left that ends at once, a wait for the trainer that says so, a cost that says what it counts, no `eta NFs`.
import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { readAck, writeAck } from '../grpo/exchange/acks.ts';
import { startExchangeServer, type ExchangeServer } from '../grpo/exchange/http-server.ts';
import { publishPolicy, waitForPolicyVersion, type PolicyWait } from '../grpo/exchange/policy-store.ts';
import { writeStep } from '../grpo/exchange/rollout-writer.ts';
import type { AdvantageRecord, RolloutRowInput } from '../grpo/exchange/schema.ts';
import { rolloutRow } from './helpers/rollout-rows.ts';
import { grpoSummaryRows } from '../pipeline/cli/commands/grpo.ts';
import { createProgress, etaText } from '../pipeline/cli/progress.ts';
import { repoRoot, sharedDatasets, tmpDir } from './helpers/tmp.ts';

const TOKEN = 'robust-test-token-7';
const AUTH = `Authorization: Bearer ${TOKEN}\r\n`;
const MIB = 1 << 20;

/** Sends bytes as they are, half-closes, and returns everything the server wrote before closing (or 'TIMEOUT'). */
function raw(port: number, data: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    const s = net.connect(port, '127.0.0.1', () => s.end(Buffer.from(data, 'latin1')));
    const t = setTimeout(() => {
      s.destroy();
      resolve(`TIMEOUT ${out}`);
    }, timeoutMs);
    s.on('data', (d: Buffer) => (out += d.toString('latin1')));
    // A reset after the reply (the server closing on an unread oversized body) still leaves the reply in `out`.
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(t);
      resolve(out);
    });
  });
}

const statusOf = (reply: string): number => Number(/^HTTP\/1\.[01] (\d{3}) /.exec(reply)?.[1] ?? 0);
const bodyOf = (reply: string): string => reply.slice(reply.indexOf('\r\n\r\n') + 4);

// [name, request bytes, expected status, expected `error` code in the JSON body (null: no body to check)].
const BAD: Array<[string, string, number, string | null]> = [
  ['target //%zz without a token', 'GET //%zz HTTP/1.1\r\nHost: x\r\n\r\n', 401, 'unauthorized'],
  ['target //%zz', `GET //%zz HTTP/1.1\r\nHost: x\r\n${AUTH}\r\n`, 404, 'not-found'],
  ['target //host/v1/health', `GET //evil/v1/health HTTP/1.1\r\nHost: x\r\n${AUTH}\r\n`, 404, 'not-found'],
  ['target /%', `GET /% HTTP/1.1\r\nHost: x\r\n${AUTH}\r\n`, 404, 'not-found'],
  ['target *', `OPTIONS * HTTP/1.1\r\nHost: x\r\n${AUTH}\r\n`, 400, 'invalid-target'],
  ['target with a NUL', `GET /v1/health\x00 HTTP/1.1\r\nHost: x\r\n${AUTH}\r\n`, 400, 'bad-request'],
  ['long target', `GET /${'a'.repeat(10_000)} HTTP/1.1\r\nHost: x\r\n${AUTH}\r\n`, 404, 'not-found'],
  ['very long target', `GET /${'a'.repeat(70_000)} HTTP/1.1\r\nHost: x\r\n${AUTH}\r\n`, 431, 'bad-request'],
  ['unknown method', `FOO /v1/health HTTP/1.1\r\nHost: x\r\n${AUTH}\r\n`, 501, 'bad-request'],
  ['CONNECT', `CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n${AUTH}\r\n`, 405, 'method-not-allowed'],
  ['PUT', `PUT /v1/policy HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n${AUTH}\r\n{}`, 405, 'method-not-allowed'],
  ['HEAD', `HEAD /v1/health HTTP/1.1\r\nHost: x\r\n${AUTH}\r\n`, 405, null],
  ['HTTP/9.9', `GET /v1/health HTTP/9.9\r\n${AUTH}\r\n`, 400, 'bad-request'],
  ['TLS bytes', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03', 501, 'bad-request'],
  ['HTTP/1.1 without Host', `GET /v1/health HTTP/1.1\r\n${AUTH}\r\n`, 400, null],
  ['two Authorization headers', `GET /v1/health HTTP/1.1\r\nHost: x\r\n${AUTH}Authorization: Bearer other\r\n\r\n`, 400, 'invalid-header'],
  ['Authorization without a token', 'GET /v1/health HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer\r\n\r\n', 401, 'unauthorized'],
  ['Authorization with raw bytes', 'GET /v1/health HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xff\xfe\r\n\r\n', 401, 'unauthorized'],
  ['Content-Length abc', `POST /v1/policy HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n${AUTH}\r\n{}`, 400, 'bad-request'],
  ['Content-Length -5', `POST /v1/policy HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n${AUTH}\r\n{}`, 400, 'bad-request'],
  ['Content-Length twice', `POST /v1/policy HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n${AUTH}\r\n{}`, 400, 'bad-request'],
  ['Content-Length 10^20', `POST /v1/policy HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n${AUTH}\r\n{}`, 400, 'bad-request'],
  ['body shorter than Content-Length', `POST /v1/policy HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n${AUTH}\r\n{}`, 400, null],
  ['Transfer-Encoding with Content-Length', `POST /v1/policy HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n${AUTH}\r\n2\r\n{}\r\n0\r\n\r\n`, 400, 'bad-request'],
  ['Transfer-Encoding gzip', `POST /v1/policy HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n${AUTH}\r\n{}`, 400, 'bad-request'],
  ['bad chunk size', `POST /v1/policy HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n${AUTH}\r\nzz\r\n{}\r\n0\r\n\r\n`, 400, null],
  ['unterminated chunks', `POST /v1/policy HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n${AUTH}\r\n2\r\n{}\r\n`, 400, null],
  ['invalid JSON', `POST /v1/policy HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n${AUTH}\r\n{abc}`, 400, 'invalid-json'],
  ['wrong types', `POST /v1/policy HTTP/1.1\r\nHost: x\r\nContent-Length: 17\r\n${AUTH}\r\n{"version":"one"}`, 400, 'invalid-body'],
  ['ack of an array', `POST /v1/rollouts/0/ack HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n${AUTH}\r\n[]`, 400, 'invalid-body'],
  ['ack of step 10^21', `POST /v1/rollouts/999999999999999999999/ack HTTP/1.1\r\nHost: x\r\nContent-Length: 35\r\n${AUTH}\r\n{"consumer":"a","status":"trained"}`, 404, 'step-not-committed'],
  ['bad long-poll query', `GET /v1/rollouts/next?consumer=%zz&wait_s=abc HTTP/1.1\r\nHost: x\r\n${AUTH}\r\n`, 400, 'invalid-query'],
  ['huge body', `POST /v1/policy HTTP/1.1\r\nHost: x\r\nContent-Length: ${3 * MIB}\r\n${AUTH}\r\n${'x'.repeat(3 * MIB)}`, 413, 'body-too-large'],
  ['huge chunked body', `POST /v1/policy HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n${AUTH}\r\n${`100000\r\n${'x'.repeat(MIB)}\r\n`.repeat(3)}0\r\n\r\n`, 413, 'body-too-large'],
];

/** Sends every bad request and checks each got its 4xx/5xx answer (and, where there is one, a JSON error body). */
async function sendAllBad(port: number): Promise<void> {
  for (const [name, data, status, code] of BAD) {
    const reply = await raw(port, data);
    expect(statusOf(reply), `${name}: ${reply.slice(0, 300)}`).toBe(status);
    if (code !== null) expect(JSON.parse(bodyOf(reply)), name).toMatchObject({ error: code });
  }
  // Absolute-form (what a proxy sends) is routed by its path.
  expect(statusOf(await raw(port, `GET http://x/v1/health HTTP/1.1\r\nHost: x\r\n${AUTH}\r\n`))).toBe(200);
}

const servers: ExchangeServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

describe('exchange server under malformed requests', () => {
  it('answers each with a 4xx/5xx, reports none of them as a server error, and goes on serving', async () => {
    const errors: string[] = [];
    const srv = await startExchangeServer({ root: await tmpDir(), token: TOKEN, pollMs: 20, onError: (e, route) => errors.push(`${route}: ${String(e)}`) });
    servers.push(srv);
    await sendAllBad(srv.port);
    const health = await fetch(`${srv.url}/v1/health`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(health.status).toBe(200);
    // A client cutting its body short is the client's doing: a 400, not a 500 in the orchestrator's error log.
    expect(errors).toEqual([]);
  }, 60_000);
});

// ---------------------------------------------------------------- a live `grpo` process

function grpo(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'pipeline/cli/main.ts', 'grpo', ...args], {
    cwd: repoRoot,
    env: { ...process.env, FLOWREASONER_DATA_DIR: sharedDatasets, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null }>((resolve) => child.on('exit', (code) => resolve({ code })));
  const waitFor = async (re: RegExp, stream: 'stdout' | 'stderr', ms: number): Promise<RegExpExecArray> => {
    for (let waited = 0; waited < ms; waited += 100) {
      const m = re.exec(stream === 'stdout' ? stdout : stderr);
      if (m !== null) return m;
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no ${re} on ${stream}; stdout: ${stdout.slice(-1000)} stderr: ${stderr.slice(-2000)}`);
  };
  return { child, done, waitFor, out: () => stdout, err: () => stderr };
}

const FAST = ['--config', 'configs/demo.yaml', '--set', 'sim.latency.fixedMs=2', '--set', 'sim.latency.perTokenMs=0'];

describe('grpo under bad input and long runs', () => {
  it('keeps running through malformed requests, and says what it waits for while the trainer is away', async () => {
    const dir = await tmpDir();
    const out = path.join(dir, 'run');
    const g = grpo(
      [...FAST, '--out', out, '--set', `cache.dir=${path.join(dir, 'cache')}`, '--set', 'grpo.trainer.referenceConsumer=false', '--set', 'grpo.steps=2', '--set', 'grpo.policy.waitTimeoutS=600', '--set', 'grpo.exchange.tokenEnv=FR_ROBUST_TOKEN'],
      { FR_ROBUST_TOKEN: TOKEN },
    );
    try {
      const url = (await g.waitFor(/HTTP (http:\/\/\S+)/, 'stdout', 60_000))[1] as string;
      await sendAllBad(Number(new URL(url).port));
      const health = await fetch(`${url}/v1/health`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(health.status).toBe(200);
      expect(g.child.exitCode, g.err().slice(-2000)).toBeNull();
      expect(JSON.parse(readFileSync(path.join(out, 'run.json'), 'utf8')).status).toBe('running');
      // After step 0 nobody trains: step 1 needs policy version 1, and the wait says so with its limit.
      const line = (await g.waitFor(/waits for the trainer: policy version 1 .*\n/, 'stderr', 60_000))[0];
      expect(line).toMatch(/step 0 not acked yet; waited \d+s of 10m00s \(grpo\.policy\.waitTimeoutS\)/);
      expect(g.err()).not.toMatch(/at .*\.ts:\d+/);
      expect(g.child.exitCode).toBeNull();
    } finally {
      g.child.kill('SIGKILL');
      await g.done;
    }
  }, 120_000);

  it('grpo --resume with every step committed and acked ends at once with exit 0, and its cost names the grpo stage', async () => {
    const dir = await tmpDir();
    const out = path.join(dir, 'run');
    const first = grpo([...FAST, '--out', out, '--set', `cache.dir=${path.join(dir, 'cache')}`, '--set', 'grpo.steps=1']);
    expect((await first.done).code, first.err().slice(-2000)).toBe(0);
    // Spend by an earlier stage of the same run directory (as distill under `demo`): restored on resume, not GRPO's.
    const calls = path.join(out, 'calls.jsonl');
    const model = JSON.parse(readFileSync(calls, 'utf8').split('\n')[0] as string) as Record<string, unknown>;
    appendFileSync(calls, `${JSON.stringify({ ...model, role: 'teacher', stage: 'distill', queryId: 'q', cacheHit: false, cost: 1.5, spent: 1.5 })}\n`);

    const again = grpo(['--resume', out]);
    // A hang guard, not a timing assertion: before the fix this waited 120 s for steps that never come, then failed.
    const guard = setTimeout(() => again.child.kill('SIGKILL'), 60_000);
    const r = await again.done;
    clearTimeout(guard);
    expect(r.code, again.err().slice(-2000)).toBe(0);
    expect(again.out()).toContain('all 1 step already committed and acked by reference; nothing to do');
    const summary = JSON.parse(readFileSync(path.join(out, 'grpo', 'summary.json'), 'utf8')) as { stageCost: number; runCost: number; stepsThisRun: number };
    expect(summary.stepsThisRun).toBe(0);
    expect(summary.stageCost).toBeLessThan(1);
    expect(summary.runCost).toBeGreaterThanOrEqual(1.5);
    expect(again.out()).toMatch(/cost +\$\d+\.\d+ grpo stage .*, \$1\.\d+ whole run directory/);
  }, 120_000);
});

// ---------------------------------------------------------------- the reference consumer after a restart or resume

const SETTINGS: AdvantageRecord = { estimator: 'grpo', std: 'unbiased', eps: 1e-6, scale: 'group', filter: 'none', singleton: 'verl' };

function stepRows(step: number): RolloutRowInput[] {
  // Golden group C (shared/design/golden-advantages.json): rewards and their verl GRPO advantages.
  const rewards = [0.9, 0.1, 0.5, 0.3];
  const advs = [1.317461241, -1.024692077, 0.146384582, -0.439153747];
  return rewards.map((reward, i) => rolloutRow({
    group_id: `s${step}-g0`,
    group_size: 4,
    sample_idx: i,
    prompt_uid: 'p0',
    input_ids: [151644, 872, 198, 100 + i, 151645],
    loss_mask: [0, 0, 0, 1, 1],
    logprobs: [0, 0, 0, -0.25, -0.5],
    reward,
    advantage: advs[i] as number,
    policy_version_start: step,
    policy_version_end: step,
  }));
}

function consumer(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn('python3', [path.join(repoRoot, 'scripts', 'trainers', 'reference_consumer.py'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // A hang guard: a consumer that waits for steps that never come is killed, and the exit code shows it.
  const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(guard);
      resolve({ code, stdout, stderr });
    }),
  );
}

describe('reference_consumer.py --steps', () => {
  it('asks the server what is left: consumes only the unacked steps, and exits at once when none are', async () => {
    const root = await tmpDir();
    const srv = await startExchangeServer({ root, pollMs: 20 });
    servers.push(srv);
    await publishPolicy(root, { version: 0, served_model: 'policy', source: 'disk' });
    for (const step of [0, 1]) {
      await writeStep(root, step, stepRows(step), { run_id: 'run-robust', advantage: SETTINGS, dropped: { all_equal_groups: 0, unscorable_samples: 0 }, producer: { name: 'test', version: '0' } });
    }
    // Step 0 was acked by an earlier process of this consumer (e.g. before a resume).
    await writeAck(root, { consumer: 'ref', step: 0, status: 'trained', consumed_at: new Date().toISOString(), trained_policy_version: 1, rows_used: 4, rows_dropped: 0, metrics: {} });
    const base = ['--url', srv.url, '--consumer', 'ref', '--steps', '2', '--wait-s', '1'];
    const r1 = await consumer(base);
    expect(r1.code, r1.stderr).toBe(0);
    expect(r1.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { step: number }).step)).toEqual([1]);
    expect(await readAck(root, 1, 'ref')).toMatchObject({ status: 'trained' });
    const r2 = await consumer(base);
    expect(r2.code, r2.stderr).toBe(0);
    expect(r2.stdout).toBe('');
    expect(r2.stderr).toMatch(/"event": "done"/);
  }, 60_000);
});

// ---------------------------------------------------------------- waiting, progress and summary

describe('telling the user what is going on', () => {
  it('waitForPolicyVersion reports at once and then every reportEveryMs, with the version, the time waited and the limit', async () => {
    const root = await tmpDir();
    await publishPolicy(root, { version: 0, served_model: 'policy', source: 'disk' });
    const seen: PolicyWait[] = [];
    const wait = waitForPolicyVersion(root, 1, { pollMs: 10, reportEveryMs: 100, timeoutMs: 30_000, onWait: (w) => void seen.push(w) });
    for (let i = 0; i < 150 && seen.length < 3; i++) await new Promise((r) => setTimeout(r, 20));
    expect(seen.length).toBeGreaterThanOrEqual(3);
    await publishPolicy(root, { version: 1, served_model: 'policy', source: 'disk' });
    expect((await wait).version).toBe(1);
    expect(seen[0]).toMatchObject({ minVersion: 1, current: 0, timeoutMs: 30_000 });
    expect(seen[0]?.waitedMs).toBeLessThan(100);
    expect((seen[2]?.waitedMs ?? 0) - (seen[0]?.waitedMs ?? 0)).toBeGreaterThanOrEqual(190);
  });

  it('the progress line never prints a NaN or infinite eta, on a terminal or off one', () => {
    for (const isTTY of [true, false]) {
      let text = '';
      const stream = Object.assign(
        new Writable({
          write(chunk: Buffer, _enc, cb) {
            text += chunk.toString();
            cb();
          },
        }),
        { isTTY, columns: 120, rows: 40, cursorTo: () => true, moveCursor: () => true, clearLine: () => true, clearScreenDown: () => true },
      ) as unknown as NodeJS.WriteStream;
      // A tick that carries fields but no progress is what gave cli-progress an infinite rate.
      const bar = createProgress('grpo', 3, { stream, intervalMs: 0 });
      bar.tick(0, { step: 0 });
      bar.stop();
      expect(text, `isTTY=${isTTY}`).toMatch(/eta \?/);
      expect(text).not.toMatch(/eta [^?\s]*(NaN|Inf|INF|NF|LL|NULL)/);
    }
    expect(etaText(0, 3, 5)).toBe('?');
    expect(etaText(1, 2, 0)).toBe('?');
    expect(etaText(1, Infinity, 5)).toBe('?');
    expect(etaText(2, -1, 5)).toBe('?');
    expect(etaText(2, 0, 5)).toBe('0s');
    expect(etaText(1, 2, 30)).toBe('1m00s');
  });

  it('the summary cost names the grpo stage and the whole run apart', () => {
    const rows = grpoSummaryRows({
      steps: 2,
      promptSet: [],
      stepsThisRun: 0,
      firstStep: 2,
      exchangeRoot: '/x',
      exchangeUrl: 'http://127.0.0.1:1',
      meanReward: 0,
      meanPassRate: 0,
      filteredGroups: 0,
      finalPolicyVersion: 2,
      stageCost: 0,
      runCost: 1.25,
    });
    expect(Object.fromEntries(rows)).toMatchObject({ cost: '$0.0000 grpo stage (cache hits are free), $1.25 whole run directory', reward: 'no step sampled this run' });
  });
});
