// `flowreasoner workflow run|check|render`: execute a workflow on one task, validate a reply or graph, draw it as Mermaid.
import type { Command } from 'commander';
import { PipelineError } from '../../errors.ts';
import { collect } from '../options.ts';

export interface WorkflowRunOptions {
  dataset: string;
  task: string;
  graph: string;
  prompt?: string;
  runs: string;
  tests: string;
  config?: string;
  set?: string[];
}

export function registerWorkflow(program: Command): void {
  const wf = program.command('workflow').description('Run, check or render one meta-agent workflow.');
  wf.command('check')
    .argument('<file>', 'a meta-agent reply (with <modification>/<graph>/<prompt>) or a graph file')
    .option('--prompt <file>', 'prompt module for a bare graph file')
    .description('Validate a reply or graph: typed failures with lines, and the complexity metrics.')
    .addHelpText('after', '\nExample:\n  $ flowreasoner workflow check reply.txt')
    .action(async (file: string, opts: { prompt?: string }) => (await import('./workflow-run.ts')).workflowCheck(file, opts));
  wf.command('render')
    .argument('<file>', 'a meta-agent reply or a graph file')
    .option('--prompt <file>', 'prompt module for a bare graph file')
    .description('Print the workflow as a Mermaid flowchart of its operator calls (loops and branches included).')
    .addHelpText('after', '\nExample:\n  $ flowreasoner workflow render graph.py > graph.mmd')
    .action(async (file: string, opts: { prompt?: string }) => (await import('./workflow-run.ts')).workflowRender(file, opts));
  wf.command('run')
    .requiredOption('-d, --dataset <name>', 'benchmark (humaneval, mbpp, …)')
    .requiredOption('--task <id>', 'task id, e.g. HumanEval/0')
    .requiredOption('--graph <file>', 'graph file or a whole meta-agent reply')
    .option('--prompt <file>', 'prompt module for a bare graph file')
    .option('--runs <k>', 'independent executions (FlowReasoner: 3)', '1')
    .option('--tests <which>', 'public or hidden', 'public')
    .option('-c, --config <file>', 'config with the worker model (default: configs/demo.yaml, the simulator)')
    .option('--set <key=value>', 'override a config key (repeatable)', collect, [])
    .description('Execute a workflow on one task and print the run result (solution, status, operator trace, totals, score) as JSON.')
    .addHelpText('after', '\nExample:\n  $ flowreasoner workflow run --dataset humaneval --task HumanEval/0 --graph graph.py --prompt prompt.py --runs 3')
    .action(async (opts: WorkflowRunOptions) => {
      const runs = Number(opts.runs);
      if (!Number.isInteger(runs) || runs < 1) throw new PipelineError('usage', `--runs expects a positive integer, got "${opts.runs}"`);
      if (opts.tests !== 'public' && opts.tests !== 'hidden') throw new PipelineError('usage', '--tests expects public or hidden');
      await (await import('./workflow-run.ts')).workflowRun(opts, runs, opts.tests);
    });
}
