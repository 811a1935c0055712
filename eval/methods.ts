// The three kinds of method the table compares, each producing one judged sample of one task: direct (one worker call),
// a fixed hand-written workflow, and a meta-agent that writes and refines a workflow on the public tests. Every
// solution is judged once on the hidden tests; a failure of our infrastructure is thrown (InfraError), never scored.
import { jobFor, type Task } from '../datasets/task.ts';
import { errorClass, errorMessage, isPipelineError } from '../pipeline/errors.ts';
import type { Gateway } from '../pipeline/gateway/gateway.ts';
import type { CallContext, ChatMessage } from '../pipeline/gateway/types.ts';
import { hash32 } from '../pipeline/random.ts';
import type { CodeExecutor } from '../pipeline/sandbox/create-executor.ts';
import type { ExecResult } from '../pipeline/sandbox/job.ts';
import { extractCode } from '../pipeline/workflow/extract-code.ts';
import type { ReplyChecker } from '../pipeline/workflow/check-reply.ts';
import type { RunLimits, WorkflowRunResult } from '../pipeline/workflow/runtime/run-types.ts';
import { scoreWorkflow, type ScoredRun } from '../pipeline/workflow/score-workflow.ts';
import { metaAgentMessages, publicFailures, refineFeedback } from '../pipeline/prompts/meta-agent-turns.ts';
import type { MetaAgentMethod } from './config-schema.ts';
import type { EvalRound, EvalSample } from './results-schema.ts';

export interface MethodDeps {
  gateway: Gateway;
  executor: CodeExecutor;
  checkReply: ReplyChecker;
  workerRole: string;
  runLimits: RunLimits;
  seed: number;
  signal?: AbortSignal;
}

/** What a method produced for one sample: the sample record without its identity fields. */
export type MethodOutcome = Omit<EvalSample, 'kind' | 'key' | 'method' | 'methodKind' | 'dataset' | 'taskId' | 'sample' | 'finishedAt' | 'latencyMs'>;

/** Our side failed (the sandbox, or a model endpoint after its retries): the sample is not judged, and a resume retries it. */
export class InfraError extends Error {
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(message);
    this.name = 'InfraError';
    this.reason = reason;
  }
}

/** Model-call failures that say nothing about the method: the endpoint, not the workflow, failed. */
const ENDPOINT_FAILURES = new Set(['endpoint-unreachable', 'rate-limited', 'server-error', 'timeout', 'auth-failed', 'malformed-response']);

function checkRunInfra(run: WorkflowRunResult): void {
  if (run.status === 'sandbox-error') throw new InfraError('sandbox-error', `workflow runtime: ${run.error?.message ?? 'sandbox error'}`);
  const failed = run.trace.find((t) => t.errorClass !== undefined && ENDPOINT_FAILURES.has(t.errorClass));
  if (failed !== undefined) throw new InfraError(`worker:${failed.errorClass}`, `a worker call of ${failed.op} failed: ${failed.error ?? ''}`);
}

function checkExecInfra(exec: ExecResult | null): void {
  if (exec?.status === 'sandbox-error') throw new InfraError('sandbox-error', `judging: ${exec.result}`);
}

interface Usage {
  promptTokens: number;
  completionTokens: number;
  cost: number;
  operatorCalls: number;
  workerCalls: number;
}

function addUsage(into: Usage, u: Partial<Usage>): void {
  into.promptTokens += u.promptTokens ?? 0;
  into.completionTokens += u.completionTokens ?? 0;
  into.cost += u.cost ?? 0;
  into.operatorCalls += u.operatorCalls ?? 0;
  into.workerCalls += u.workerCalls ?? 0;
}

function verdictOf(exec: ExecResult | null, failure: string | null): Pick<MethodOutcome, 'passed' | 'status' | 'result' | 'failure'> {
  if (exec === null) return { passed: false, status: 'no-solution', result: failure ?? 'no solution', failure: failure ?? 'no-solution' };
  return { passed: exec.passed, status: exec.status, result: exec.result.slice(0, 2000), failure: null };
}

