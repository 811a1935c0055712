// `flowreasoner sim`: serve the simulated OpenAI-compatible model server until Ctrl-C.
import type { Command } from 'commander';
import { collect } from '../options.ts';

export interface SimCliOptions {
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
    .action(async (opts: SimCliOptions) => (await import('./sim-run.ts')).runSim(opts));
}
