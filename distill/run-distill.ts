// The distill stage: queries concurrently through the per-query loop, rounds and traces journaled as they finish, resumable and shardable.
import { existsSync } from 'node:fs';
import { errorClass, isPipelineError } from '../pipeline/errors.ts';
import { forEachWithinBudget } from '../pipeline/budgeted-pool.ts';
import { readJournal } from '../pipeline/store/journal.ts';
import type { DistillConfig } from './config-schema.ts';
import { runQuery } from './query-loop.ts';
import { selectQueries } from './select-queries.ts';
import type { Shard } from '../pipeline/shard.ts';
import type { RoundRecord, TraceRecord } from './records.ts';
import type { StageDeps } from '../pipeline/stage-deps.ts';

export interface DistillDeps extends StageDeps {
  cfg: DistillConfig;
  shard: Shard | null;
  signal?: AbortSignal;
  /** Called after each query and each round, for progress display. */
  onProgress?: (p: DistillProgress) => void;
}

export interface DistillProgress {
  queriesDone: number;
  queriesTotal: number;
  rounds: number;
  meanBestScore: number;
  cost: number;
}

export interface DistillSummary {
  queries: number;
  queriesDone: number;
  queriesSkipped: number;
  rounds: number;
  generatedRounds: number;
  validRounds: number;
  validReplyRate: number;
  teacherAttempts: Record<string, number>;
  runStatuses: Record<string, number>;
  meanSeedScore: number;
  meanBestScore: number;
  meanHiddenScore: number;
  stopReasons: Record<string, number>;
  costByRole: Record<string, number>;
  failures: Record<string, number>;
  stoppedBy: string | null;
}

const ROUNDS = 'distill/rounds.jsonl';
const TRACES = 'distill/traces.jsonl';

async function readIfExists<T>(file: string): Promise<T[]> {
  if (!existsSync(file)) return [];
  const out: T[] = [];
  for await (const r of readJournal<T>(file)) out.push(r);
  return out;
}

function bump(m: Record<string, number>, k: string, by = 1): void {
  m[k] = (m[k] ?? 0) + by;
}

export async function runDistill(deps: DistillDeps): Promise<DistillSummary> {
  const { cfg, store } = deps;
  const { mine } = await selectQueries(cfg, deps.seed, deps.dataDir, deps.shard, deps.partition);
  // What an earlier, interrupted run of this directory already finished.
  const doneTraces = await readIfExists<TraceRecord>(store.path(TRACES));
  const priorRounds = await readIfExists<RoundRecord>(store.path(ROUNDS));
  const done = new Set(doneTraces.map((t) => t.queryId));
  const roundsByQuery = new Map<string, RoundRecord[]>();
  for (const r of priorRounds) {
    if (done.has(r.queryId)) continue;
    const list = roundsByQuery.get(r.queryId) ?? [];
    // A round is appended once; keep the first copy if a journal was ever merged by hand.
    if (!list.some((x) => x.round === r.round)) list.push(r);
    roundsByQuery.set(r.queryId, list);
  }
  const roundsJ = await store.journal<RoundRecord>(ROUNDS);
  const tracesJ = await store.journal<TraceRecord>(TRACES);
  const traces: TraceRecord[] = doneTraces.filter((t) => mine.some((q) => q.id === t.queryId));
  let roundCount = priorRounds.length;
  const failures: Record<string, number> = {};
  const progress = (): void =>
    deps.onProgress?.({
      queriesDone: traces.length,
      queriesTotal: mine.length,
      rounds: roundCount,
      meanBestScore: traces.length === 0 ? 0 : traces.reduce((s, t) => s + t.bestScore, 0) / traces.length,
      cost: deps.gateway.accounting.total.cost,
    });
  progress();

  const stoppedBy = await forEachWithinBudget(
    mine.filter((q) => !done.has(q.id)),
    { concurrency: cfg.concurrency, exceeded: () => deps.gateway.accounting.exceeded(), ...(deps.signal !== undefined ? { signal: deps.signal } : {}) },
    async (q) => {
      const prior = (roundsByQuery.get(q.id) ?? []).sort((a, b) => a.round - b.round);
      try {
        const trace = await runQuery(q.id, q.task, q.dataset, prior, {
          gateway: deps.gateway,
          executor: deps.executor,
          cfg,
          seed: deps.seed,
          checkReply: deps.checkReply,
          onRound: async (r) => {
            await roundsJ.append(r);
            roundCount++;
            progress();
          },
          budgetStop: (queryId) => deps.gateway.accounting.exceeded({ queryId }),
          ...(deps.signal !== undefined ? { signal: deps.signal } : {}),
        });
        // The run's budget: the query is not final; --resume with a larger budget goes on from its last round.
        if (trace.stopReason === 'budget-exceeded') return deps.gateway.accounting.exceeded() ?? 'budget exceeded';
        await tracesJ.append(trace);
        traces.push(trace);
        progress();
      } catch (e) {
        if (isPipelineError(e, 'aborted') || isPipelineError(e, 'disk-full') || isPipelineError(e, 'journal-corrupt')) throw e;
        bump(failures, errorClass(e));
        deps.logger.error({ queryId: q.id, err: e }, 'query failed');
      }
      return null;
    },
  );

  const all = traces.flatMap((t) => t.rounds);
  const generated = all.filter((r) => r.round > 1);
  const attempts: Record<string, number> = {};
  const statuses: Record<string, number> = {};
  for (const r of all) {
    for (const a of r.attempts) bump(attempts, a.outcome);
    for (const run of r.runs) bump(statuses, run.status);
  }
  const costByRole: Record<string, number> = {};
  for (const [role, t] of deps.gateway.accounting.byRole) costByRole[role] = t.cost;
  for (const [k, v] of deps.gateway.accounting.errorsByClass) bump(failures, `gateway:${k}`, v);
  const mean = (f: (t: TraceRecord) => number): number => (traces.length === 0 ? 0 : traces.reduce((s, t) => s + f(t), 0) / traces.length);
  const stopReasons: Record<string, number> = {};
  for (const t of traces) bump(stopReasons, t.stopReason);
  return {
    queries: mine.length,
    queriesDone: traces.length,
    queriesSkipped: mine.length - traces.length,
    rounds: all.length,
    generatedRounds: generated.length,
    validRounds: generated.filter((r) => r.valid).length,
    validReplyRate: (() => {
      const n = Object.values(attempts).reduce((a, b) => a + b, 0);
      return n === 0 ? 0 : (attempts.accepted ?? 0) / n;
    })(),
    teacherAttempts: attempts,
    runStatuses: statuses,
    meanSeedScore: mean((t) => t.seedScore),
    meanBestScore: mean((t) => t.bestScore),
    meanHiddenScore: mean((t) => t.hiddenScore),
    stopReasons,
    costByRole,
    failures,
    stoppedBy,
  };
}
