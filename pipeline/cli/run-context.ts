// Everything a stage command needs before it starts: config, run directory, logger, simulator (if used) and the gateway.
import { existsSync } from 'node:fs';
import { setMaxListeners } from 'node:events';
import path from 'node:path';
import { symbols as pinoSymbols } from 'pino';
import { loadConfig, type Config, type LoadedConfig } from './config.ts';
import { redactedConfig } from '../config/redact.ts';
import { baseUrlsOf } from '../config/endpoint-schema.ts';
import { PipelineError, diskFullError, errorClass, errorMessage, isNoSpace, isPipelineError } from '../errors.ts';
import { RunStore, type RunRecordStatus } from '../store/run-dir.ts';
import { readJournal } from '../store/journal.ts';
import { createRunLogger, type Logger } from '../log/logger.ts';
import { Gateway } from '../gateway/gateway.ts';
import type { CallRecord } from '../gateway/types.ts';
import { startSimServer, type SimServer } from '../sim/server.ts';
import type { CodeExecutor } from '../sandbox/create-executor.ts';
import type { StageDeps } from '../stage-deps.ts';
import { checkMetaAgentReply } from '../workflow/check-reply.ts';
import { resumedConfig } from './completed-run.ts';

export interface CommonOptions {
  config?: string;
  set?: string[];
  out?: string;
  resume?: string;
  /** commander turns --no-cache into cache: false. */
  cache?: boolean;
  allowConfigChange?: boolean;
}

export interface RunContext {
  loaded: LoadedConfig;
  config: Config;
  store: RunStore;
  logger: Logger;
  gateway: Gateway;
  sim: SimServer | null;
  signal: AbortSignal;
  resumed: boolean;
  close(status: RunRecordStatus, summary?: Record<string, unknown>, error?: unknown): Promise<void>;
}

/**
 * Where benchmark files are: FLOWREASONER_DATA_DIR, else data.dir when it was set or exists, else undefined
 * (the datasets' own default: ../shared/datasets beside a checkout).
 */
export function dataDirOf(config: Config): string | undefined {
  const env = process.env.FLOWREASONER_DATA_DIR;
  if (env !== undefined && env !== '') return env;
  if (config.data.dir !== 'data' || existsSync(config.data.dir)) return config.data.dir;
  return undefined;
}

function usesSim(config: Config): boolean {
  return Object.values(config.models).some((ep) => baseUrlsOf(ep).includes('sim'));
}

/** Starts the in-process simulator on a free port when an endpoint says `baseUrl: sim`. */
export async function startSimIfNeeded(config: Config): Promise<SimServer | null> {
  if (!usesSim(config)) return null;
  const dataDir = path.resolve(dataDirOf(config) ?? path.join(process.cwd(), '..', 'shared', 'datasets'));
  return startSimServer({ ...config.sim, port: 0, ...(config.sim.dataDir === undefined && existsSync(dataDir) ? { dataDir } : {}) });
}

/** Records a failure to finish opening a run in its run.json, and returns the error to report. */
async function finishEarly(store: RunStore, e: unknown): Promise<unknown> {
  const reason = store.writeFailure !== null && !isPipelineError(e, store.writeFailure.code) ? store.writeFailure : e;
  try {
    await store.finish(isPipelineError(reason, 'disk-full') ? 'disk-full' : 'failed', undefined, { code: errorClass(reason), message: errorMessage(reason) });
  } catch (finishError) {
    // Also no room for run.json's status: that is the message the user needs (it names run.json and its status).
    return finishError;
  }
  return reason;
}

