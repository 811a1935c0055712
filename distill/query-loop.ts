// The per-query loop (flowreasoner.md §2): seed round, then teacher-proposed rounds, each executed K times; best round scored on hidden tests.
import { errorClass, errorMessage, isPipelineError } from '../pipeline/errors.ts';
import { Rng, hash32 } from '../pipeline/random.ts';
import type { Gateway } from '../pipeline/gateway/gateway.ts';
import type { CodeExecutor } from '../pipeline/sandbox/create-executor.ts';
import { scoreWorkflow, type ScoredRun } from '../pipeline/workflow/score-workflow.ts';
import { workflowHash, type WorkflowDefinition } from '../pipeline/workflow/runtime/run-workflow.ts';
import type { Task } from '../datasets/task.ts';
import type { DistillConfig } from './config-schema.ts';
import { selectParent } from './parent-selection.ts';
import { isRepeated, renderExperience, type ExperienceEntry } from './experience.ts';
import { buildMetaPrompt } from './meta-prompt.ts';
import { roundFeedback } from './round-feedback.ts';
import { SEED_GRAPH, SEED_MODIFICATION, SEED_PROMPT } from './seed-workflow.ts';
import type { RoundRecord, RoundRun, TeacherAttempt, TraceRecord } from './records.ts';

import type { ReplyChecker } from '../pipeline/workflow/check-reply.ts';

export type { ReplyChecker };

export interface QueryLoopDeps {
  gateway: Gateway;
  executor: CodeExecutor;
  cfg: DistillConfig;
  seed: number;
  checkReply: ReplyChecker;
  /** Called with each finished round, in order (the journal append). */
  onRound: (r: RoundRecord) => Promise<void>;
  /** Soft budget check between rounds: a reason to stop, or null. */
  budgetStop: (queryId: string) => string | null;
  signal?: AbortSignal;
}

function toRun(r: ScoredRun): RoundRun {
  return {
    status: r.run.status,
    passRate: r.passRate,
    result: r.exec?.result ?? null,
    error: r.run.error !== undefined ? `${r.run.error.message}${r.run.error.traceback ? `\n${r.run.error.traceback}` : ''}`.slice(0, 4000) : null,
    solution: r.run.solution,
    operatorCalls: r.run.totals.operatorCalls,
    workerCalls: r.run.totals.workerCalls,
    promptTokens: r.run.totals.promptTokens,
    completionTokens: r.run.totals.completionTokens,
    cost: r.run.totals.cost,
    trace: r.run.trace.map((t) => ({ ...t })),
  };
}

function experienceOf(rounds: readonly RoundRecord[]): ExperienceEntry[] {
  const byRound = new Map(rounds.map((r) => [r.round, r]));
  const out: ExperienceEntry[] = [];
  for (const r of rounds) {
    if (r.parent === null || !r.valid || r.score === null) continue;
    const before = byRound.get(r.parent)?.score ?? 0;
    out.push({ parent: r.parent, child: r.round, modification: r.modification, before, after: r.score, succeeded: r.score > before });
  }
  return out;
}

/** Rounds since the best public score first reached 1.0 (0 if it never did). */
function perfectStreak(rounds: readonly RoundRecord[]): number {
  const first = rounds.findIndex((r) => r.valid && r.score === 1);
  return first === -1 ? 0 : rounds.length - first;
}

function bestOf(rounds: readonly RoundRecord[]): RoundRecord {
  let best: RoundRecord | undefined;
  for (const r of rounds) if (r.valid && r.score !== null && (best === undefined || r.score > (best.score ?? -1))) best = r;
  if (best === undefined) throw new Error('no valid round (the seed round is always valid)');
  return best;
}

export async function executeRound(def: WorkflowDefinition, task: Task, deps: QueryLoopDeps, runKey: string, queryId: string, runs: number, tests: 'public' | 'hidden') {
  return scoreWorkflow(def, task, {
    gateway: deps.gateway,
    executor: deps.executor,
    workerRole: deps.cfg.workerRole,
    limits: deps.cfg.runLimits,
    runs,
    tests,
    runKey,
    callContext: { stage: 'distill', queryId },
    ...(deps.signal !== undefined ? { signal: deps.signal } : {}),
  });
}