/** One hidden-test execution of a workflow, with its usage. */
async function judgeWorkflowOnce(def: { graph: string; prompt: string }, task: Task, deps: MethodDeps, runKey: string, context: CallContext) {
  const score = await scoreWorkflow(def, task, {
    gateway: deps.gateway,
    executor: deps.executor,
    workerRole: deps.workerRole,
    limits: deps.runLimits,
    runs: 1,
    tests: 'hidden',
    runKey,
    callContext: context,
    ...(deps.signal !== undefined ? { signal: deps.signal } : {}),
  });
  const run = score.runs[0] as ScoredRun;
  checkRunInfra(run.run);
  checkExecInfra(run.exec);
  return run;
}

function usageOf(run: WorkflowRunResult): Usage {
  return {
    promptTokens: run.totals.promptTokens,
    completionTokens: run.totals.completionTokens,
    cost: run.totals.cost,
    operatorCalls: run.totals.operatorCalls,
    workerCalls: run.totals.workerCalls,
  };
}

/** The instruction of the direct method: the task and the answer format, nothing else. */
export function directMessages(task: Task): ChatMessage[] {
  return [
    {
      role: 'user',
      content: `${task.prompt.trim()}\n\nWrite the complete Python code, defining \`${task.entryPoint}\` with the exact signature asked for, in one fenced python block.`,
    },
  ];
}

export async function runDirect(task: Task, queryId: string, sample: number, deps: MethodDeps): Promise<MethodOutcome> {
  let reply: Awaited<ReturnType<Gateway['chat']>>;
  try {
    reply = await deps.gateway.chat({
      role: deps.workerRole,
      messages: directMessages(task),
      sampleIndex: hash32('eval-direct', deps.seed, queryId, sample),
      context: { stage: 'eval', queryId },
      ...(deps.signal !== undefined ? { signal: deps.signal } : {}),
    });
  } catch (e) {
    if (isPipelineError(e, 'aborted') || isPipelineError(e, 'budget-exceeded')) throw e;
    throw new InfraError(`worker:${errorClass(e)}`, `the direct call failed: ${errorMessage(e)}`);
  }
  const usage = { promptTokens: reply.usage.promptTokens, completionTokens: reply.usage.completionTokens, cost: reply.cost, operatorCalls: 0, workerCalls: 1 };
  const solution = await extractCode(reply.content, task.entryPoint);
  if (solution.trim() === '') return { ...usage, workflow: null, rounds: [], chosenRound: null, solution, roundsUsed: 0, ...verdictOf(null, 'no-code-in-reply') };
  const exec = await deps.executor.run(jobFor(task, solution, 'hidden'));
  checkExecInfra(exec);
  return { ...usage, workflow: null, rounds: [], chosenRound: null, solution, roundsUsed: 0, ...verdictOf(exec, null) };
}

export async function runFixedWorkflow(def: { graph: string; prompt: string }, method: string, task: Task, queryId: string, sample: number, deps: MethodDeps): Promise<MethodOutcome> {
  const run = await judgeWorkflowOnce(def, task, deps, `eval/${method}/${queryId}/${sample}`, { stage: 'eval', queryId });
  const failure = run.exec === null ? `workflow:${run.run.status}` : null;
  return { ...usageOf(run.run), workflow: def, rounds: [], chosenRound: null, solution: run.run.solution, roundsUsed: 0, ...verdictOf(run.exec, failure) };
}

/**
 * The paper's test-time loop for one sample: the meta-agent writes a workflow, it runs on the public tests, the report
 * goes back as the next user turn, up to `rounds` workflows; the best one on the public tests (the latest on a tie) is
 * judged once on the hidden tests. The hidden tests never reach the meta-agent.
 */
