// Judged samples → the comparison table: pass@1 with intervals per method and dataset (and pooled), pass@k, usage per
// method, and paired tests against direct and against the best baseline on exactly the same tasks.
import { passAtKTable } from '../pipeline/evaluate/pass-at-k.ts';
import { bootstrapMeanInterval, comparePaired, normalQuantile, pairedBootstrap, wilsonInterval } from './statistics.ts';
import type { EvalConfig, EvalMethod } from './config-schema.ts';
import {
  EVAL_RESULTS_SCHEMA,
  type EvalCell,
  type EvalComparison,
  type EvalExclusion,
  type EvalMethodTotals,
  type EvalResults,
  type EvalSample,
  type MethodKind,
} from './results-schema.ts';

export const OVERALL = 'overall';

export interface TableInput {
  cfg: EvalConfig;
  partition: { seed: string | number; fractions: Record<string, number> };
  /** Every dataset of the run, in config order: its key and its label. */
  datasets: Array<{ key: string; label: string }>;
  /** Tasks each dataset was meant to judge (after exclusions are taken out below): `<dataset>:<task id>` keys. */
  plannedTasks: ReadonlyMap<string, readonly string[]>;
  samples: readonly EvalSample[];
  exclusions: readonly EvalExclusion[];
  /** Where each method comes from (workflow file, meta-agent role and model). */
  sources: ReadonlyMap<string, string>;
}

interface TaskScore {
  /** `<dataset>:<task id>` */
  task: string;
  dataset: string;
  n: number;
  c: number;
}

/** method → task key → its samples, keeping the first record of a key (a hand-merged journal may repeat one). */
function index(samples: readonly EvalSample[]): Map<string, Map<string, EvalSample[]>> {
  const seen = new Set<string>();
  const out = new Map<string, Map<string, EvalSample[]>>();
  for (const s of samples) {
    if (seen.has(s.key)) continue;
    seen.add(s.key);
    const byTask = out.get(s.method) ?? new Map<string, EvalSample[]>();
    const k = `${s.dataset}:${s.taskId}`;
    byTask.set(k, [...(byTask.get(k) ?? []), s]);
    out.set(s.method, byTask);
  }
  return out;
}

function cellOf(method: string, dataset: string, scores: readonly TaskScore[], cfg: EvalConfig, seed: string): EvalCell {
  const samples = scores.reduce((s, t) => s + t.n, 0);
  if (scores.length === 0) return { method, dataset, tasks: 0, samples: 0, passAt1: null, interval: null, intervalMethod: cfg.samples === 1 ? 'wilson' : 'bootstrap', passAtK: {} };
  const perTask = scores.map((t) => t.c / t.n);
  const passAt1 = perTask.reduce((s, x) => s + x, 0) / perTask.length;
  const single = scores.every((t) => t.n === 1);
  const interval = single
    ? wilsonInterval(scores.reduce((s, t) => s + t.c, 0), scores.length, normalQuantile(1 - (1 - cfg.confidence) / 2))
    : bootstrapMeanInterval(perTask, { iterations: cfg.bootstrapIterations, seed, confidence: cfg.confidence });
  return {
    method,
    dataset,
    tasks: scores.length,
    samples,
    passAt1,
    interval,
    intervalMethod: single ? 'wilson' : 'bootstrap',
    passAtK: passAtKTable(scores.map((t) => ({ n: t.n, c: t.c })), cfg.passAtK),
  };
}

function compare(method: string, against: string, role: EvalComparison['role'], dataset: string, a: readonly TaskScore[], b: readonly TaskScore[], cfg: EvalConfig): EvalComparison {
  const single = a.every((t) => t.n === 1) && b.every((t) => t.n === 1);
  if (single) {
    const r = comparePaired(
      a.map((t) => t.c === 1),
      b.map((t) => t.c === 1),
      cfg.alpha,
    );
    return { method, against, role, dataset, tasks: r.n, onlyMethod: r.onlyA, onlyAgainst: r.onlyB, difference: r.difference, interval: null, pValue: r.pValue, test: 'mcnemar-exact', significant: r.significant };
  }
  const r = pairedBootstrap(
    a.map((t) => t.c / t.n),
    b.map((t) => t.c / t.n),
    { iterations: cfg.bootstrapIterations, seed: `${method}|${against}|${dataset}`, confidence: 1 - cfg.alpha },
  );
  return { method, against, role, dataset, tasks: a.length, onlyMethod: null, onlyAgainst: null, difference: r.difference, interval: r.interval, pValue: r.pValue, test: 'paired-bootstrap', significant: r.pValue < cfg.alpha };
}

