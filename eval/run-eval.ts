// The eval stage: every method on every held-out task, samples journaled as they are judged (resumable after kill -9,
// shardable), then the table with its statistics written as JSON, Markdown and CSV.
import { existsSync } from 'node:fs';
import type { Task } from '../datasets/task.ts';
import { forEachWithinBudget } from '../pipeline/budgeted-pool.ts';
import type { Executor } from '../pipeline/sandbox/executor.ts';
import type { Shard } from '../pipeline/shard.ts';
import { readJournal } from '../pipeline/store/journal.ts';
import type { RunStore } from '../pipeline/store/run-dir.ts';
import { datasetKey, type EvalConfig, type EvalMethod } from './config-schema.ts';
import { InfraError, runDirect, runFixedWorkflow, runMetaAgent, type MethodDeps, type MethodOutcome } from './methods.ts';
import { renderCsv, renderMarkdown } from './render-table.ts';
import type { EvalExclusion, EvalResults, EvalSample } from './results-schema.ts';
import { datasetLabel, selectEvalTasks, type EvalTask } from './select-tasks.ts';
import { buildResults } from './table.ts';
import { checkTrainedOn } from './leak-check.ts';
import type { StageDeps } from '../pipeline/stage-deps.ts';

export const SAMPLES = 'eval/samples.jsonl';
export const EXCLUDED = 'eval/excluded.jsonl';

export interface EvalDeps extends StageDeps {
  cfg: EvalConfig;
  shard: Shard | null;
  /** The hand-written workflows, by method name (already read and checked). */
  workflows: ReadonlyMap<string, { graph: string; prompt: string }>;
  /** Where each method comes from, for the table. */
  sources: ReadonlyMap<string, string>;
  signal?: AbortSignal;
  onProgress?: (p: { done: number; total: number; cost: number }) => void;
}

export interface EvalSummary {
  tasks: number;
  excluded: number;
  samplesPlanned: number;
  samplesJudged: number;
  /** Samples not judged because our side failed, by reason; a --resume retries them. */
  infraFailures: Record<string, number>;
  stoppedBy: string | null;
  results: EvalResults;
}

async function readIfExists<T>(file: string): Promise<T[]> {
  const out: T[] = [];
  if (!existsSync(file)) return out;
  for await (const r of readJournal<T>(file)) out.push(r);
  return out;
}

export function sampleKey(method: string, taskKey: string, sample: number): string {
  return `${method}|${taskKey}|${sample}`;
}

/**
 * A task whose libraries are not installed cannot be judged fairly by any method: a job that only names its modules
 * finds out without running anything, and the task is excluded (and counted) instead of scored as a failure.
 */
async function missingLibraries(task: Task, executor: Executor): Promise<string | null> {
  if (task.requires === undefined || task.requires.length === 0) return null;
  const probe = await executor.run({ harness: 'check', program: '', entryPoint: 'probe', test: '', timeoutS: 10, requires: [...task.requires] });
  return probe.status === 'missing-dependency' ? probe.result : null;
}

function runMethod(m: EvalMethod, t: EvalTask, sample: number, deps: EvalDeps, methodDeps: MethodDeps): Promise<MethodOutcome> {
  switch (m.kind) {
    case 'direct':
      return runDirect(t.task, t.id, sample, methodDeps);
    case 'workflow': {
      const def = deps.workflows.get(m.name);
      if (def === undefined) throw new Error(`workflow of method ${m.name} was not loaded`);
      return runFixedWorkflow(def, m.name, t.task, t.id, sample, methodDeps);
    }
    case 'meta-agent':
      return runMetaAgent(m, t.task, t.id, sample, methodDeps);
  }
}

