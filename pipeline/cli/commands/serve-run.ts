// The work of `flowreasoner serve sandbox`, loaded only when the command runs (serve.ts registers it without the engine).
import { PipelineError } from '../../errors.ts';
import { keyEnvNamesOf } from '../../sandbox/host-uid-guard.ts';
import { startSandboxService } from '../../sandbox/remote/service.ts';
import { loadConfig } from '../config.ts';
import { printSummary } from '../output.ts';
import type { ServeSandboxOptions } from './serve.ts';

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function number(name: string, v: string, min: number): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < min) throw new PipelineError('usage', `${name} expects a number >= ${min}, got "${v}"`);
  return n;
}

/** Serves until SIGINT or SIGTERM, then stops taking jobs, lets those in flight finish and prints the counts. */
export async function runServeSandbox(opts: ServeSandboxOptions): Promise<void> {
  const port = number('--port', opts.port, 0);
  if (!Number.isInteger(port) || port > 65535) throw new PipelineError('usage', `--port expects 0..65535, got "${opts.port}"`);
  const maxBodyBytes = Math.round(number('--max-body-mb', opts.maxBodyMb, 0.001) * (1 << 20));
  const workers = opts.workers !== undefined ? number('--workers', opts.workers, 1) : undefined;
  if (workers !== undefined && !Number.isInteger(workers)) throw new PipelineError('usage', `--workers expects a whole number, got "${opts.workers}"`);
  if (opts.mode !== undefined && !['auto', 'bwrap', 'process'].includes(opts.mode)) throw new PipelineError('usage', `--mode expects auto, bwrap or process, got "${opts.mode}"`);
  let token: string | undefined;
  if (opts.tokenEnv !== undefined) {
    token = process.env[opts.tokenEnv];
    if (token === undefined || token === '') throw new PipelineError('env-missing', `--token-env names ${opts.tokenEnv}, which is not set`, { hint: `export ${opts.tokenEnv}=$(openssl rand -hex 16)` });
  }
  if (!isLoopback(opts.host) && token === undefined) {
    // Anyone who can reach the port could run code on this machine: off loopback, a token is not optional.
    throw new PipelineError('usage', `--host ${opts.host} is not loopback: give --token-env VAR so only holders of the token can run code here`);
  }
  const loaded = await loadConfig({ ...(opts.config !== undefined ? { file: opts.config } : {}), overrides: opts.set ?? [] });
  const sandbox = { ...loaded.config.sandbox, ...(workers !== undefined ? { workers } : {}), ...(opts.mode !== undefined ? { mode: opts.mode } : {}) };
  const service = await startSandboxService({
    sandbox,
    // The token is a secret of this process too: process mode refuses to expose it to candidate code, as it does keys.
    keyEnvNames: [...keyEnvNamesOf(loaded.config), ...(opts.tokenEnv !== undefined ? [opts.tokenEnv] : [])],
    host: opts.host,
    port,
    ...(token !== undefined ? { token } : {}),
    maxBodyBytes,
    podName: process.env.MY_POD_NAME ?? null,
    onError: (e, route) => process.stderr.write(`error: ${route}: ${e instanceof Error ? e.message : String(e)}\n`),
  });
  if (service.executor.info.warning !== null) process.stderr.write(`warning: ${service.executor.info.warning}\n`);
  try {
    // Started now, so a sandbox that cannot run here (or a refused host-uid setup) fails the command, not the first job.
    await service.executor.warmup();
  } catch (e) {
    await service.close(0);
    throw e;
  }
  const { mode, workers: n } = service.executor.info;
  process.stdout.write(`sandbox service listening on ${service.url} (${mode}, ${n} workers${token !== undefined ? ', bearer token required' : ''}; Ctrl-C to stop)\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  process.stdout.write('draining: no new jobs; waiting for those in flight\n');
  await service.close();
  const s = service.stats();
  printSummary('serve sandbox', [
    ['url', service.url],
    ['sandbox', `${mode}, ${n} workers`],
    ['jobs', s.execute],
    ['run_code', s.runCode],
    ['rejected', s.rejected],
  ]);
}
