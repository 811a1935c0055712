// The eval stage: every method on every held-out task, samples journaled as they are judged (resumable after kill -9,
// shardable), then the table with its statistics written as JSON, Markdown and CSV.
import { existsSync } from 'node:fs';
import { forEachWithinBudget } from '../pipeline/budgeted-pool.ts';
import type { CodeExecutor } from '../pipeline/sandbox/create-executor.ts';
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
import type { PartitionSettings } from '../datasets/partition.ts';

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
 * The modules, among those the tasks need, that are not installed. One job names them all and finds out without
 * running anything; a task needing any of them cannot be judged fairly by any method, so it is excluded and counted
 * instead of scored as a failure.
 */
async function missingModules(tasks: readonly EvalTask[], executor: CodeExecutor): Promise<Set<string>> {
  const wanted = [...new Set(tasks.flatMap((t) => t.task.requires ?? []))].sort();
  if (wanted.length === 0) return new Set();
  const probe = await executor.run({ harness: 'check', program: '', entryPoint: 'probe', test: '', timeoutS: 10, requires: wanted });
  return new Set(probe.status === 'missing-dependency' ? (probe.missing ?? []) : []);
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
  const absent = await missingModules(mine.filter((t) => !excludedKeys.has(t.id)), deps.executor);
  for (const t of mine) {
    const lacking = (t.task.requires ?? []).filter((m) => absent.has(m));
    if (excludedKeys.has(t.id) || lacking.length === 0) continue;
    const e: EvalExclusion = { kind: 'excluded', dataset: t.dataset, taskId: t.task.id, reason: 'missing-library', detail: `missing dependency: ${lacking.join(', ')}` };
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

  const results = resultsOf(cfg, deps.partition, mine, samples, exclusions, deps.sources);
  await writeTables(store, results);
  return {
    tasks: mine.length,
    excluded: mine.filter((t) => excludedKeys.has(t.id)).length,
    samplesPlanned: total,
    samplesJudged: finished,
    infraFailures,
    stoppedBy,
    results,
  };
}

/** The table of a run or of merged shards: over the tasks it was meant to judge, from the samples and exclusions it has. */
export function resultsOf(cfg: EvalConfig, partition: PartitionSettings, tasks: readonly EvalTask[], samples: readonly EvalSample[], exclusions: readonly EvalExclusion[], sources: ReadonlyMap<string, string>): EvalResults {
  const planned = new Map<string, string[]>(cfg.datasets.map((d) => [datasetKey(d), []]));
  for (const t of tasks) planned.get(t.dataset)?.push(t.id);
  return buildResults({
    cfg,
    partition: { seed: partition.seed, fractions: { ...partition.fractions } },
    datasets: cfg.datasets.map((d) => ({ key: datasetKey(d), label: datasetLabel(d) })),
    plannedTasks: planned,
    samples,
    exclusions,
    sources,
  });
}

export async function writeTables(store: Pick<RunStore, 'writeJson' | 'writeText'>, results: EvalResults): Promise<void> {
  await store.writeJson('eval/results.json', results);
  await store.writeText('eval/table.md', renderMarkdown(results));
  await store.writeText('eval/table.csv', renderCsv(results));
}
