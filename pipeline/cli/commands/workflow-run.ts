// The work of `flowreasoner workflow check|render|run`, loaded only when one runs: workflow.ts registers them without the engine.
import { readFile } from 'node:fs/promises';
import { PipelineError } from '../../errors.ts';
import { loadConfig } from '../config.ts';
import { Gateway } from '../../gateway/gateway.ts';
import { createExecutor } from '../../sandbox/create-executor.ts';
import { checkReply, checkWorkflow } from '../../workflow/check.ts';
import { REPLY_TAGS } from '../../workflow/reply.ts';
import { renderMermaid } from '../../workflow/render-mermaid.ts';
import { OPERATOR_NAMES } from '../../workflow/operators/registry.ts';
import { scoreWorkflow } from '../../workflow/score-workflow.ts';
import { closeSharedAnalysisClient } from '../../code-analysis/client.ts';
import { loadBenchmark } from '../../../datasets/registry.ts';
import { dataDirOf, startSimIfNeeded } from '../run-context.ts';
import { keyEnvNamesOf } from '../../sandbox/host-uid-guard.ts';
import type { WorkflowRunOptions } from './workflow.ts';

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    throw new PipelineError('usage', `cannot read ${file}`);
  }
}

/**
 * Any reply tag makes the file a reply, not only <graph>: a reply whose graph tag is missing must be reported as
 * `missing-graph`, not parsed as Python and reported as a syntax error. Spelled as reply.ts reads tags (`< /graph >`).
 */
function isReply(text: string): boolean {
  return new RegExp(`<\\s*/?\\s*(?:${REPLY_TAGS.join('|')})\\s*>`, 'i').test(text);
}

/** A file is either a whole meta-agent reply (with tags) or a bare graph; `--prompt` gives the prompt module of a bare graph. */
async function loadDefinition(file: string, promptFile: string | undefined): Promise<{ graph: string; prompt: string; fromReply: boolean }> {
  const text = await readText(file);
  if (isReply(text)) {
    const r = await checkReply(text, { knownOperators: OPERATOR_NAMES });
    if (!r.ok) throw new PipelineError('usage', `${file}: ${r.failures.map((f) => `${f.code}${f.line !== null ? ` (line ${f.line})` : ''}: ${f.message}`).join('; ')}`);
    return { graph: r.graph, prompt: r.prompt, fromReply: true };
  }
  return { graph: text, prompt: promptFile !== undefined ? await readText(promptFile) : '', fromReply: false };
}

/** `workflow check`: the typed failures and metrics of a reply or graph as JSON; exit code 1 when it is not valid. */
export async function workflowCheck(file: string, opts: { prompt?: string }): Promise<void> {
  try {
    const text = await readText(file);
    const result = isReply(text)
      ? await checkReply(text, { knownOperators: OPERATOR_NAMES })
      : await checkWorkflow({ graph: text, prompt: opts.prompt !== undefined ? await readText(opts.prompt) : '' }, { knownOperators: OPERATOR_NAMES });
    const out = 'check' in result && result.check !== null && result.check !== undefined ? { ok: result.ok, failures: result.failures, metrics: result.check.metrics } : { ok: result.ok, failures: result.failures, metrics: 'metrics' in result ? result.metrics : null };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    if (!result.ok) process.exitCode = 1;
  } finally {
    await closeSharedAnalysisClient();
  }
}

/** `workflow render`: the workflow as a Mermaid flowchart. */
export async function workflowRender(file: string, opts: { prompt?: string }): Promise<void> {
  try {
    const def = await loadDefinition(file, opts.prompt);
    const check = await checkWorkflow(def, { knownOperators: OPERATOR_NAMES });
    process.stdout.write(`${renderMermaid(check.flow)}\n`);
  } finally {
    await closeSharedAnalysisClient();
  }
}

/** `workflow run`: executes the workflow `runs` times on one task and prints the result as JSON (workflow.ts checked runs and tests). */
export async function workflowRun(opts: WorkflowRunOptions, runs: number, tests: 'public' | 'hidden'): Promise<void> {
  const loaded = await loadConfig({ file: opts.config ?? 'configs/demo.yaml', overrides: opts.set ?? [] });
  const dataDir = dataDirOf(loaded.config);
  const task = (await loadBenchmark(opts.dataset, dataDir !== undefined ? { dataDir } : {})).find((t) => t.id === opts.task);
  if (task === undefined) throw new PipelineError('usage', `no task ${opts.task} in ${opts.dataset}`);
  const def = await loadDefinition(opts.graph, opts.prompt);
  const check = await checkWorkflow(def, { knownOperators: OPERATOR_NAMES });
  if (!check.ok) {
    process.stdout.write(`${JSON.stringify({ status: 'invalid-workflow', failures: check.failures }, null, 2)}\n`);
    process.exitCode = 1;
    await closeSharedAnalysisClient();
    return;
  }
  const sim = await startSimIfNeeded(loaded.config);
  const gateway = new Gateway({ models: loaded.config.models, ...(sim !== null ? { simUrl: sim.url } : {}), ...(loaded.config.cache.enabled ? { cacheDir: loaded.config.cache.dir } : {}) });
  const executor = createExecutor(loaded.config.sandbox, { keyEnvNames: keyEnvNamesOf(loaded.config) });
  try {
    const score = await scoreWorkflow({ graph: check.normalizedGraph, prompt: def.prompt }, task, { gateway, executor, runs, tests, limits: loaded.config.distill.runLimits });
    process.stdout.write(`${JSON.stringify({ task: task.id, score: score.score, tests: score.tests, metrics: check.metrics, runs: score.runs.map((r) => ({ ...r.run, passRate: r.passRate, result: r.exec?.result ?? null })) }, null, 2)}\n`);
  } finally {
    await executor.close();
    await sim?.close();
    await closeSharedAnalysisClient();
  }
}
