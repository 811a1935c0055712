// The `flowreasoner` command line: one program, one file per subcommand, exit codes 0 / 1 / 2.
import { Command, CommanderError, Help } from 'commander';
import { EXIT_USAGE, exitCodeFor } from './exit-codes.ts';
import { printError } from './output.ts';

type Register = (program: Command) => void;

interface Listed {
  name: string;
  /** The command's column in `flowreasoner --help`, as commander prints it once the module has registered it. */
  term: string;
  description: string;
  load: () => Promise<Register>;
}

// `flowreasoner --help` lists commands from this table and a run loads only the module of the command it names; each
// module imports its part of the engine inside its action, so `<command> --help` stays light too (commands/*-run.ts).
// tests/startup.test.ts checks each row against the module's own help.
export const COMMANDS: readonly Listed[] = [
  {
    name: 'demo',
    term: 'demo [options]',
    description: 'Run the pipeline end to end on the built-in simulator (configs/demo.yaml): a few queries, offline, in about a minute.',
    load: async () => (await import('./commands/demo.ts')).registerDemo,
  },
  {
    name: 'distill',
    term: 'distill [options] [action] [dirs...]',
    description: 'Distil multi-round reasoning traces from the teacher (default config: configs/distill.yaml).',
    load: async () => (await import('./commands/distill.ts')).registerDistill,
  },
  {
    name: 'grpo',
    term: 'grpo [options]',
    description: 'GRPO rollouts: sample G workflows per prompt from the policy, execute and score them, compute advantages, hand batches to the trainer (grpo-exchange/v1).',
    load: async () => (await import('./commands/grpo.ts')).registerGrpo,
  },
  {
    name: 'sft',
    term: 'sft [options]',
    description: "Export distilled traces as SFT datasets for LLaMA-Factory, TRL and verl, plus verl's GRPO prompt set.",
    load: async () => (await import('./commands/sft.ts')).registerSft,
  },
  {
    name: 'smoke',
    term: 'smoke [options]',
    description: 'Gateway smoke run: distinct calls to every configured role, with limits, retries, cache, cost and journal.',
    load: async () => (await import('./commands/smoke.ts')).registerSmoke,
  },
  {
    name: 'sim',
    term: 'sim [options]',
    description: 'Serve the built-in simulated model server (a deterministic OpenAI-compatible test double; not a real model).',
    load: async () => (await import('./commands/sim.ts')).registerSim,
  },
  {
    name: 'bench',
    term: 'bench [name]',
    description: 'Run a benchmark that prints figures (also: npm run bench:<name>).',
    load: async () => (await import('./commands/bench.ts')).registerBench,
  },
  {
    name: 'evaluate',
    term: 'evaluate [options]',
    description: 'Judge code samples against a benchmark in the sandbox, with the official harness semantics.',
    load: async () => (await import('./commands/evaluate.ts')).registerEvaluate,
  },
  {
    name: 'serve',
    term: 'serve',
    description: 'Serve a part of the pipeline over HTTP (sandbox: the code executor).',
    load: async () => (await import('./commands/serve.ts')).registerServe,
  },
  {
    name: 'workflow',
    term: 'workflow',
    description: 'Run, check or render one meta-agent workflow.',
    load: async () => (await import('./commands/workflow.ts')).registerWorkflow,
  },
  {
    name: 'eval',
    term: 'eval [options] [action] [dirs...]',
    description: 'Evaluate methods (direct, hand-written workflows, meta-agents) on held-out tasks: pass@1 with intervals and paired tests (default config: configs/eval.yaml).',
    load: async () => (await import('./commands/eval.ts')).registerEval,
  },
  {
    name: 'report',
    term: 'report [options] <run-dir>',
    description: 'Write one self-contained HTML report of a run (charts, tables, best workflows) into <run-dir>/report.html.',
    load: async () => (await import('./commands/report.ts')).registerReport,
  },
];

/** The command that argv runs or asks help for (`flowreasoner help distill` too); undefined for the program's own help. */
export function requestedCommand(argv: readonly string[]): string | undefined {
  const operands = argv.slice(2).filter((a) => !a.startsWith('-'));
  return operands[0] === 'help' ? operands[1] : operands[0];
}

/** The program with the commands in `full` registered by their modules and every other one listed from COMMANDS alone. */
export async function buildProgram(full: ReadonlySet<string> | 'all'): Promise<Command> {
  const listedOnly = new Map<Command, string>();
  const program = new Command('flowreasoner')
    .description('Train query-level meta-agents (FlowReasoner): distill traces, export SFT data, run GRPO rollouts.')
    .version('0.1.0')
    .showHelpAfterError(true)
    .configureHelp({
      subcommandTerm(this: Help, cmd: Command): string {
        return listedOnly.get(cmd) ?? Help.prototype.subcommandTerm.call(this, cmd);
      },
    })
    .exitOverride();
  // Loaded in parallel but registered in table order, so the help lists commands in the same order either way.
  const registers = await Promise.all(COMMANDS.map((c) => (full === 'all' || full.has(c.name) ? c.load() : undefined)));
  COMMANDS.forEach((c, i) => {
    const register = registers[i];
    if (register !== undefined) register(program);
    else listedOnly.set(program.command(c.name).description(c.description), c.term);
  });
  program.addHelpText('after', '\nQuick start:\n  $ npm run demo      # the pipeline on the built-in simulator\n  $ npm test');
  for (const c of program.commands) c.exitOverride();
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    const name = requestedCommand(argv);
    const program = await buildProgram(new Set(name === undefined ? [] : [name]));
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
