// Commands whose stage has not landed yet: they explain themselves and exit 2 instead of pretending to work.
import type { Command } from 'commander';
import { PipelineError } from '../../errors.ts';

const PENDING: Array<{ name: string; summary: string; example: string }> = [
  { name: 'eval', summary: 'Evaluate a meta-agent on held-out queries.', example: 'flowreasoner eval --config configs/eval.yaml' },
];

export function registerPending(program: Command): void {
  for (const p of PENDING) {
    program
      .command(p.name)
      .description(`${p.summary} (not implemented yet)`)
      .allowUnknownOption(true)
      .allowExcessArguments(true)
      .addHelpText('after', `\nExample (once implemented):\n  $ ${p.example}\n\nThis stage is not implemented yet: the command exits with code 2.`)
      .action(() => {
        throw new PipelineError('not-implemented', `\`${p.name}\` is not implemented yet`, { hint: 'Run `flowreasoner demo` for what works today, or see README.md.' });
      });
  }
}