async function scoredRound(
  base: Omit<RoundRecord, 'runs' | 'score' | 'feedback' | 'promptTokens' | 'completionTokens' | 'cost' | 'timing' | 'codeHash'>,
  task: Task,
  deps: QueryLoopDeps,
  started: number,
  attemptsCost: { prompt: number; completion: number; cost: number },
): Promise<RoundRecord> {
  const def = { graph: base.graph, prompt: base.prompt };
  const score = await executeRound(def, task, deps, `${base.queryId}/r${base.round}`, base.queryId, deps.cfg.runsPerRound, 'public');
  const runs = score.runs.map(toRun);
  return {
    ...base,
    codeHash: workflowHash(def),
    runs,
    score: score.score,
    feedback: roundFeedback(score.runs, task, deps.cfg.feedbackItems),
    promptTokens: attemptsCost.prompt + runs.reduce((s, r) => s + r.promptTokens, 0),
    completionTokens: attemptsCost.completion + runs.reduce((s, r) => s + r.completionTokens, 0),
    cost: attemptsCost.cost + runs.reduce((s, r) => s + r.cost, 0),
    timing: { latencyMs: Math.round(performance.now() - started), finishedAt: new Date().toISOString(), cacheHits: score.runs.reduce((s, r) => s + r.run.totals.cacheHits, 0) },
  };
}

/** Asks the teacher for one round's workflow, retrying malformed or repeated replies; null when none was usable. */
async function proposeRound(task: Task, queryId: string, round: number, parent: RoundRecord, rounds: readonly RoundRecord[], deps: QueryLoopDeps) {
  const experience = experienceOf(rounds);
  const content = buildMetaPrompt({
    query: task.prompt,
    entryPoint: task.entryPoint,
    parentGraph: parent.graph,
    parentPrompt: parent.prompt,
    parentScore: parent.score ?? 0,
    experience: renderExperience(experience, parent.round, parent.score ?? 0),
    failures: parent.feedback,
  });
  const messages = [{ role: 'user' as const, content }];
  const attempts: TeacherAttempt[] = [];
  for (let a = 0; a <= deps.cfg.maxReplyRetries; a++) {
    let reply: Awaited<ReturnType<Gateway['chat']>>;
    try {
      reply = await deps.gateway.chat({
        role: deps.cfg.teacherRole,
        messages,
        sampleIndex: hash32('distill-teacher', queryId, round, a),
        context: { stage: 'distill', queryId },
        ...(deps.signal !== undefined ? { signal: deps.signal } : {}),
      });
    } catch (e) {
      if (isPipelineError(e, 'budget-exceeded') || isPipelineError(e, 'aborted')) throw e;
      attempts.push({ attempt: a, messages, reasoning: null, reply: '', outcome: 'call-failed', failures: [{ code: errorClass(e), message: errorMessage(e) }], promptTokens: 0, completionTokens: 0, cost: 0 });
      continue;
    }
    const base = { attempt: a, messages, reasoning: reply.reasoning, reply: reply.content, promptTokens: reply.usage.promptTokens, completionTokens: reply.usage.completionTokens, cost: reply.cost };
    const checked = await deps.checkReply(reply.content);
    if (!checked.ok) {
      attempts.push({ ...base, outcome: 'malformed', failures: checked.failures.map((f) => ({ code: f.code, message: f.message, ...(f.line !== undefined ? { line: f.line } : {}) })) });
      continue;
    }
    if (isRepeated(experience, parent.round, checked.modification)) {
      attempts.push({ ...base, outcome: 'repeated', failures: [{ code: 'repeated-modification', message: 'this modification was already tried on the same parent' }] });
      continue;
    }
    attempts.push({ ...base, outcome: 'accepted', failures: [] });
    return { attempts, accepted: checked };
  }
  return { attempts, accepted: null };
}

