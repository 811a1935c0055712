// The sandbox service (`flowreasoner serve sandbox`) and the remote executor: the same verdicts as the local executor
// on the same jobs, through our protocol and SandboxFusion's; failover without lost or duplicated verdicts when a
// service dies with jobs in flight; SandboxFusion's /run_code shapes; token, body limit, loopback default, drain.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, rmdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Executor } from '../pipeline/sandbox/executor.ts';
import type { ExecJob, ExecResult } from '../pipeline/sandbox/job.ts';
import { RemoteExecutor } from '../pipeline/sandbox/remote/remote-executor.ts';
import { createExecutor } from '../pipeline/sandbox/create-executor.ts';
import { EXEC_CASES, verdictOf } from './helpers/exec-cases.ts';
import { runCli } from './helpers/cli.ts';
import { repoRoot, tmpDir } from './helpers/tmp.ts';

const TOKEN_ENV = 'FR_TEST_SANDBOX_TOKEN';
const TOKEN = 'test-token-5f0c2a';

interface Service {
  url: string;
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `flowreasoner serve sandbox --port 0` as a user starts it; resolves with the URL it prints. */
function startService(extra: string[] = []): Promise<Service> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'pipeline/cli/main.ts', 'serve', 'sandbox', '--port', '0', '--workers', '2', '--token-env', TOKEN_ENV, ...extra], {
    cwd: repoRoot,
    env: { ...process.env, [TOKEN_ENV]: TOKEN },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start: ${out}`)), 40_000);
    const onData = (): void => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m === null) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      resolve({ url: m[1] as string, child, output: () => out, exited });
    };
    child.stdout.on('data', onData);
    void exited.then(({ code }) => reject(new Error(`service exited (${code}) before listening: ${out}`)));
  });
}

/** A raw POST (fetch hides what a 413 on a large body looks like); resolves with status and parsed body. */
function post(url: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const data = typeof body === 'string' ? Buffer.from(body) : body;
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(data.length), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown = text;
        try {
          json = JSON.parse(text);
        } catch {
          // left as text
        }
        resolve({ status: res.statusCode ?? 0, json });
      });
    });
    req.on('error', reject);
    req.end(data);
  });
}

/** A service killed with SIGKILL cannot remove its pids cgroups (flowreasoner-<pid>/slot-*); empty by now, they are removed here. */
function removeCgroupsOf(pid: number | undefined): void {
  if (pid === undefined) return;
  for (const h of ['/sys/fs/cgroup/pids', '/sys/fs/cgroup/freezer', '/sys/fs/cgroup']) {
    const top = path.join(h, `flowreasoner-${pid}`);
    if (!existsSync(top)) continue;
    try {
      for (const d of readdirSync(top, { withFileTypes: true })) if (d.isDirectory()) rmdirSync(path.join(top, d.name));
      rmdirSync(top);
    } catch {
      // Best effort: a slot whose last process is still exiting stays behind, as after any SIGKILL.
    }
  }
}

const auth = { authorization: `Bearer ${TOKEN}` };
const remoteOf = (urls: string[], extra: Record<string, unknown> = {}): RemoteExecutor =>
  new RemoteExecutor({ remote: { urls, tokenEnv: TOKEN_ENV, concurrencyPerUrl: 2, ...extra } }, { env: { [TOKEN_ENV]: TOKEN } });

let a: Service;
let b: Service;
let local: Executor;
const localVerdicts = new Map<string, ExecResult>();

beforeAll(async () => {
  local = new Executor({ workers: 2 });
  [a, b] = await Promise.all([startService(), startService(['--max-body-mb', '2'])]);
  const rs = await Promise.all(EXEC_CASES.map((c) => local.run(c.job)));
  EXEC_CASES.forEach((c, i) => localVerdicts.set(c.name, rs[i] as ExecResult));
});

afterAll(async () => {
  await local.close();
  for (const s of [a, b]) if (s !== undefined && s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
});

describe('remote executor over /v1/execute', () => {
  it('gives exactly the local verdicts on the executor cases, spread over both services', async () => {
    for (const c of EXEC_CASES) expect(localVerdicts.get(c.name), c.name).toMatchObject(c.expect);
    const remote = remoteOf([a.url, b.url]);
    try {
      const rs = await Promise.all(EXEC_CASES.map((c) => remote.run(c.job)));
      EXEC_CASES.forEach((c, i) => expect(verdictOf(rs[i] as ExecResult), c.name).toEqual(verdictOf(localVerdicts.get(c.name) as ExecResult)));
      const s = remote.stats();
      expect(s).toMatchObject({ jobs: EXEC_CASES.length, verdicts: EXEC_CASES.length, sandboxErrors: 0, retries: 0 });
      expect(s.urls.map((u) => u.served > 0)).toEqual([true, true]);
    } finally {
      await remote.close();
    }
  });

  it('is what createExecutor builds when sandbox.remote is set, and refuses a token variable that is not set', async () => {
    const ex = createExecutor({ remote: { urls: [a.url], tokenEnv: TOKEN_ENV } }, { env: { [TOKEN_ENV]: TOKEN } });
    expect(ex).toBeInstanceOf(RemoteExecutor);
    await ex.close();
    expect(() => createExecutor({ remote: { urls: [a.url], tokenEnv: 'FR_TEST_NOT_SET_ANYWHERE' } }, { env: {} })).toThrow(/FR_TEST_NOT_SET_ANYWHERE, which is not set/);
  });

  it('judges a stage\'s jobs on the services when the config sets sandbox.remote (flowreasoner evaluate)', async () => {
    const served = async (): Promise<number> => ((await (await fetch(`${a.url}/v1/health`)).json()) as { served: { execute: number } }).served.execute;
    const before = await served();
    const r = await runCli(
      ['evaluate', '--dataset', 'humaneval', '--reference', '--ids', 'HumanEval/0', '--ids', 'HumanEval/1', '--ids', 'HumanEval/2', '--out', path.join(await tmpDir('fr-remote-eval-'), 'r.jsonl'),
        '--set', `sandbox.remote.urls=[${a.url}]`, '--set', `sandbox.remote.tokenEnv=${TOKEN_ENV}`],
      { [TOKEN_ENV]: TOKEN },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/sandbox\s+remote/);
    expect(r.stdout).toMatch(/status\s+pass:3\n/);
    expect((await served()) - before).toBe(3);
  });

  it('answers sandbox-error, never a failure, when no service can judge, and with a wrong token', async () => {
    const dead = new RemoteExecutor({ remote: { urls: ['http://127.0.0.1:9'], retries: 2 } });
    const wrong = new RemoteExecutor({ remote: { urls: [a.url], tokenEnv: TOKEN_ENV, retries: 1 } }, { env: { [TOKEN_ENV]: 'not-the-token' } });
    try {
      const job = (EXEC_CASES[1] as (typeof EXEC_CASES)[number]).job;
      const [r1, r2] = await Promise.all([dead.run(job), wrong.run(job)]);
      expect(r1).toMatchObject({ passed: false, status: 'sandbox-error' });
      expect(r1.result).toMatch(/no server judged the job after 3 attempts .*ECONNREFUSED/);
      expect(r2).toMatchObject({ passed: false, status: 'sandbox-error' });
      expect(r2.result).toMatch(/HTTP 401/);
      expect(dead.stats()).toMatchObject({ jobs: 1, verdicts: 0, sandboxErrors: 1, attempts: 3 });
    } finally {
      await dead.close();
      await wrong.close();
    }
  });
});

describe('remote executor over SandboxFusion /run_code', () => {
  it('gives the local verdicts on check and asserts jobs, and refuses the other harnesses as sandbox-error', async () => {
    const sf = remoteOf([`${a.url}/run_code`], { protocol: 'sandbox-fusion' });
    try {
      const rs = await Promise.all(EXEC_CASES.map((c) => sf.run(c.job)));
      EXEC_CASES.forEach((c, i) => {
        const r = rs[i] as ExecResult;
        const l = localVerdicts.get(c.name) as ExecResult;
        if (c.job.harness === 'evalplus') {
          expect(r.status, c.name).toBe('sandbox-error');
          expect(r.result).toMatch(/evalplus harness is not judged over the sandbox-fusion protocol/);
          return;
        }
        const core = (x: ExecResult): Partial<ExecResult> => ({ passed: x.passed, status: x.status, result: x.result, tests: x.tests, firstFailure: x.firstFailure, missing: x.missing });
        expect(core(r), c.name).toEqual(core(l));
      });
    } finally {
      await sf.close();
    }
  });
});

describe('POST /run_code (SandboxFusion shapes)', () => {
  const run = (body: Record<string, unknown>): Promise<{ status: number; json: unknown }> => post(`${b.url}/run_code`, JSON.stringify({ language: 'python', ...body }), auth);

  it('answers a passing, a failing and a timing-out program as SandboxFusion does', async () => {
    const [ok, failed, raised, tle] = await Promise.all([
      run({ code: 'print(input()[::-1])', stdin: 'abc\n' }),
      run({ code: 'import sys\nprint("partial")\nprint("bad", file=sys.stderr)\nsys.exit(3)' }),
      run({ code: 'raise ValueError("boom")' }),
      run({ code: 'print("started", flush=True)\nwhile True:\n    pass', run_timeout: 1 }),
    ]);
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ status: 'Success', message: '', compile_result: null, executor_pod_name: null, files: {} });
    expect((ok.json as { run_result: unknown }).run_result).toMatchObject({ status: 'Finished', return_code: 0, stdout: 'cba\n', stderr: '' });
    expect(typeof (ok.json as { run_result: { execution_time: unknown } }).run_result.execution_time).toBe('number');
    expect(failed.json).toMatchObject({ status: 'Failed', message: '', run_result: { status: 'Finished', return_code: 3, stdout: 'partial\n', stderr: 'bad\n' } });
    expect(raised.json).toMatchObject({ status: 'Failed', run_result: { status: 'Finished', return_code: 1 } });
    expect((raised.json as { run_result: { stderr: string } }).run_result.stderr).toMatch(/ValueError: boom/);
    expect(tle.json).toMatchObject({ status: 'Failed', run_result: { status: 'TimeLimitExceeded', return_code: null, stdout: 'started\n' } });
    expect((tle.json as { run_result: { execution_time: number } }).run_result.execution_time).toBeGreaterThanOrEqual(1);
  });

  it('writes files, fetches files, and says what it does not run', async () => {
    const b64 = (s: string): string => Buffer.from(s).toString('base64');
    const r = await run({
      code: 'open("out/result.txt", "w").write(open("data/in.txt").read().upper()) if __import__("os").makedirs("out", exist_ok=True) is None else None',
      files: { 'data/in.txt': b64('hello'), 'skipped.txt': null },
      fetch_files: ['out/result.txt', 'not-there.txt'],
    });
    expect(r.json).toMatchObject({ status: 'Success', files: { 'out/result.txt': b64('HELLO') } });
    expect(Object.keys((r.json as { files: object }).files)).toEqual(['out/result.txt']);
    const cpp = await run({ code: 'int main() {}', language: 'cpp' });
    expect(cpp.json).toMatchObject({ status: 'SandboxError', run_result: null, compile_result: null });
    expect((cpp.json as { message: string }).message).toMatch(/language "cpp" is not supported .*python only/);
    const unknown = await run({ code: 'x', language: 'klingon' });
    expect(unknown.status).toBe(422);
    expect((unknown.json as { detail: Array<{ loc: unknown[] }> }).detail[0]?.loc).toEqual(['body', 'language']);
    const escape = await run({ code: 'x', files: { '../etc/x': b64('x') } });
    expect(escape.status).toBe(422);
  });
});

describe('access and limits', () => {
  it('wants the token (401), takes it as ?token= on /run_code, refuses a huge body (413), and pings without one', async () => {
    const job = JSON.stringify((EXEC_CASES[0] as (typeof EXEC_CASES)[number]).job);
    expect((await post(`${b.url}/v1/execute`, job)).status).toBe(401);
    expect((await post(`${b.url}/v1/execute`, job, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await post(`${b.url}/run_code`, JSON.stringify({ code: 'print(1)', language: 'python' }))).status).toBe(401);
    const viaQuery = await post(`${b.url}/run_code?token=${TOKEN}`, JSON.stringify({ code: 'print(1)', language: 'python' }));
    expect(viaQuery.json).toMatchObject({ status: 'Success', run_result: { stdout: '1\n' } });
    // b was started with --max-body-mb 2.
    const huge = JSON.stringify({ ...JSON.parse(job), program: `# ${'x'.repeat(3 << 20)}\n` });
    const tooBig = await post(`${b.url}/v1/execute`, huge, auth);
    expect(tooBig.status).toBe(413);
    expect(tooBig.json).toMatchObject({ error: 'body-too-large' });
    expect((await post(`${b.url}/v1/execute`, '{"harness": "nope"}', auth)).status).toBe(400);
    expect(await (await fetch(`${b.url}/v1/ping`)).json()).toBe('pong');
    expect(await (await fetch(`${b.url}/v1/health`)).json()).toMatchObject({ status: 'ok', workers: 2 });
  });

  it('binds loopback unless told otherwise, and refuses another address without a token', async () => {
    expect(new URL(a.url).hostname).toBe('127.0.0.1');
    const r = await runCli(['serve', 'sandbox', '--host', '0.0.0.0', '--port', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--host 0\.0\.0\.0 is not loopback: give --token-env/);
  });
});

