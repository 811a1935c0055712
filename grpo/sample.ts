// One rollout sample: the policy writes a workflow (single mode) or revises it over m rounds with public-test feedback (refine mode);
// the final workflow is executed and judged; token ids and logprobs are kept exactly as the server returned them.
import { errorClass, errorMessage, isPipelineError } from '../pipeline/errors.ts';
import type { Gateway } from '../pipeline/gateway/gateway.ts';
import type { ChatMessage, ChatResult } from '../pipeline/gateway/types.ts';
import type { CodeExecutor } from '../pipeline/sandbox/create-executor.ts';
import type { ReplyChecker } from '../pipeline/workflow/check-reply.ts';
import { scoreWorkflow } from '../pipeline/workflow/score-workflow.ts';
import type { RunLimits } from '../pipeline/workflow/runtime/run-types.ts';
import { judgeWorkflow, type JudgedReply } from './judge.ts';
import { hash32 } from '../pipeline/random.ts';
import type { Task } from '../datasets/task.ts';
import { metaAgentMessages, publicFailures, refineFeedback } from '../pipeline/prompts/meta-agent-turns.ts';
import type { Turn } from './token-sequence.ts';

export interface SampleSpec {
  step: number;
  groupId: string;
  sampleIdx: number;
  task: Task;
  promptUid: string;
  mode: 'single' | 'refine';
  refineRounds: number;
  hiddenRuns: number;
}

export interface SampleDeps {
  gateway: Gateway;
  executor: CodeExecutor;
  checkReply: ReplyChecker;
  policyRole: string;
  workerRole: string;
  runLimits: Partial<RunLimits>;
  seed: number;
  /** The served model name to request (changes when a LoRA adapter is hot-loaded). */
  servedModel: () => string | undefined;
  policyVersion: () => number;
  signal: AbortSignal;
}

export interface SampleOutcome extends JudgedReply {
  spec: SampleSpec;
  turns: Turn[];
  messages: ChatMessage[];
  finishReason: string;
  truncated: boolean;
  /** Hidden-test pass rate per execution of the final workflow. */
  passRates: number[];
  totals: { workerTokens: number; costUsd: number; wallS: number };
  policyVersionStart: number;
  policyVersionEnd: number;
  servedModel: string;
  timings: { samplingMs: number; executionMs: number };
  error?: string;
}

function turnOf(r: ChatResult): Turn {
  const c = r.choices[0];
  const ids = c?.tokenIds ?? [];
  return { promptIds: r.promptTokenIds ?? [], completionIds: ids, logprobs: (c?.logprobs ?? []).map((l) => l.logprob).slice(0, ids.length) };
}

export async function runSample(spec: SampleSpec, deps: SampleDeps): Promise<SampleOutcome> {
  const versionStart = deps.policyVersion();
  const served = deps.servedModel();
  const messages: ChatMessage[] = metaAgentMessages(spec.task.prompt, spec.task.entryPoint);
  const turns: Turn[] = [];
  const totals = { workerTokens: 0, costUsd: 0, wallS: 0 };
  const timings = { samplingMs: 0, executionMs: 0 };
  const base = {
    spec,
    messages,
    turns,
    totals,
    timings,
    servedModel: served ?? '',
    policyVersionStart: versionStart,
  };
  let finishReason = 'stop';
  let formatFailures: string[] = [];
  let metrics: Record<string, unknown> | null = null;
  let workflow: { graph: string; prompt: string } | null = null;
  const rounds = spec.mode === 'refine' ? Math.max(1, spec.refineRounds) : 1;
  for (let round = 0; round < rounds; round++) {
    const t0 = performance.now();
    let reply: ChatResult;
    try {
      reply = await deps.gateway.chat({
        role: deps.policyRole,
        messages: [...messages],
        sampleIndex: hash32('grpo-sample', deps.seed, spec.step, spec.groupId, spec.sampleIdx, round),
        capture: { tokenIds: true, logprobs: true },
        context: { stage: 'grpo', queryId: spec.promptUid },
        signal: deps.signal,
        ...(served !== undefined ? { sampling: { extraBody: { model: served } } } : {}),
      });
    } catch (e) {
      if (isPipelineError(e, 'aborted')) throw e;
      // A reply cut by the length limit after retries is still a failed sample, recorded as such (never a wrong answer).
      return { ...base, status: 'sampling-failed', finishReason: isPipelineError(e, 'reply-truncated') ? 'length' : 'abort', truncated: isPipelineError(e, 'reply-truncated'), formatFailures, metrics, passRates: [], hiddenRuns: [], workflow, policyVersionEnd: deps.policyVersion(), error: `${errorClass(e)}: ${errorMessage(e)}` };
    }
    timings.samplingMs += performance.now() - t0;
    turns.push(turnOf(reply));
    finishReason = reply.choices[0]?.finishReason ?? 'stop';
    const content = reply.content;
    messages.push({ role: 'assistant', content: reply.reasoning !== null ? `<think>\n${reply.reasoning}\n</think>\n\n${content}` : content });
    const checked = await deps.checkReply(content);
    const last = round === rounds - 1;
    if (!checked.ok) {
      formatFailures = checked.failures.map((f) => f.code);
      workflow = null;
      metrics = null;
      if (!last) messages.push(refineFeedback(0, [], checked.failures.map((f) => `${f.code}: ${f.message}`).slice(0, 3)));
      continue;
    }
    formatFailures = [];
    workflow = { graph: checked.graph, prompt: checked.prompt };
    metrics = checked.metrics;
    if (!last) {
      // Refine mode: run on the public tests and feed the result back as the next user turn.
      const t1 = performance.now();
      const pub = await scoreWorkflow(workflow, spec.task, { gateway: deps.gateway, executor: deps.executor, workerRole: deps.workerRole, limits: deps.runLimits, runs: 1, tests: 'public', runKey: `grpo/${spec.step}/${spec.groupId}/${spec.sampleIdx}/r${round}`, callContext: { stage: 'grpo', queryId: spec.promptUid }, signal: deps.signal });
      timings.executionMs += performance.now() - t1;
      messages.push(refineFeedback(pub.score, publicFailures(pub.runs), []));
    }
  }
  if (workflow === null) {
    return { ...base, status: 'invalid-format', finishReason, truncated: finishReason === 'length', formatFailures, metrics, passRates: [], hiddenRuns: [], workflow, policyVersionEnd: deps.policyVersion() };
  }
  const t2 = performance.now();
  const hidden = await judgeWorkflow(workflow, spec.task, { gateway: deps.gateway, executor: deps.executor, workerRole: deps.workerRole, runLimits: deps.runLimits, hiddenRuns: spec.hiddenRuns }, {
    runKey: `grpo/${spec.step}/${spec.groupId}/${spec.sampleIdx}/final`,
    context: { stage: 'grpo', queryId: spec.promptUid },
    signal: deps.signal,
  });
  timings.executionMs += performance.now() - t2;
  Object.assign(totals, hidden.totals);
  return {
    ...base,
    status: hidden.anySolution ? 'ok' : 'no-solution',
    finishReason,
    truncated: finishReason === 'length',
    formatFailures,
    metrics,
    passRates: hidden.passRates,
    hiddenRuns: hidden.hiddenRuns,
    workflow,
    policyVersionEnd: deps.policyVersion(),
  };
}
