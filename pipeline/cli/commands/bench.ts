// `flowreasoner bench`: lists the benchmarks and runs one (each prints figures; none asserts on time).
import type { Command } from 'commander';
import { spawn } from 'node:child_process';
import { PipelineError } from '../../errors.ts';

const BENCHES: Record<string, { script: string; what: string }> = {
  gateway: { script: 'scripts/bench/gateway-burst.ts', what: '2000 calls at concurrency 64 through the gateway to the simulator: cap, loss, duplicates, calls/s' },
  grpo: { script: 'scripts/bench/grpo-overhead.ts', what: 'one GRPO step on simulated policy and worker servers of fixed latency: wall time over the ideal bound' },
  exec: { script: 'scripts/bench/exec-throughput.ts', what: 'HumanEval reference solutions x5 (820 samples) through the sandboxed executor: samples/s' },
};

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
      const code = await new Promise<number>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', b.script], { stdio: 'inherit' });
        child.on('exit', (c) => resolve(c ?? 1));
      });
      if (code !== 0) process.exitCode = code;
    });
}
