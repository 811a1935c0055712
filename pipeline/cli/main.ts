// The `flowreasoner` command line: one program, one file per subcommand, exit codes 0 / 1 / 2.
import { Command, CommanderError } from 'commander';
import { registerSim } from './commands/sim.ts';
import { registerSmoke } from './commands/smoke.ts';
import { registerBench } from './commands/bench.ts';
import { registerPending } from './commands/pending.ts';
import { registerEvaluate } from './commands/evaluate.ts';
import { registerDistill } from './commands/distill.ts';
import { registerDemo } from './commands/demo.ts';
import { registerSft } from './commands/sft.ts';
import { registerWorkflow } from './commands/workflow.ts';
import { registerGrpo } from './commands/grpo.ts';
import { EXIT_USAGE, exitCodeFor } from './exit-codes.ts';
import { printError } from './output.ts';

export function buildProgram(): Command {
  const program = new Command('flowreasoner')
    .description('Train query-level meta-agents (FlowReasoner): distill traces, export SFT data, run GRPO rollouts.')
    .version('0.1.0')
    .showHelpAfterError(true)
    .exitOverride();
  registerDemo(program);
  registerDistill(program);
  registerGrpo(program);
  registerSft(program);
  registerSmoke(program);
  registerSim(program);
  registerBench(program);
  registerEvaluate(program);
  registerWorkflow(program);
  registerPending(program);
  program.addHelpText('after', '\nQuick start:\n  $ npm run demo      # the pipeline on the built-in simulator\n  $ npm test');
  for (const c of program.commands) c.exitOverride();
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version exit through here with code 0.
      return e.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    printError(e);
    return exitCodeFor(e);
  }
}

const isEntry = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isEntry) {
  const code = await main(process.argv);
  process.exit(code);
}