export async function openRun(command: string, opts: CommonOptions, defaultConfig?: string): Promise<RunContext> {
  let store: RunStore;
  let loaded: LoadedConfig;
  let resumed = false;
  if (opts.resume !== undefined) {
    store = await RunStore.resume(opts.resume);
    const again = await resumedConfig(store.dir, store.info.source, opts.set ?? []);
    loaded = again.loaded;
    const entry = again.entry;
    if (again.changed && opts.allowConfigChange !== true) {
      throw new PipelineError('usage', `the configuration of ${store.dir} changed since the run started (${entry ?? 'defaults'} or --set differ)`, {
        hint: 'Restore the config, or pass --allow-config-change if the change is intended.',
      });
    }
    resumed = true;
  } else {
    const file = opts.config ?? defaultConfig;
    loaded = await loadConfig({ ...(file !== undefined ? { file } : {}), overrides: opts.set ?? [] });
    store = await RunStore.create({
      outRoot: loaded.config.run.outDir,
      command,
      name: loaded.config.run.name,
      ...(opts.out !== undefined ? { dir: opts.out } : {}),
      frozenConfig: redactedConfig(loaded),
      source: loaded.source,
    });
  }
  const config = loaded.config;
  const logFile = store.path('log.jsonl');
  const logger = createRunLogger(logFile, config.run.logLevel);
  // pino's file stream throws a failed write out of whatever logger call made it; caught here, it stops the run instead.
  const logStream = (logger as unknown as Record<symbol, NodeJS.EventEmitter | undefined>)[pinoSymbols.streamSym];
  logStream?.on('error', (e: unknown) => {
    store.noteWriteFailure(isNoSpace(e) ? diskFullError(logFile, e, 'later log lines are lost') : new PipelineError('journal-corrupt', `cannot write ${logFile}: ${errorMessage(e)}`, { cause: e }));
  });

  const controller = new AbortController();
  // Every call of a long run listens on this one signal.
  setMaxListeners(0, controller.signal);
  // A failed write stops the run even when the code that saw it carried on (a failed call counted inside a workflow).
  store.onWriteFailure((e) => controller.abort(e));
  const onSignal = (sig: NodeJS.Signals): void => {
    logger.warn({ signal: sig }, 'interrupted');
    controller.abort(new PipelineError('aborted', `interrupted by ${sig}`));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  let sim: SimServer | null = null;
  let gateway: Gateway;
  try {
    logger.info({ command, runDir: store.dir, resumed }, resumed ? 'run resumed' : 'run started');
    for (const [name, r] of store.repairs) logger.warn({ journal: name, droppedBytes: r.droppedBytes }, 'dropped a torn record at the end of a journal');
    sim = await startSimIfNeeded(config);
    if (sim !== null) logger.info({ url: sim.url }, 'simulator started in-process');
    const calls = await store.journal<CallRecord>('calls.jsonl');
    const callRepair = store.repairs.get('calls.jsonl');
    if (callRepair !== undefined) logger.warn({ droppedBytes: callRepair.droppedBytes }, 'calls.jsonl had a torn tail');
    gateway = new Gateway({
      models: config.models,
      budget: config.budget,
      ...(config.cache.enabled && opts.cache !== false ? { cacheDir: config.cache.dir } : {}),
      ...(sim !== null ? { simUrl: sim.url } : {}),
      journal: calls,
      seed: config.run.seed,
      // Replica down/up lines go to the run's log.
      logger,
    });
    // The response cache reports a full disk as the call's error, which a workflow run may count and go on from.
    gateway.onCall((r) => {
      if (r.errorClass === 'disk-full' || /\b(ENOSPC|EDQUOT)\b/.test(r.errorMessage ?? '')) {
        store.noteWriteFailure(new PipelineError('disk-full', `no space left for a model call's cache entry or journal record: ${r.errorMessage ?? ''}`, { hint: 'Free disk space, then rerun with --resume <run-dir>.' }));
      }
    });
    if (resumed) {
      const past: CallRecord[] = [];
      for await (const r of readJournal<CallRecord>(store.path('calls.jsonl'))) past.push(r);
      gateway.restore(past);
      logger.info({ calls: past.length, cost: gateway.accounting.total.cost }, 'restored accounting from calls.jsonl');
    }
  } catch (e) {
    // The run directory exists, so it must not be left saying `running`.
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await sim?.close();
    throw await finishEarly(store, e);
  }

  let closing = false;
  return {
    loaded,
    config,
    store,
    logger,
    gateway,
    sim,
    signal: controller.signal,
    resumed,
    async close(status, summary, error) {
      // Stages call close on success and again from their catch when the first close threw: the first one counts.
      if (closing) return;
      closing = true;
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      // A write failure that the stage never saw (a caught append, the log) decides the status, and is reported.
      const failure = store.writeFailure;
      const reason = failure !== null && !isPipelineError(error, failure.code) ? failure : error;
      const final: RunRecordStatus = isPipelineError(reason, 'disk-full') ? 'disk-full' : reason === failure && failure !== null ? 'failed' : status;
      const err = reason === undefined ? undefined : { code: errorClass(reason), message: errorMessage(reason) };
      if (err !== undefined) logger.error(err, 'run failed');
      logger.info({ status: final, summary }, 'run finished');
      try {
        await store.finish(final, summary, err);
      } finally {
        // Health probes of replicas stop with the run.
        await gateway.close();
        await sim?.close();
      }
      if (reason !== error) throw reason;
    },
  };
}

/** The part of a stage's deps every command fills the same way from its run context. */
export function stageDepsOf(ctx: RunContext, executor: CodeExecutor): StageDeps {
  return {
    seed: ctx.config.run.seed,
    dataDir: dataDirOf(ctx.config),
    partition: ctx.config.data.partition,
    store: ctx.store,
    gateway: ctx.gateway,
    executor,
    checkReply: checkMetaAgentReply,
    logger: ctx.logger,
  };
}
