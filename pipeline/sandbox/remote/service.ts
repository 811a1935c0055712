// The sandbox service: our sandboxed, faithful Executor behind HTTP. POST /v1/execute takes an ExecJob and answers the
// local executor's ExecResult (exact verdicts for a remote backend); POST /run_code speaks SandboxFusion's protocol so
// verl's `sandbox_fusion` reward settings can point at it; GET /v1/ping (SandboxFusion's) and GET /v1/health.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Executor } from '../executor.ts';
import type { SandboxConfigInput } from '../sandbox-config.ts';
import { bearerMatches, HttpError, readBody, readJsonBody, sendError, sendJson, tokenMatches } from '../../http/http-io.ts';
import { ExecJobSchema, RunCodeRequestSchema, type CommandRunResult, type RunCodeRequest, type RunCodeResponse } from './protocol.ts';
import { ScriptRunner, type RunCodeOutcome } from './run-code.ts';

export interface SandboxServiceOptions {
  /** The `sandbox` section (its `remote` key, if any, is ignored: a service always judges here). */
  sandbox: SandboxConfigInput;
  /** Variables the config reads keys from, for the executor's host-uid check (the token's variable belongs here too). */
  keyEnvNames?: readonly string[];
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: any free port, read back from `url`. */
  port?: number;
  /** When set, every route but /v1/ping and /v1/health needs `Authorization: Bearer <token>` (or `?token=` on /run_code). */
  token?: string;
  /** Largest request body (default 64 MiB: EvalPlus jobs carry their inputs); larger ones get 413. */
  maxBodyBytes?: number;
  /** stdout and stderr kept per /run_code run, each (default 1 MiB); the rest is drained. */
  runOutputBytes?: number;
  /** SandboxFusion's `executor_pod_name` (upstream reads MY_POD_NAME). */
  podName?: string | null;
  /** Told about every 500, so the caller can log it. */
  onError?: (error: unknown, route: string) => void;
}

export interface SandboxServiceStats {
  execute: number;
  runCode: number;
  inFlight: number;
  rejected: number;
}

export interface SandboxService {
  url: string;
  port: number;
  readonly executor: Executor;
  stats(): SandboxServiceStats;
  /** Stops taking requests (new ones get 503), lets the ones in flight finish (up to drainMs), then closes the sandboxes. */
  close(drainMs?: number): Promise<void>;
}

/** What FastAPI answers for a body its model refuses, so SandboxFusion clients see the error shape they know. */
function validationDetail(issues: ReadonlyArray<{ path: PropertyKey[]; message: string; code: string }>): { detail: Array<{ loc: Array<string | number>; msg: string; type: string }> } {
  return { detail: issues.slice(0, 10).map((i) => ({ loc: ['body', ...i.path.map((p) => (typeof p === 'number' ? p : String(p)))], msg: i.message, type: i.code })) };
}

function commandResult(o: RunCodeOutcome): CommandRunResult {
  if (o.kind === 'error') return { status: 'Error', execution_time: null, return_code: null, stdout: null, stderr: o.message };
  if (o.kind === 'timeout') return { status: 'TimeLimitExceeded', execution_time: o.executionTime, return_code: null, stdout: o.stdout, stderr: o.stderr };
  return { status: 'Finished', execution_time: o.executionTime, return_code: o.returnCode, stdout: o.stdout, stderr: o.stderr };
}

/** SandboxFusion's parse_run_status for a run with no compile step: Error → SandboxError (with its stderr), TLE or a non-zero code → Failed. */
export function runCodeResponse(o: RunCodeOutcome, podName: string | null): RunCodeResponse {
  const run = commandResult(o);
  const status = run.status === 'Error' ? 'SandboxError' : run.status === 'TimeLimitExceeded' || run.return_code !== 0 ? 'Failed' : 'Success';
  return { status, message: run.status === 'Error' ? (run.stderr ?? '') : '', compile_result: null, run_result: run, executor_pod_name: podName, files: o.kind === 'error' ? {} : o.files };
}