export async function runMetaAgent(method: MetaAgentMethod, task: Task, queryId: string, sample: number, deps: MethodDeps): Promise<MethodOutcome> {
  const messages: ChatMessage[] = metaAgentMessages(task.prompt, task.entryPoint);
  const rounds: EvalRound[] = [];
  const usage: Usage = { promptTokens: 0, completionTokens: 0, cost: 0, operatorCalls: 0, workerCalls: 0 };
  const context: CallContext = { stage: 'eval', queryId };
  let best: { round: number; score: number; def: { graph: string; prompt: string } } | null = null;
  for (let round = 1; round <= method.rounds; round++) {
    let accepted: { modification: string; graph: string; prompt: string } | null = null;
    let invalidReason: string | null = null;
    let attempts = 0;
    for (let a = 0; a <= method.replyRetries && accepted === null; a++) {
      attempts++;
      let reply: Awaited<ReturnType<Gateway['chat']>>;
      try {
        reply = await deps.gateway.chat({
          role: method.role,
          messages: [...messages],
          sampleIndex: hash32('eval-meta-agent', deps.seed, method.name, queryId, sample, round, a),
          context,
          ...(deps.signal !== undefined ? { signal: deps.signal } : {}),
        });
      } catch (e) {
        if (isPipelineError(e, 'aborted') || isPipelineError(e, 'budget-exceeded')) throw e;
        // A reply cut by its length limit or empty after the gateway's retries is the meta-agent's failure to answer;
        // an endpoint that cannot be reached is ours.
        if (isPipelineError(e, 'reply-truncated') || isPipelineError(e, 'reply-empty') || isPipelineError(e, 'bad-request')) {
          invalidReason = `${errorClass(e)}: ${errorMessage(e)}`.slice(0, 500);
          continue;
        }
        throw new InfraError(`meta-agent:${errorClass(e)}`, `the ${method.role} call failed: ${errorMessage(e)}`);
      }
      addUsage(usage, { promptTokens: reply.usage.promptTokens, completionTokens: reply.usage.completionTokens, cost: reply.cost });
      const checked = await deps.checkReply(reply.content);
      messages.push({ role: 'assistant', content: reply.content });
      if (checked.ok) {
        accepted = { modification: checked.modification, graph: checked.graph, prompt: checked.prompt };
      } else {
        invalidReason = checked.failures.map((f) => f.code).join(', ');
        messages.push(refineFeedback(0, [], checked.failures.map((f) => `${f.code}: ${f.message}`).slice(0, 3)));
      }
    }
    if (accepted === null) {
      rounds.push({ round, valid: false, invalidReason: invalidReason ?? 'no reply', attempts, modification: '', graph: '', prompt: '', publicScore: null });
      continue;
    }
    const def = { graph: accepted.graph, prompt: accepted.prompt };
    const pub = await scoreWorkflow(def, task, {
      gateway: deps.gateway,
      executor: deps.executor,
      workerRole: deps.workerRole,
      limits: deps.runLimits,
      runs: method.publicRuns,
      tests: 'public',
      runKey: `eval/${method.name}/${queryId}/${sample}/r${round}`,
      callContext: context,
      ...(deps.signal !== undefined ? { signal: deps.signal } : {}),
    });
    for (const r of pub.runs) {
      checkRunInfra(r.run);
      checkExecInfra(r.exec);
      addUsage(usage, usageOf(r.run));
    }
    rounds.push({ round, valid: true, invalidReason: null, attempts, ...accepted, publicScore: pub.score });
    if (best === null || pub.score >= best.score) best = { round, score: pub.score, def };
    if (method.stopWhenPerfect && pub.score === 1) break;
    if (round < method.rounds) messages.push(refineFeedback(pub.score, publicFailures(pub.runs), []));
  }
  if (best === null) {
    return { ...usage, workflow: null, rounds, chosenRound: null, solution: '', roundsUsed: rounds.length, ...verdictOf(null, 'no-valid-workflow') };
  }
  const run = await judgeWorkflowOnce(best.def, task, deps, `eval/${method.name}/${queryId}/${sample}/hidden`, context);
  addUsage(usage, usageOf(run.run));
  const failure = run.exec === null ? `workflow:${run.run.status}` : null;
  return {
    ...usage,
    workflow: best.def,
    rounds,
    chosenRound: best.round,
    solution: run.run.solution,
    roundsUsed: rounds.length,
    ...verdictOf(run.exec, failure),
  };
}
