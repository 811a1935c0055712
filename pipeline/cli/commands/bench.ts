// `flowreasoner bench`: lists the benchmarks and runs one (each prints figures; none asserts on time).
import type { Command } from 'commander';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { PipelineError } from '../../errors.ts';

interface Bench {
  script: string;
  what: string;
  /** Measures the build itself, so dist/ is brought up to date first (as `npm run bench:startup` does). */
  build?: boolean;
}

const BENCHES: Record<string, Bench> = {
  gateway: { script: 'scripts/bench/gateway-burst.ts', what: '2000 calls at concurrency 64 through the gateway to the simulator: cap, loss, duplicates, calls/s' },
  grpo: { script: 'scripts/bench/grpo-overhead.ts', what: 'one GRPO step on simulated policy and worker servers of fixed latency: wall time over the ideal bound' },
  exec: { script: 'scripts/bench/exec-throughput.ts', what: 'HumanEval reference solutions x5 (820 samples) through the sandboxed executor: samples/s' },
  startup: { script: 'scripts/bench/startup.mjs', what: '`flowreasoner --help` and `<command> --help` through the bin: median ms per command, the slowest last', build: true },
};

// Paths as the npm scripts give them, relative to the checkout the command runs in.
const RUNNER = 'scripts/build/run.mjs';
const BUILD = 'scripts/build/build.mjs';

/** Node's arguments for a script: TypeScript runs compiled from dist/ through the runner when the checkout has one, as `npm run bench:*` does. */
function nodeArgs(script: string): string[] {
  if (!script.endsWith('.ts')) return [script];
  return existsSync(RUNNER) ? [RUNNER, script] : ['--import', 'tsx', script];
}

function runNode(args: string[]): Promise<number> {
  return new Promise<number>((resolve) => {
    const child = spawn(process.execPath, args, { stdio: 'inherit' });
    child.on('exit', (c) => resolve(c ?? 1));
  });
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .argument('[name]', `benchmark to run: ${Object.keys(BENCHES).join(', ')}`)
    .description('Run a benchmark that prints figures (also: npm run bench:<name>).')
    .addHelpText('after', `\nBenchmarks:\n${Object.entries(BENCHES).map(([k, v]) => `  ${k.padEnd(10)} ${v.what}`).join('\n')}\n\nExample:\n  $ flowreasoner bench gateway`)
    .action(async (name: string | undefined) => {
      if (name === undefined) {
        for (const [k, v] of Object.entries(BENCHES)) process.stdout.write(`${k.padEnd(10)} ${v.what}\n`);
        return;
      }
      const b = BENCHES[name];
      if (b === undefined) throw new PipelineError('usage', `unknown benchmark "${name}"`, { hint: `Choose one of: ${Object.keys(BENCHES).join(', ')}` });
      const built = b.build === true && existsSync(BUILD) ? await runNode([BUILD, '--if-stale']) : 0;
      const code = built !== 0 ? built : await runNode(nodeArgs(b.script));
      if (code !== 0) process.exitCode = code;
    });
}
