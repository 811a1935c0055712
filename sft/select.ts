// Which traces become SFT samples: score thresholds, usable rounds, then one sample per distinct query and final workflow.
import { createHash } from 'node:crypto';
import type { SftConfig } from './config-schema.ts';
import { bestPath, type PathProblem } from './best-path.ts';
import { roundReasoning } from './round-reasoning.ts';
import type { RoundInput, TraceInput } from './trace-input.ts';

export type DropReason = PathProblem | 'below-hidden-threshold' | 'best-is-seed' | 'missing-reply' | 'duplicate-query' | 'duplicate-workflow';

export interface Candidate {
  trace: TraceInput;
  /** Position of the source in the --from list. */
  source: number;
  where: string;
}

export interface PathStep {
  round: RoundInput;
  /** The teacher reasoning that produced this round; null for the seed round. */
  reasoning: string | null;
}

export interface Selected extends Candidate {
  /** Seed round first, best round last. */
  path: PathStep[];
}

export interface Selection {
  kept: Selected[];
  dropped: Partial<Record<DropReason, number>>;
  /** Every distinct query (first by query id), whatever its scores: the RL prompt set needs no demonstration. */
  distinctQueries: Candidate[];
  rounds: { total: number; invalid: number; onKeptPaths: number; offPath: number };
}

/** The same task text with different line endings or outer whitespace is the same query. */
export function queryKey(query: string): string {
  return query.replace(/\r\n?/g, '\n').trim();
}

export function workflowKey(round: Pick<RoundInput, 'graph' | 'prompt'>): string {
  return createHash('sha256').update(`${round.graph.trim()}\u0000${round.prompt.trim()}`).digest('hex');
}

function byId(a: Candidate, b: Candidate): number {
  return a.trace.queryId < b.trace.queryId ? -1 : a.trace.queryId > b.trace.queryId ? 1 : a.source - b.source || (a.where < b.where ? -1 : a.where > b.where ? 1 : 0);
}

/** Among copies of one query, the most useful demonstration: best hidden score, then public score, then a shorter path. */
function preferred(a: Selected, b: Selected): number {
  return b.trace.hiddenScore - a.trace.hiddenScore || b.trace.bestScore - a.trace.bestScore || a.path.length - b.path.length || byId(a, b);
}

function bump(m: Partial<Record<DropReason, number>>, k: DropReason): void {
  m[k] = (m[k] ?? 0) + 1;
}

/**
 * Applies the filters in a fixed order, so each dropped query is counted under the first reason that applies:
 * broken path → score threshold → best round is the seed → missing teacher reply → duplicate query → duplicate
 * workflow (unless sft.dedupeWorkflows is off).
 *
 * A query whose best round is the seed is dropped: the teacher wrote nothing there (no reasoning, no
 * modification), and FlowReasoner's samples are the teacher's rounds. Duplicates keep one copy: for a query, the
 * copy with the best hidden score; for a final workflow, the first query id in sort order.
 */
export function selectTraces(all: readonly Candidate[], cfg: Pick<SftConfig, 'minHiddenScore' | 'keepImproved' | 'dedupeWorkflows'>): Selection {
  const dropped: Partial<Record<DropReason, number>> = {};
  const sorted = [...all].sort(byId);
  const rounds = { total: 0, invalid: 0, onKeptPaths: 0, offPath: 0 };
  const usable: Selected[] = [];
  for (const c of sorted) {
    rounds.total += c.trace.rounds.length;
    rounds.invalid += c.trace.rounds.filter((r) => !r.valid).length;
    const p = bestPath(c.trace);
    if (!p.ok) {
      bump(dropped, p.problem);
      continue;
    }
    const t = c.trace;
    if (!(t.hiddenScore >= cfg.minHiddenScore || (cfg.keepImproved && t.bestScore > t.seedScore))) {
      bump(dropped, 'below-hidden-threshold');
      continue;
    }
    if (p.rounds.length < 2) {
      bump(dropped, 'best-is-seed');
      continue;
    }
    const path = p.rounds.map((round, i) => ({ round, reasoning: i === 0 ? null : roundReasoning(round) }));
    if (path.slice(1).some((s) => s.reasoning === null)) {
      bump(dropped, 'missing-reply');
      continue;
    }
    usable.push({ ...c, path });
  }

  const byQuery = new Map<string, Selected[]>();
  for (const s of usable) {
    const k = queryKey(s.trace.query);
    byQuery.set(k, [...(byQuery.get(k) ?? []), s]);
  }
  const oneEach: Selected[] = [];
  for (const copies of byQuery.values()) {
    const [first, ...rest] = copies.sort(preferred);
    if (first !== undefined) oneEach.push(first);
    for (let i = 0; i < rest.length; i++) bump(dropped, 'duplicate-query');
  }

  const kept: Selected[] = [];
  const workflows = new Set<string>();
  for (const s of oneEach.sort(byId)) {
    const best = s.path[s.path.length - 1] as PathStep;
    const k = workflowKey(best.round);
    if (cfg.dedupeWorkflows && workflows.has(k)) {
      bump(dropped, 'duplicate-workflow');
      continue;
    }
    workflows.add(k);
    kept.push(s);
  }
  for (const s of kept) rounds.onKeptPaths += s.path.length;
  rounds.offPath = kept.reduce((n, s) => n + s.trace.rounds.length - s.path.length, 0);

  const seenQueries = new Set<string>();
  const distinctQueries: Candidate[] = [];
  for (const c of sorted) {
    const k = queryKey(c.trace.query);
    if (seenQueries.has(k)) continue;
    seenQueries.add(k);
    distinctQueries.push(c);
  }
  return { kept, dropped, distinctQueries, rounds };
}