export async function runEval(deps: EvalDeps): Promise<EvalSummary> {
  const { cfg, store } = deps;
  const { all, mine } = await selectEvalTasks(cfg, deps.seed, deps.dataDir, deps.partition, deps.shard);
  await checkTrainedOn(cfg.trainedOn, deps.partition, cfg.partition, all);
  const priorSamples = await readIfExists<EvalSample>(store.path(SAMPLES));
  const priorExcluded = await readIfExists<EvalExclusion>(store.path(EXCLUDED));
  const samplesJ = await store.journal<EvalSample>(SAMPLES);
  const excludedJ = await store.journal<EvalExclusion>(EXCLUDED);
  const samples: EvalSample[] = [...priorSamples];
  const done = new Set(priorSamples.map((s) => s.key));
  const exclusions: EvalExclusion[] = [...priorExcluded];
  const excludedKeys = new Set(priorExcluded.map((e) => `${e.dataset}:${e.taskId}`));
  const methodDeps: MethodDeps = {
    gateway: deps.gateway,
    executor: deps.executor,
    checkReply: deps.checkReply,
    workerRole: cfg.workerRole,
    runLimits: cfg.runLimits,
    seed: deps.seed,
    ...(deps.signal !== undefined ? { signal: deps.signal } : {}),
  };

  // Exclusions first, so no method spends a call on a task that cannot be judged.
  for (const t of mine) {
    if (excludedKeys.has(t.id)) continue;
    const missing = await missingLibraries(t.task, deps.executor);
    if (missing === null) continue;
    const e: EvalExclusion = { kind: 'excluded', dataset: t.dataset, taskId: t.task.id, reason: 'missing-library', detail: missing };
    await excludedJ.append(e);
    exclusions.push(e);
    excludedKeys.add(t.id);
  }
  const judged = mine.filter((t) => !excludedKeys.has(t.id));
  const units = judged.flatMap((t) => cfg.methods.flatMap((m) => Array.from({ length: cfg.samples }, (_, s) => ({ t, m, s, key: sampleKey(m.name, t.id, s) }))));
  const total = units.length;
  let finished = units.filter((u) => done.has(u.key)).length;
  const infraFailures: Record<string, number> = {};
  const progress = (): void => deps.onProgress?.({ done: finished, total, cost: deps.gateway.accounting.total.cost });
  progress();

  const stoppedBy = await forEachWithinBudget(
    units.filter((u) => !done.has(u.key)),
    { concurrency: cfg.concurrency, exceeded: () => deps.gateway.accounting.exceeded(), ...(deps.signal !== undefined ? { signal: deps.signal } : {}) },
    async (u) => {
      const t0 = performance.now();
      let out: MethodOutcome;
      try {
        out = await runMethod(u.m, u.t, u.s, deps, methodDeps);
      } catch (e) {
        if (!(e instanceof InfraError)) throw e;
        infraFailures[e.reason] = (infraFailures[e.reason] ?? 0) + 1;
        deps.logger.error({ key: u.key, reason: e.reason, err: e.message }, 'sample not judged: our side failed');
        return;
      }
      const record: EvalSample = {
        kind: 'sample',
        key: u.key,
        method: u.m.name,
        methodKind: u.m.kind,
        dataset: u.t.dataset,
        taskId: u.t.task.id,
        sample: u.s,
        ...out,
        latencyMs: Math.round(performance.now() - t0),
        finishedAt: new Date().toISOString(),
      };
      await samplesJ.append(record);
      samples.push(record);
      finished++;
      progress();
    },
  );

  const planned = new Map<string, string[]>();
  for (const d of cfg.datasets) planned.set(datasetKey(d), []);
  for (const t of mine) planned.get(t.dataset)?.push(t.id);
  const results = buildResults({
    cfg,
    partition: { seed: deps.partition.seed, fractions: { ...deps.partition.fractions } },
    datasets: cfg.datasets.map((d) => ({ key: datasetKey(d), label: datasetLabel(d) })),
    plannedTasks: planned,
    samples,
    exclusions,
    sources: deps.sources,
  });
  await writeTables(store, results);
  return {
    tasks: mine.length,
    excluded: exclusions.filter((e) => mine.some((t) => t.id === `${e.dataset}:${e.taskId}`)).length,
    samplesPlanned: total,
    samplesJudged: finished,
    infraFailures,
    stoppedBy,
    results,
  };
}

export async function writeTables(store: Pick<RunStore, 'writeJson' | 'writeText'>, results: EvalResults): Promise<void> {
  await store.writeJson('eval/results.json', results);
  await store.writeText('eval/table.md', renderMarkdown(results));
  await store.writeText('eval/table.csv', renderCsv(results));
}