export async function startSandboxService(opts: SandboxServiceOptions): Promise<SandboxService> {
  const host = opts.host ?? '127.0.0.1';
  const maxBodyBytes = opts.maxBodyBytes ?? 64 << 20;
  const podName = opts.podName ?? null;
  const { remote: _ignored, ...local } = opts.sandbox;
  void _ignored;
  const keyEnvNames = opts.keyEnvNames ?? [];
  const executor = new Executor(local, { keyEnvNames });
  const runner = new ScriptRunner(executor.config, executor.info, opts.runOutputBytes ?? 1 << 20);
  const counts = { execute: 0, runCode: 0, inFlight: 0, rejected: 0 };
  let draining = false;
  let idle: (() => void) | null = null;
  const started = Date.now();
  const report = (e: unknown, route: string): void => {
    try {
      opts.onError?.(e, route);
    } catch {
      // The reporter itself failed; the request is answered either way.
    }
  };

  const authorized = (req: IncomingMessage, url: URL, allowQuery: boolean): boolean => {
    if (opts.token === undefined) return true;
    if (bearerMatches(req.headers.authorization, opts.token)) return true;
    const q = url.searchParams.get('token');
    return allowQuery && q !== null && tokenMatches(q, opts.token);
  };

  async function execute(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const job = await readJsonBody(req, maxBodyBytes, ExecJobSchema, 'invalid-job');
    let result;
    try {
      result = await executor.run(job);
    } catch (e) {
      // The sandbox itself failed (a worker that cannot start): no verdict here, so the client tries elsewhere.
      report(e, 'execute');
      throw new HttpError(503, 'sandbox-failed', (e as Error).message);
    }
    counts.execute++;
    const id = req.headers['x-flowreasoner-job-id'];
    sendJson(res, 200, result, typeof id === 'string' && id.length <= 128 ? { 'x-flowreasoner-job-id': id } : {});
  }

  async function runCode(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req, maxBodyBytes);
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch (e) {
      sendJson(res, 422, { detail: [{ loc: ['body'], msg: `JSON decode error: ${(e as Error).message}`, type: 'json_invalid' }] });
      return;
    }
    const parsed = RunCodeRequestSchema.safeParse(json);
    if (!parsed.success) {
      sendJson(res, 422, validationDetail(parsed.error.issues));
      return;
    }
    const r: RunCodeRequest = parsed.data;
    if (r.language !== 'python') {
      // A language SandboxFusion knows but this server does not run: its own answer for a run that could not happen.
      const resp: RunCodeResponse = {
        status: 'SandboxError',
        message: `language "${r.language}" is not supported by the flowreasoner sandbox service (python only)`,
        compile_result: null,
        run_result: null,
        executor_pod_name: podName,
        files: {},
      };
      sendJson(res, 200, resp);
      return;
    }
    const memoryMb = r.memory_limit_MB > 0 ? r.memory_limit_MB : executor.config.memoryMb;
    const outcome = await runner.run({ code: r.code, stdin: r.stdin, files: r.files, fetchFiles: r.fetch_files, runTimeoutS: r.run_timeout, memoryMb });
    counts.runCode++;
    sendJson(res, 200, runCodeResponse(outcome, podName));
  }

  const server = createServer((req, res) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://sandbox.invalid');
    } catch {
      sendError(res, 400, 'bad-target', 'the request target is not a path');
      return;
    }
    const route = `${req.method ?? ''} ${url.pathname}`;
    if (route === 'GET /v1/ping') return sendJson(res, 200, 'pong');
    if (route === 'GET /v1/health') {
      return sendJson(res, draining ? 503 : 200, {
        status: draining ? 'draining' : 'ok',
        mode: executor.info.mode,
        workers: executor.config.workers,
        inFlight: counts.inFlight,
        served: { execute: counts.execute, runCode: counts.runCode },
        uptimeS: Math.round((Date.now() - started) / 1000),
      });
    }
    const handler = route === 'POST /v1/execute' ? execute : route === 'POST /run_code' ? runCode : null;
    if (handler === null) {
      const known = ['/v1/execute', '/run_code', '/v1/ping', '/v1/health'].includes(url.pathname);
      req.resume();
      return sendError(res, known ? 405 : 404, known ? 'method-not-allowed' : 'not-found', known ? `${req.method ?? ''} is not allowed on ${url.pathname}` : `no route ${url.pathname}`);
    }
    if (!authorized(req, url, url.pathname === '/run_code')) {
      counts.rejected++;
      req.resume();
      return sendError(res, 401, 'unauthorized', 'missing or wrong bearer token', { 'www-authenticate': 'Bearer' });
    }
    if (draining) {
      req.resume();
      return sendError(res, 503, 'shutting-down', 'the sandbox service is shutting down; send the job elsewhere', { connection: 'close' });
    }
    counts.inFlight++;
    handler(req, res)
      .catch((e: unknown) => {
        if (e instanceof HttpError) {
          if (e.status === 413) counts.rejected++;
          // After a 413 the rest of the body is not read: closing the connection keeps it from being parsed as a request.
          sendError(res, e.status, e.code, e.message, e.status === 413 ? { connection: 'close' } : {});
          return;
        }
        report(e, route);
        sendError(res, 500, 'internal', (e as Error).message);
      })
      .finally(() => {
        counts.inFlight--;
        if (counts.inFlight === 0) idle?.();
      });
  });
  // Longer than any client's idle keep-alive, so a client never reuses a socket this side is closing.
  server.keepAliveTimeout = 65_000;
  // Jobs may take minutes; only the request itself (headers and body) is bounded here.
  server.requestTimeout = 300_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;

  let closing: Promise<void> | null = null;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    executor,
    stats: () => ({ ...counts }),
    close(drainMs = 60_000): Promise<void> {
      closing ??= (async () => {
        draining = true;
        server.close();
        server.closeIdleConnections();
        if (counts.inFlight > 0) {
          await new Promise<void>((resolve) => {
            idle = resolve;
            setTimeout(resolve, drainMs).unref();
          });
        }
        server.closeAllConnections();
        await runner.close();
        await executor.close();
      })();
      return closing;
    },
  };
}