describe('failover', () => {
  it('loses and duplicates no verdict when a service is killed with jobs in flight', async () => {
    // Slow enough (0.25 s each) that both services hold jobs when one dies; verdicts differ per job.
    const jobs: Array<{ id: string; job: ExecJob }> = Array.from({ length: 24 }, (_, i) => ({
      id: `job-${i}`,
      job:
        i % 2 === 0
          ? { harness: 'check', program: `import time\ntime.sleep(0.25)\ndef f(x):\n    return x + ${i % 4 === 0 ? 1 : 2}\n`, test: `def check(c):\n    assert c(1) == 2, "job ${i}"\n`, entryPoint: 'f', timeoutS: 5 }
          : { harness: 'asserts', program: `import time\ntime.sleep(0.25)\ndef f(x):\n    return x * ${i}\n`, entryPoint: 'f', tests: [{ name: 'one', code: `assert f(1) == ${i % 3 === 0 ? i : -1}, "job ${i}"` }], timeoutS: 5 },
    }));
    const expected = await Promise.all(jobs.map((j) => local.run(j.job)));
    const remote = remoteOf([a.url, b.url], { retries: 4 });
    const answers = new Map<string, ExecResult[]>();
    try {
      const pending = jobs.map((j) =>
        remote.run(j.job).then((r) => {
          answers.set(j.id, [...(answers.get(j.id) ?? []), r]);
          return r;
        }),
      );
      // Kill a once it is judging: its jobs in flight are cut, the rest must go to b.
      for (let t = 0; t < 200 && remote.stats().verdicts < 2; t++) await new Promise((r) => setTimeout(r, 25));
      expect(remote.stats().urls[0]?.outstanding).toBeGreaterThan(0);
      a.child.kill('SIGKILL');
      expect((await a.exited).signal).toBe('SIGKILL');
      removeCgroupsOf(a.child.pid);
      const rs = await Promise.all(pending);
      expect(rs).toHaveLength(jobs.length);
      jobs.forEach((j, i) => {
        expect(answers.get(j.id), j.id).toHaveLength(1);
        expect(verdictOf(rs[i] as ExecResult), j.id).toEqual(verdictOf(expected[i] as ExecResult));
      });
      const s = remote.stats();
      expect(s).toMatchObject({ jobs: jobs.length, verdicts: jobs.length, sandboxErrors: 0 });
      expect(s.retries).toBeGreaterThan(0);
      expect(s.failovers).toBeGreaterThan(0);
      expect(s.attempts).toBe(jobs.length + s.retries);
    } finally {
      await remote.close();
    }
  });

  it('drains on SIGTERM: a job in flight still gets its verdict, then the service exits 0', async () => {
    const remote = remoteOf([b.url], { retries: 0 });
    try {
      const slow = remote.run({ harness: 'check', program: 'import time\ntime.sleep(1.5)\ndef f():\n    return 1\n', test: 'def check(c):\n    assert c() == 1\n', entryPoint: 'f', timeoutS: 5 });
      await new Promise((r) => setTimeout(r, 500));
      b.child.kill('SIGTERM');
      expect(await slow).toMatchObject({ passed: true, result: 'passed' });
      expect((await b.exited).code).toBe(0);
      expect(b.output()).toMatch(/== serve sandbox ==[\s\S]*jobs\s+\d+/);
    } finally {
      await remote.close();
    }
  });
});
