// Finds the task a trainer's score request names: by dataset and task id through the dataset registry, so any row of
// any exported RL prompt file can be scored, not only the prompts of the GRPO run that serves the scorer.
import { BENCHMARKS, loadBenchmark, type UpstreamBenchmark } from '../datasets/registry.ts';
import type { Task } from '../datasets/task.ts';
import type { StepQuery } from './run-step.ts';

/** A task named by a score request. */
export interface TaskRef {
  dataset: string;
  taskId: string;
}

/** The request names a dataset or a task that does not exist (HTTP 404 naming it). */
export class UnknownTaskError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnknownTaskError';
  }
}

/** Our RL prompt rows route verl rewards with data_source `flowreasoner/<dataset>`; the registry name is the part after it. */
export function datasetOfSource(dataSource: string): string {
  return dataSource.startsWith('flowreasoner/') ? dataSource.slice('flowreasoner/'.length) : dataSource;
}

/**
 * The task of a ground_truth string. Our prompt files store JSON naming the task (`{"dataset","taskId"}`; `task_id`
 * and `prompt_uid` = `<dataset>:<task id>` are read too), never its tests. A plain string is `<dataset>:<task id>`, or a
 * bare task id of the request's data_source. Returns null when neither names a dataset.
 */
export function taskRefOf(groundTruth: string, dataSource: string): TaskRef | null {
  const fromUid = (uid: string): TaskRef | null => {
    const i = uid.indexOf(':');
    return i > 0 && i < uid.length - 1 ? { dataset: uid.slice(0, i), taskId: uid.slice(i + 1) } : null;
  };
  let g: unknown;
  try {
    g = JSON.parse(groundTruth);
  } catch {
    g = undefined;
  }
  if (g !== null && typeof g === 'object' && !Array.isArray(g)) {
    const o = g as Record<string, unknown>;
    const id = o.taskId ?? o.task_id;
    const ds = o.dataset ?? (dataSource !== '' ? datasetOfSource(dataSource) : undefined);
    if (typeof id === 'string' && typeof ds === 'string' && ds !== '') return { dataset: ds, taskId: id };
    if (typeof o.prompt_uid === 'string') return fromUid(o.prompt_uid);
    return null;
  }
  const uid = fromUid(groundTruth);
  if (uid !== null && Object.hasOwn(BENCHMARKS, uid.dataset)) return uid;
  const ds = datasetOfSource(dataSource);
  return ds !== '' && groundTruth !== '' ? { dataset: ds, taskId: groundTruth } : null;
}

export interface TaskResolverOptions {
  dataDir: string | undefined;
  /** The run's own prompts, found without loading anything. */
  known: readonly StepQuery[];
  /** Per dataset name, the version the run's config chose (BigCodeBench); the registry default otherwise. */
  versions?: ReadonlyMap<string, string>;
}

export type TaskResolver = (ref: TaskRef) => Promise<StepQuery>;

/**
 * Resolves through the registry, loading each benchmark once (all of its splits: an exported prompt file may come
 * from another split than the one this run trains on). Throws UnknownTaskError for an unknown dataset or task id.
 */
export function createTaskResolver(opts: TaskResolverOptions): TaskResolver {
  const known = new Map(opts.known.map((q) => [q.uid, q]));
  const loaded = new Map<string, Promise<Map<string, Task>>>();
  const load = (name: UpstreamBenchmark): Promise<Map<string, Task>> => {
    let p = loaded.get(name);
    if (p === undefined) {
      const version = opts.versions?.get(name);
      p = loadBenchmark(name, {
        ...(opts.dataDir !== undefined ? { dataDir: opts.dataDir } : {}),
        ...(BENCHMARKS[name].splits ? { split: 'all' as const } : {}),
        ...(version !== undefined ? { version } : {}),
      }).then((tasks) => new Map(tasks.map((t) => [t.id, t])));
      // A failed load (a missing data file) is not cached: the next request tries again.
      p.catch(() => loaded.delete(name));
      loaded.set(name, p);
    }
    return p;
  };
  return async (ref) => {
    const uid = `${ref.dataset}:${ref.taskId}`;
    const hit = known.get(uid);
    if (hit !== undefined) return hit;
    if (!Object.hasOwn(BENCHMARKS, ref.dataset)) {
      throw new UnknownTaskError(`unknown dataset "${ref.dataset}" (task ${uid}); known: ${Object.keys(BENCHMARKS).join(', ')}`);
    }
    const task = (await load(ref.dataset as UpstreamBenchmark)).get(ref.taskId);
    if (task === undefined) throw new UnknownTaskError(`unknown task ${uid}: ${ref.dataset} has no task "${ref.taskId}"`);
    return { uid, dataSource: `flowreasoner/${ref.dataset}`, task };
  };
}
