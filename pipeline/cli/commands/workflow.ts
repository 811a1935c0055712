// `flowreasoner workflow run|check|render`: execute a workflow on one task, validate a reply or graph, draw it as Mermaid.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { PipelineError } from '../../errors.ts';
import { loadConfig } from '../../config/load.ts';
import { Gateway } from '../../gateway/gateway.ts';
import { Executor } from '../../sandbox/executor.ts';
import { checkReply, checkWorkflow } from '../../workflow/check.ts';
import { renderMermaid } from '../../workflow/render-mermaid.ts';
import { OPERATOR_NAMES } from '../../workflow/operators/registry.ts';
import { scoreWorkflow } from '../../workflow/score-workflow.ts';
import { closeSharedPyAstClient } from '../../pyast/client.ts';
import { loadBenchmark } from '../../../datasets/registry.ts';
import { collect, dataDirOf, startSimIfNeeded } from '../run-context.ts';
import { keyEnvNamesOf } from '../../sandbox/host-uid-guard.ts';

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    throw new PipelineError('usage', `cannot read ${file}`);
  }
}

/** A file is either a whole meta-agent reply (with tags) or a bare graph; `--prompt` gives the prompt module of a bare graph. */
async function loadDefinition(file: string, promptFile: string | undefined): Promise<{ graph: string; prompt: string; fromReply: boolean }> {
  const text = await readText(file);
  if (/<graph>/i.test(text)) {
    const r = await checkReply(text, { knownOperators: OPERATOR_NAMES });
    if (!r.ok) throw new PipelineError('usage', `${file}: ${r.failures.map((f) => `${f.code}${f.line !== null ? ` (line ${f.line})` : ''}: ${f.message}`).join('; ')}`);
    return { graph: r.graph, prompt: r.prompt, fromReply: true };
  }
  return { graph: text, prompt: promptFile !== undefined ? await readText(promptFile) : '', fromReply: false };
}

export function registerWorkflow(program: Command): void {
  const wf = program.command('workflow').description('Run, check or render one meta-agent workflow.');
  wf.command('check')
    .argument('<file>', 'a meta-agent reply (with <modification>/<graph>/<prompt>) or a graph file')
    .option('--prompt <file>', 'prompt module for a bare graph file')
    .description('Validate a reply or graph: typed failures with lines, and the complexity metrics.')
    .addHelpText('after', '\nExample:\n  $ flowreasoner workflow check reply.txt')
    .action(async (file: string, opts: { prompt?: string }) => {
      try {
        const text = await readText(file);
        const result = /<graph>/i.test(text)
          ? await checkReply(text, { knownOperators: OPERATOR_NAMES })
          : await checkWorkflow({ graph: text, prompt: opts.prompt !== undefined ? await readText(opts.prompt) : '' }, { knownOperators: OPERATOR_NAMES });
        const out = 'check' in result && result.check !== null && result.check !== undefined ? { ok: result.ok, failures: result.failures, metrics: result.check.metrics } : { ok: result.ok, failures: result.failures, metrics: 'metrics' in result ? result.metrics : null };
        process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        if (!result.ok) process.exitCode = 1;
      } finally {
        await closeSharedPyAstClient();
      }
    });
  wf.command('render')
    .argument('<file>', 'a meta-agent reply or a graph file')
    .option('--prompt <file>', 'prompt module for a bare graph file')
    .description('Print the workflow as a Mermaid flowchart of its operator calls (loops and branches included).')
    .addHelpText('after', '\nExample:\n  $ flowreasoner workflow render graph.py > graph.mmd')
    .action(async (file: string, opts: { prompt?: string }) => {
      try {
        const def = await loadDefinition(file, opts.prompt);
        const check = await checkWorkflow(def, { knownOperators: OPERATOR_NAMES });
        process.stdout.write(`${renderMermaid(check.flow)}\n`);
      } finally {
        await closeSharedPyAstClient();
      }
    });
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
    .action(async (opts: { dataset: string; task: string; graph: string; prompt?: string; runs: string; tests: string; config?: string; set?: string[] }) => {
      const runs = Number(opts.runs);
      if (!Number.isInteger(runs) || runs < 1) throw new PipelineError('usage', `--runs expects a positive integer, got "${opts.runs}"`);
      if (opts.tests !== 'public' && opts.tests !== 'hidden') throw new PipelineError('usage', '--tests expects public or hidden');
      const loaded = await loadConfig({ file: opts.config ?? 'configs/demo.yaml', overrides: opts.set ?? [] });
      const dataDir = dataDirOf(loaded.config);
      const task = (await loadBenchmark(opts.dataset, dataDir !== undefined ? { dataDir } : {})).find((t) => t.id === opts.task);
      if (task === undefined) throw new PipelineError('usage', `no task ${opts.task} in ${opts.dataset}`);
      const def = await loadDefinition(opts.graph, opts.prompt);
      const check = await checkWorkflow(def, { knownOperators: OPERATOR_NAMES });
      if (!check.ok) {
        process.stdout.write(`${JSON.stringify({ status: 'invalid-workflow', failures: check.failures }, null, 2)}\n`);
        process.exitCode = 1;
        await closeSharedPyAstClient();
        return;
      }
      const sim = await startSimIfNeeded(loaded.config);
      const gateway = new Gateway({ models: loaded.config.models, ...(sim !== null ? { simUrl: sim.url } : {}), ...(loaded.config.cache.enabled ? { cacheDir: loaded.config.cache.dir } : {}) });
      const executor = new Executor(loaded.config.sandbox, { keyEnvNames: keyEnvNamesOf(loaded.config) });
      try {
        const score = await scoreWorkflow({ graph: check.normalizedGraph, prompt: def.prompt }, task, { gateway, executor, runs, tests: opts.tests, limits: loaded.config.distill.runLimits });
        process.stdout.write(`${JSON.stringify({ task: task.id, score: score.score, tests: score.tests, metrics: check.metrics, runs: score.runs.map((r) => ({ ...r.run, passRate: r.passRate, result: r.exec?.result ?? null })) }, null, 2)}\n`);
      } finally {
        await executor.close();
        await sim?.close();
        await closeSharedPyAstClient();
      }
    });
}
