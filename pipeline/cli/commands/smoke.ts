// `flowreasoner smoke` and `flowreasoner demo`: a gateway smoke run against configured endpoints (demo: on the simulator).
import type { Command } from 'commander';
import type { CommonOptions } from '../run-context.ts';
import { collect } from '../options.ts';

export interface SmokeOptions extends CommonOptions {
  calls?: string;
  role?: string[];
}

function addCommon(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'YAML config')
    .option('--set <key=value>', 'override a config key, e.g. --set models.worker.limits.concurrency=16 (repeatable)', collect, [])
    .option('-o, --out <dir>', 'run directory (default: runs/<run-id>)')
    .option('--resume <run-dir>', 'continue an earlier run')
    .option('--allow-config-change', 'with --resume: accept a config that differs from the frozen one')
    .option('--no-cache', 'bypass the response cache')
    .option('--calls <n>', 'calls per role')
    .option('--role <name>', 'only this role (repeatable)', collect, []);
}

export function registerSmoke(program: Command): void {
  addCommon(program.command('smoke'))
    .description('Gateway smoke run: distinct calls to every configured role, with limits, retries, cache, cost and journal.')
    .addHelpText('after', '\nExample:\n  $ flowreasoner smoke --config configs/distill.yaml --calls 5 --role worker')
    .action(async (opts: SmokeOptions) => (await import('./smoke-run.ts')).smokeAction('smoke', opts, undefined));
}
