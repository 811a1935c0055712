// The simulated OpenAI-compatible model server: routes, lifecycle, stats and fault injection over node:http.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { z } from 'zod';
import { errorMessage, PipelineError } from '../errors.ts';
import { handleChat } from './chat.ts';
import { FaultSchema, type Fault } from './faults.ts';
import { errorBody, readBody, sendJson } from './http.ts';
import { FifoGate } from './limiter.ts';
import { listModelNames, resolveModel } from './models.ts';
import { SimOptionsSchema, type SimOptions, type SimOptionsInput } from './options.ts';
import { StatsRecorder, type SimStats } from './stats.ts';
import { TaskIndex } from './task-index.ts';

export type { SimStats } from './stats.ts';
export type InjectedFault = z.input<typeof FaultSchema>;

export interface SimServer {
  /** Base URL for an OpenAI client, ending in /v1. */
  readonly url: string;
  readonly port: number;
  readonly options: SimOptions;
  stats(): SimStats;
  resetStats(): void;
  /** Queued faults are met, in order, by the next chat requests, before any probabilistic fault. */
  injectFaults(faults: InjectedFault[]): void;
  /** Stops listening and ends every connection at once, hung and keep-alive ones included. */
  close(): Promise<void>;
}

const FaultListSchema = z.strictObject({ faults: z.array(FaultSchema) });

export async function startSimServer(opts: SimOptionsInput = {}, deps: { tasks?: TaskIndex } = {}): Promise<SimServer> {
  const parsedOptions = SimOptionsSchema.safeParse(opts);
  if (!parsedOptions.success) {
    throw new PipelineError('config-invalid', `Invalid simulator options:\n${z.prettifyError(parsedOptions.error)}`, {
      hint: 'Fix the keys named above; unknown keys are rejected.',
    });
  }
  const options = parsedOptions.data;
  const tasks = deps.tasks ?? (options.dataDir ? await TaskIndex.fromDataDir(options.dataDir) : new TaskIndex());
  const stats = new StatsRecorder();
  const gate = new FifoGate(options.maxConcurrency);
  const injected: Fault[] = [];
  const sockets = new Set<Socket>();
  const live = new Set<AbortController>();
  const startedAt = Math.floor(Date.now() / 1000);
  const ctx = { options, tasks, stats, gate, takeInjectedFault: () => injected.shift() };

  const snapshot = (): SimStats => stats.snapshot({ queued: gate.queued, running: gate.running });
  const inject = (faults: InjectedFault[]): void => {
    for (const f of faults) injected.push(FaultSchema.parse(f));
  };

  async function chat(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const controller = new AbortController();
    live.add(controller);
    stats.arrive();
    res.once('close', () => {
      live.delete(controller);
      controller.abort();
      stats.depart(res.writableFinished);
    });
    try {
      await handleChat(ctx, req, res, controller.signal);
    } catch (e) {
      // The client left or the server is closing: there is nobody to answer, and depart() counted it.
      if (controller.signal.aborted) return;
      throw e;
    }
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { pathname } = new URL(req.url ?? '/', 'http://sim.invalid');
    const key = `${req.method ?? 'GET'} ${pathname}`;
    if (key === 'POST /v1/chat/completions') return chat(req, res);
    if (key === 'GET /v1/models') {
      const data = listModelNames(options.models).map((id) => ({ id, object: 'model', created: startedAt, owned_by: 'flowreasoner-sim' }));
      return sendJson(res, 200, { object: 'list', data });
    }
    if (req.method === 'GET' && pathname.startsWith('/v1/models/')) {
      const id = decodeURIComponent(pathname.slice('/v1/models/'.length));
      // Any name a chat request would accept, including those matched by substring.
      if (resolveModel(id, options.models)) return sendJson(res, 200, { id, object: 'model', created: startedAt, owned_by: 'flowreasoner-sim' });
      return sendJson(res, 404, errorBody({ status: 404, message: `The model \`${id}\` does not exist.`, type: 'invalid_request_error', code: 'model_not_found', param: 'model' }));
    }
    if (key === 'GET /health') return sendJson(res, 200, { status: 'ok' });
    if (key === 'GET /sim/stats') return sendJson(res, 200, snapshot());
    if (key === 'POST /sim/reset') {
      stats.reset({ running: gate.running });
      return sendJson(res, 200, { ok: true });
    }
    if (key === 'POST /sim/faults') {
      // For a simulator running in another process (the CLI's `sim` command): the same queue as injectFaults().
      const parsed = FaultListSchema.safeParse(safeJson(await readBody(req, 1024 * 1024)));
      if (!parsed.success) {
        return sendJson(res, 400, errorBody({ status: 400, message: z.prettifyError(parsed.error), type: 'invalid_request_error', code: 'invalid_request' }));
      }
      inject(parsed.data.faults);
      return sendJson(res, 200, { queued: injected.length });
    }
    sendJson(res, 404, errorBody({ status: 404, message: `No route for ${key}.`, type: 'invalid_request_error', code: 'not_found' }));
  }

  const server = createServer((req, res) => {
    route(req, res).catch((e: unknown) => {
      if (!res.headersSent) {
        sendJson(res, 500, errorBody({ status: 500, message: `Simulator failure: ${errorMessage(e)}`, type: 'server_error', code: 'internal_error' }));
      } else {
        res.destroy(e instanceof Error ? e : new Error(errorMessage(e)));
      }
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error): void =>
      reject(
        new PipelineError('config-invalid', `The simulator cannot listen on ${options.host}:${options.port}: ${e.message}`, {
          hint: 'Choose another port, or 0 for any free one.',
          cause: e,
        }),
      );
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const hostForUrl = options.host.includes(':') ? `[${options.host}]` : options.host;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${hostForUrl}:${port}/v1`,
    port,
    options,
    stats: snapshot,
    resetStats: () => stats.reset({ running: gate.running }),
    injectFaults: inject,
    close: () => {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        for (const c of live) c.abort();
        for (const s of sockets) s.destroy();
      });
      return closing;
    },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // Reported by the schema check that follows, as "expected object".
    return undefined;
  }
}
