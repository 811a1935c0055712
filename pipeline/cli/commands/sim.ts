// `flowreasoner sim`: serve the simulated OpenAI-compatible model server until Ctrl-C.
import type { Command } from 'commander';
import { loadConfig } from '../../config/load.ts';
import { startSimServer } from '../../sim/server.ts';
import { collect } from '../run-context.ts';
import { printSummary } from '../output.ts';
import { existsSync } from 'node:fs';
import path from 'node:path';

interface SimCliOptions {
  config?: string;
  set?: string[];
  port?: string;
  host?: string;
  seed?: string;
}

export function registerSim(program: Command): void {
  program
    .command('sim')
    .description('Serve the built-in simulated model server (a deterministic OpenAI-compatible test double; not a real model).')
    .option('-c, --config <file>', 'config whose `sim` section is used')
    .option('--set <key=value>', 'override a config key (repeatable)', collect, [])
    .option('-p, --port <n>', 'port on 127.0.0.1 (default 8399; 0 = any free port)')
    .option('--host <addr>', 'address to bind (default 127.0.0.1)')
    .option('--seed <n>', 'seed of every simulated reply')
    .addHelpText(
      'after',
      `
Example:
  $ flowreasoner sim --port 8399
  $ curl -s localhost:8399/v1/models
Model names pick the simulated role: names containing "meta", "teacher", "policy" or "r1" answer as a meta-agent
(reasoning + <modification>/<graph>/<prompt>); names containing "worker" answer coding tasks. Stats: GET /sim/stats.`,
    )
    .action(async (opts: SimCliOptions) => {
      const loaded = await loadConfig({ ...(opts.config !== undefined ? { file: opts.config } : {}), overrides: opts.set ?? [] });
      const sim = loaded.config.sim;
      const dataDir = path.resolve(loaded.config.data.dir);
      const server = await startSimServer({
        ...sim,
        ...(opts.port !== undefined ? { port: Number(opts.port) } : {}),
        ...(opts.host !== undefined ? { host: opts.host } : {}),
        ...(opts.seed !== undefined ? { seed: Number(opts.seed) } : {}),
        ...(sim.dataDir === undefined && existsSync(dataDir) ? { dataDir } : {}),
      });
      process.stdout.write(`simulator listening on ${server.url} (Ctrl-C to stop)\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      const s = server.stats();
      await server.close();
      printSummary('sim', [
        ['url', server.url],
        ['requests', s.requests],
        ['completed', s.completed],
        ['by status', Object.entries(s.byStatus).map(([k, v]) => `${k}:${v}`).join(' ') || '-'],
        ['max in flight', s.maxInFlight],
      ]);
    });
}