export async function runQuery(queryId: string, task: Task, dataset: string, prior: readonly RoundRecord[], deps: QueryLoopDeps): Promise<TraceRecord> {
  const started = performance.now();
  const rounds: RoundRecord[] = [...prior];
  let stopReason: TraceRecord['stopReason'] = 'max-rounds';
  if (rounds.length === 0) {
    const t0 = performance.now();
    const seed = await scoredRound(
      { kind: 'round', queryId, round: 1, parent: null, valid: true, invalidReason: null, attempts: [], modification: SEED_MODIFICATION, graph: SEED_GRAPH, prompt: SEED_PROMPT, metrics: null },
      task,
      deps,
      t0,
      { prompt: 0, completion: 0, cost: 0 },
    );
    rounds.push(seed);
    await deps.onRound(seed);
  }
  for (let round = rounds.length + 1; round <= deps.cfg.maxRounds + 1; round++) {
    if (perfectStreak(rounds) >= deps.cfg.stopAfterPerfectRounds) {
      stopReason = 'converged';
      break;
    }
    const why = deps.budgetStop(queryId);
    if (why !== null) {
      stopReason = why.startsWith('query') ? 'query-budget-exceeded' : 'budget-exceeded';
      break;
    }
    const t0 = performance.now();
    const scored = rounds.filter((r) => r.valid && r.score !== null).map((r) => ({ round: r.round, score: r.score as number }));
    const parentId = selectParent(scored, deps.cfg.selection, new Rng('distill-parent', deps.seed, queryId, round)).round;
    const parent = rounds.find((r) => r.round === parentId) as RoundRecord;
    let proposal: Awaited<ReturnType<typeof proposeRound>>;
    try {
      proposal = await proposeRound(task, queryId, round, parent, rounds, deps);
    } catch (e) {
      if (isPipelineError(e, 'budget-exceeded')) {
        stopReason = 'budget-exceeded';
        break;
      }
      throw e;
    }
    const spent = {
      prompt: proposal.attempts.reduce((s, a) => s + a.promptTokens, 0),
      completion: proposal.attempts.reduce((s, a) => s + a.completionTokens, 0),
      cost: proposal.attempts.reduce((s, a) => s + a.cost, 0),
    };
    let record: RoundRecord;
    if (proposal.accepted === null) {
      const last = proposal.attempts.at(-1);
      record = {
        kind: 'round', queryId, round, parent: parentId, valid: false,
        invalidReason: last === undefined ? 'no attempt' : `${last.outcome}: ${last.failures.map((f) => f.code).join(', ')}`,
        attempts: proposal.attempts, modification: '', graph: '', prompt: '', codeHash: '', metrics: null, runs: [], score: null, feedback: [],
        promptTokens: spent.prompt, completionTokens: spent.completion, cost: spent.cost,
        timing: { latencyMs: Math.round(performance.now() - t0), finishedAt: new Date().toISOString(), cacheHits: 0 },
      };
    } else {
      const a = proposal.accepted;
      record = await scoredRound(
        { kind: 'round', queryId, round, parent: parentId, valid: true, invalidReason: null, attempts: proposal.attempts, modification: a.modification, graph: a.graph, prompt: a.prompt, metrics: a.metrics },
        task,
        deps,
        t0,
        spent,
      );
    }
    rounds.push(record);
    await deps.onRound(record);
  }
  const best = bestOf(rounds);
  // Charged apart from the query's budget, so a query stopped by its budget still gets its final score.
  const hidden = await executeRound({ graph: best.graph, prompt: best.prompt }, task, deps, `${queryId}/hidden`, `${queryId}#final`, deps.cfg.finalRuns, 'hidden');
  const hiddenRuns = hidden.runs.map(toRun);
  const seedRound = rounds.find((r) => r.round === 1);
  return {
    kind: 'trace',
    queryId,
    dataset,
    taskId: task.id,
    query: task.prompt,
    entryPoint: task.entryPoint,
    rounds,
    bestRound: best.round,
    seedScore: seedRound?.score ?? 0,
    bestScore: best.score ?? 0,
    hiddenScore: hidden.score,
    hiddenRuns,
    stopReason,
    promptTokens: rounds.reduce((s, r) => s + r.promptTokens, 0) + hiddenRuns.reduce((s, r) => s + r.promptTokens, 0),
    completionTokens: rounds.reduce((s, r) => s + r.completionTokens, 0) + hiddenRuns.reduce((s, r) => s + r.completionTokens, 0),
    cost: rounds.reduce((s, r) => s + r.cost, 0) + hiddenRuns.reduce((s, r) => s + r.cost, 0),
    costByRole: costByRole(rounds, hiddenRuns),
    timing: { latencyMs: Math.round(performance.now() - started), finishedAt: new Date().toISOString() },
  };
}

function costByRole(rounds: readonly RoundRecord[], hidden: readonly RoundRun[]): Record<string, number> {
  const teacher = rounds.reduce((s, r) => s + r.attempts.reduce((x, a) => x + a.cost, 0), 0);
  const worker = rounds.reduce((s, r) => s + r.runs.reduce((x, u) => x + u.cost, 0), 0) + hidden.reduce((s, r) => s + r.cost, 0);
  return { teacher, worker };
}