function totalsOf(m: EvalMethod, samples: readonly EvalSample[], source: string): EvalMethodTotals {
  const failures: Record<string, number> = {};
  for (const s of samples) if (s.failure !== null) failures[s.failure] = (failures[s.failure] ?? 0) + 1;
  const sum = (f: (s: EvalSample) => number): number => samples.reduce((t, s) => t + f(s), 0);
  return {
    method: m.name,
    kind: m.kind as MethodKind,
    source,
    samples: samples.length,
    cost: sum((s) => s.cost),
    promptTokens: sum((s) => s.promptTokens),
    completionTokens: sum((s) => s.completionTokens),
    operatorCalls: sum((s) => s.operatorCalls),
    workerCalls: sum((s) => s.workerCalls),
    meanRounds: m.kind === 'meta-agent' ? (samples.length === 0 ? 0 : sum((s) => s.roundsUsed) / samples.length) : null,
    failures,
  };
}

/**
 * The table covers the tasks that every method judged with all n samples, so every column and every paired test
 * speaks about the same tasks; tasks still owed a sample (an error, a budget stop) are counted, not silently dropped.
 */
export function buildResults(input: TableInput): EvalResults {
  const { cfg } = input;
  // In key order, so sums (cost) do not depend on the order samples finished or shards were merged in.
  const byMethod = index([...input.samples].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)));
  const excluded = new Set(input.exclusions.map((e) => `${e.dataset}:${e.taskId}`));
  const complete = new Map<string, string[]>();
  let missingSamples = 0;
  let tasksDropped = 0;
  for (const d of input.datasets) {
    const keep: string[] = [];
    for (const task of input.plannedTasks.get(d.key) ?? []) {
      if (excluded.has(task)) continue;
      let missing = 0;
      for (const m of cfg.methods) missing += Math.max(0, cfg.samples - (byMethod.get(m.name)?.get(task)?.length ?? 0));
      if (missing === 0) keep.push(task);
      else {
        missingSamples += missing;
        tasksDropped++;
      }
    }
    complete.set(d.key, keep);
  }
  const scoresOf = (method: string, dataset: string | null): TaskScore[] => {
    const out: TaskScore[] = [];
    for (const d of input.datasets) {
      if (dataset !== null && d.key !== dataset) continue;
      for (const task of complete.get(d.key) ?? []) {
        const list = (byMethod.get(method)?.get(task) ?? []).slice(0, cfg.samples);
        out.push({ task, dataset: d.key, n: list.length, c: list.filter((s) => s.passed).length });
      }
    }
    return out;
  };
  const columns = [...input.datasets.map((d) => d.key), OVERALL];
  const cells: EvalCell[] = [];
  for (const m of cfg.methods) {
    for (const col of columns) cells.push(cellOf(m.name, col, scoresOf(m.name, col === OVERALL ? null : col), cfg, `${m.name}|${col}`));
  }
  const overall = (name: string): number => cells.find((c) => c.method === name && c.dataset === OVERALL)?.passAt1 ?? -1;
  const baselines = cfg.methods.filter((m) => m.kind !== 'meta-agent');
  // Config order breaks ties, so the choice is stable.
  const bestBaseline = baselines.reduce<EvalMethod | null>((best, m) => (best === null || overall(m.name) > overall(best.name) ? m : best), null)?.name ?? null;
  const direct = cfg.methods.find((m) => m.kind === 'direct')?.name ?? null;
  const comparisons: EvalComparison[] = [];
  for (const m of cfg.methods) {
    const against: Array<[string, EvalComparison['role']]> = [];
    if (direct !== null && m.name !== direct) against.push([direct, 'vs-direct']);
    // Against direct already says it when direct is the best baseline.
    if (bestBaseline !== null && m.name !== bestBaseline && bestBaseline !== direct) against.push([bestBaseline, 'vs-best-baseline']);
    for (const [other, role] of against) {
      for (const col of columns) {
        const a = scoresOf(m.name, col === OVERALL ? null : col);
        if (a.length === 0) continue;
        comparisons.push(compare(m.name, other, role, col, a, scoresOf(other, col === OVERALL ? null : col), cfg));
      }
    }
  }
  const allSamples = [...byMethod.values()].flatMap((t) => [...t.values()].flat());
  return {
    schema: EVAL_RESULTS_SCHEMA,
    createdAt: new Date().toISOString(),
    partition: { which: cfg.partition, seed: input.partition.seed, fractions: { ...input.partition.fractions } },
    samplesPerTask: cfg.samples,
    alpha: cfg.alpha,
    confidence: cfg.confidence,
    datasets: input.datasets.map((d) => {
      const mine = input.exclusions.filter((e) => e.dataset === d.key);
      const reasons: Record<string, number> = {};
      for (const e of mine) reasons[e.reason] = (reasons[e.reason] ?? 0) + 1;
      return { name: d.key, label: d.label, tasks: complete.get(d.key)?.length ?? 0, excluded: mine.length, excludedReasons: reasons };
    }),
    methods: cfg.methods.map((m) => totalsOf(m, allSamples.filter((s) => s.method === m.name), input.sources.get(m.name) ?? m.kind)),
    bestBaseline,
    cells,
    comparisons,
    incomplete: { missingSamples, tasksDropped },
  };
}
