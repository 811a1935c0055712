// `flowreasoner serve sandbox`: our sandboxed executor as an HTTP service (our /v1/execute and SandboxFusion's /run_code).
import type { Command } from 'commander';
import { collect } from '../options.ts';

export interface ServeSandboxOptions {
  config?: string;
  set?: string[];
  host: string;
  port: string;
  workers?: string;
  mode?: 'auto' | 'bwrap' | 'process';
  tokenEnv?: string;
  maxBodyMb: string;
}

export function registerServe(program: Command): void {
  const serve = program.command('serve').description('Serve a part of the pipeline over HTTP (sandbox: the code executor).');
  serve
    .command('sandbox')
    .description("Serve the sandboxed code executor: POST /v1/execute (an ExecJob in, the local executor's ExecResult out) and SandboxFusion's POST /run_code for verl's sandbox_fusion rewards.")
    .option('-c, --config <file>', 'config whose `sandbox` section is used')
    .option('--set <key=value>', 'override a config key (repeatable)', collect, [])
    .option('--host <addr>', 'address to bind; anything but loopback needs --token-env', '127.0.0.1')
    .option('-p, --port <n>', 'port (0 = any free port; the URL is printed)', '8300')
    .option('-w, --workers <n>', 'warm sandbox interpreters (default: one per core)')
    .option('--mode <mode>', 'sandbox: auto | bwrap | process')
    .option('--token-env <VAR>', 'require `Authorization: Bearer $VAR` (or ?token= on /run_code, for clients that send no headers)')
    .option('--max-body-mb <n>', 'largest request body in MiB (larger: 413)', '64')
    .addHelpText(
      'after',
      `
Example:
  $ export SANDBOX_TOKEN=$(openssl rand -hex 16)
  $ flowreasoner serve sandbox --port 8300 --token-env SANDBOX_TOKEN --workers 8
  $ curl -s localhost:8300/run_code -H "authorization: Bearer $SANDBOX_TOKEN" \\
      -d '{"code": "print(input())", "stdin": "hi", "language": "python"}'
Routes: POST /v1/execute (our ExecJob → ExecResult: the exact local verdicts; use it from other machines with
sandbox.remote.urls), POST /run_code (SandboxFusion's request and response; python only), GET /v1/ping, GET /v1/health.
verl: reward_model.sandbox_fusion.url=http://HOST:8300/run_code?token=... (verl sends no headers). SIGTERM drains.`,
    )
    .action(async (opts: ServeSandboxOptions) => (await import('./serve-run.ts')).runServeSandbox(opts));
}
