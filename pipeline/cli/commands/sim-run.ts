// The work of `flowreasoner sim`, loaded only when the command runs (sim.ts registers it without the engine).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../config.ts';
import { startSimServer } from '../../sim/server.ts';
import { printSummary } from '../output.ts';
import type { SimCliOptions } from './sim.ts';

/** Serves the simulator until SIGINT or SIGTERM, then prints its request counts. */
export async function runSim(opts: SimCliOptions): Promise<void> {
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
}
