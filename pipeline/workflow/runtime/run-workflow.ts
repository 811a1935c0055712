// Runs one workflow for one task: its control flow in a sandboxed Python process, its operator calls served here.
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { errorClass, errorMessage, isPipelineError, PipelineError } from '../../errors.ts';
import { hash32 } from '../../random.ts';
import { sourceDirOf } from '../../source-dir.ts';
import { findBwrap } from '../../sandbox/bwrap.ts';
import { pythonCommand } from '../../sandbox/python-command.ts';
import type { Gateway } from '../../gateway/gateway.ts';
import type { CallContext, ChatMessage } from '../../gateway/types.ts';
import type { CodeExecutor } from '../../sandbox/create-executor.ts';
import type { Task } from '../../../datasets/task.ts';
import { OPERATORS, operatorByName } from '../operators/registry.ts';
import type { OperatorContext, WorkerReply } from '../operators/operator-context.ts';
import { extractCode } from '../extract-code.ts';
import { LineSplitter, MAX_PROTOCOL_LINE_BYTES } from './line-splitter.ts';
import { cutForTrace, parseRuntimeLine, type RuntimeCall } from './runtime-protocol.ts';
import { takeRuntime } from './spare-runtimes.ts';
import { RunLimitsSchema, type RunLimits, type RunStatus, type TraceEntry, type WorkflowRunResult } from './run-types.ts';

const RUNTIME_DIR = path.join(sourceDirOf(import.meta.url), 'py');
const OUTPUT_CAP = 32 * 1024;

export interface WorkflowDefinition {
  graph: string;
  prompt: string;
}

export interface RunWorkflowOptions {
  gateway: Gateway;
  executor: CodeExecutor;
  workerRole?: string;
  limits?: Partial<RunLimits>;
  /** Distinguishes independent executions of the same workflow (each gets its own worker samples; reruns hit the cache). */
  runKey?: string;
  callContext?: CallContext;
  signal?: AbortSignal;
  /** Overrides of the executor's sandbox settings (sandbox.python, sandbox.mode, sandbox.sandboxUser). */
  python?: string;
  mode?: 'auto' | 'bwrap' | 'process';
  sandboxUser?: number;
}

/** Ends a runtime's whole process group (bwrap and what runs inside it). A runtime is never used for a second run. */
function killRuntime(pid: number | undefined): void {
  try {
    if (pid !== undefined) process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

export function workflowHash(def: WorkflowDefinition): string {
  return createHash('sha256').update(def.graph).update('\u0000').update(def.prompt).digest('hex');
}

export async function runWorkflow(def: WorkflowDefinition, task: Task, opts: RunWorkflowOptions): Promise<WorkflowRunResult> {
  const limits = RunLimitsSchema.parse(opts.limits ?? {});
  const started = performance.now();
  const trace: TraceEntry[] = [];
  const totals = { operatorCalls: 0, workerCalls: 0, promptTokens: 0, completionTokens: 0, cost: 0, cacheHits: 0, wallMs: 0 };
  const codeHash = workflowHash(def);
  const runKey = opts.runKey ?? '0';
  // The sandbox settings of the executor this run judges with, unless the caller overrides them.
  const settings = {
    python: opts.python ?? opts.executor.config.python,
    mode: opts.mode ?? opts.executor.config.mode,
    sandboxUser: opts.sandboxUser ?? opts.executor.config.sandboxUser,
  };
  const bwrap = settings.mode === 'process' ? null : findBwrap();
  if (bwrap === null && settings.mode === 'bwrap') {
    throw new PipelineError('sandbox-failed', 'sandbox.mode is bwrap, but bubblewrap is not usable here', { hint: 'Install bubblewrap (apt-get install bubblewrap) or set sandbox.mode: auto.' });
  }
  const py = pythonCommand(settings, { dir: RUNTIME_DIR, script: 'fr_workflow_runtime.py', bwrap });
  const child = takeRuntime(py.cmd, py.args, { ...py.options, stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'] });
  const toRuntime = child.stdio[3] as Writable;
  const fromRuntime = child.stdio[4] as Readable;
  let output = '';
  const keep = (d: Buffer): void => {
    if (output.length < OUTPUT_CAP) output += d.toString().slice(0, OUTPUT_CAP - output.length);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  toRuntime.on('error', () => undefined); // the runtime may exit while a reply is on its way

  let finished: ((r: { status: RunStatus; solution?: string; error?: { message: string; traceback?: string } }) => void) | null = null;
  const outcome = new Promise<{ status: RunStatus; solution?: string; error?: { message: string; traceback?: string } }>((resolve) => (finished = resolve));
  let stopped: RunStatus | null = null;
  const finish = (r: { status: RunStatus; solution?: string; error?: { message: string; traceback?: string } }): void => {
    const f = finished;
    finished = null;
    f?.(r);
  };
  const stop = (status: RunStatus, message: string): void => {
    if (stopped !== null) return;
    stopped = status;
    finish({ status, error: { message } });
  };
  const send = (msg: Record<string, unknown>): void => {
    if (stopped === null) toRuntime.write(`${JSON.stringify(msg)}\n`);
  };
  const costNow = (): Record<string, number> => ({ total_cost: totals.cost, total_prompt_tokens: totals.promptTokens, total_completion_tokens: totals.completionTokens });

  // A line the protocol does not allow means the sandboxed code wrote to the channel itself (or the runtime broke): the
  // run fails, and the runtime is ended at once so that nothing it still writes is read or buffered.
  const protocolError = (message: string): void => {
    splitter.stop();
    stop('protocol-error', message);
    killRuntime(child.pid);
    fromRuntime.destroy();
  };

  const wall = setTimeout(() => stop('timeout', `the workflow ran past limits.wallClockS=${limits.wallClockS}s`), limits.wallClockS * 1000);
  const onAbort = (): void => stop('timeout', 'cancelled');
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  // 'close', not 'exit': only after the pipes are drained is a missing result really missing.
  child.on('close', (code, sig) => {
    if (stopped === null && finished !== null) finish({ status: 'sandbox-error', error: { message: `workflow process exited (${code ?? sig}) without a result`, traceback: output.slice(-4000) } });
  });
  child.on('error', (e) => finish({ status: 'sandbox-error', error: { message: `cannot start the workflow runtime: ${e.message}` } }));

  const serve = async (msg: RuntimeCall): Promise<void> => {
    const seq = ++totals.operatorCalls;
    if (seq > limits.maxOperatorCalls) {
      stop('limit-operator-calls', `more than limits.maxOperatorCalls=${limits.maxOperatorCalls} operator calls`);
      return;
    }
    const entry: TraceEntry = { seq, op: msg.op, ok: false, args: cutForTrace(msg.args) as Record<string, unknown>, output: null, workerCalls: 0, promptTokens: 0, completionTokens: 0, cost: 0, cacheHits: 0, latencyMs: 0, startedMs: Math.round(performance.now() - started) };
    trace.push(entry);
    const t0 = performance.now();
    const spec = operatorByName(msg.op);
    let asks = 0;
    const ctx: OperatorContext = {
      task,
      executor: opts.executor,
      gateway: opts.gateway,
      callContext: opts.callContext ?? {},
      testFixRounds: limits.testFixRounds,
      signal: opts.signal ?? new AbortController().signal,
      extractCode: (text, entryPoint) => extractCode(text, entryPoint),
      ask: async (messages: ChatMessage[], o = {}): Promise<WorkerReply> => {
        if (stopped !== null) throw new Error('run stopped');
        const sampleIndex = hash32('workflow-call', runKey, codeHash, msg.id, asks++);
        const r = await opts.gateway.chat({
          role: opts.workerRole ?? 'worker',
          messages,
          sampleIndex,
          ...(o.temperature !== undefined ? { sampling: { temperature: o.temperature } } : {}),
          ...(opts.callContext !== undefined ? { context: opts.callContext } : {}),
          ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
        });
        const reply = { content: r.content, promptTokens: r.usage.promptTokens, completionTokens: r.usage.completionTokens, cost: r.cost, cacheHit: r.cacheHit };
        entry.workerCalls++;
        entry.promptTokens += reply.promptTokens;
        entry.completionTokens += reply.completionTokens;
        entry.cost += reply.cost;
        if (reply.cacheHit) entry.cacheHits++;
        totals.workerCalls++;
        totals.promptTokens += reply.promptTokens;
        totals.completionTokens += reply.completionTokens;
        totals.cost += reply.cost;
        if (reply.cacheHit) totals.cacheHits++;
        if (totals.promptTokens + totals.completionTokens > limits.maxWorkerTokens) stop('limit-tokens', `worker tokens passed limits.maxWorkerTokens=${limits.maxWorkerTokens}`);
        else if (totals.cost > limits.maxCostUsd) stop('limit-cost', `worker cost passed limits.maxCostUsd=$${limits.maxCostUsd}`);
        return reply;
      },
    };
    try {
      if (spec === undefined) throw new Error(`unknown operator ${msg.op}; available: ${OPERATORS.map((o) => o.name).join(', ')}`);
      const parsed = spec.args.safeParse(msg.args);
      if (!parsed.success) throw new Error(`${msg.op}: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'arguments'}: ${i.message}`).join('; ')}`);
      const result = await spec.run(parsed.data, ctx);
      entry.ok = true;
      entry.output = cutForTrace(result) as Record<string, unknown>;
      entry.latencyMs = Math.round(performance.now() - t0);
      send({ id: msg.id, ok: true, result, cost: costNow() });
    } catch (e) {
      entry.error = errorMessage(e);
      entry.errorClass = errorClass(e);
      entry.latencyMs = Math.round(performance.now() - t0);
      // Budget and cancellation end the run; anything else is the operator's failure, which the workflow may handle.
      if (isPipelineError(e, 'budget-exceeded')) stop('limit-cost', errorMessage(e));
      else if (isPipelineError(e, 'aborted')) stop('timeout', 'cancelled');
      else send({ id: msg.id, ok: false, error: entry.error, cost: costNow() });
    }
  };

  const onLine = (line: string): void => {
    if (stopped !== null || finished === null) return; // the run is decided; late lines change nothing
    if (line.trim() === '') return;
    const parsed = parseRuntimeLine(line);
    if (!parsed.ok) {
      protocolError(parsed.error);
      return;
    }
    const msg = parsed.message;
    if (msg.type === 'call') {
      // serve answers its own failures; anything that still escapes ends this run, never the host process.
      serve(msg).catch((e: unknown) => protocolError(`serving ${msg.op} failed: ${errorMessage(e)}`));
    } else if (msg.type === 'done') {
      finish({ status: 'ok', solution: msg.solution });
    } else {
      const kind = msg.kind;
      const status: RunStatus = kind === 'load-failed' || kind === 'workflow-raised' || kind === 'no-solution' || kind === 'bad-solution-type' ? kind : 'workflow-raised';
      finish({ status, error: { message: msg.message, ...(msg.traceback !== undefined && msg.traceback !== '' ? { traceback: msg.traceback } : {}) } });
    }
  };
  // Our own splitter, not readline: readline buffers a line whole however long it grows.
  const splitter = new LineSplitter(MAX_PROTOCOL_LINE_BYTES, onLine, (bytes) =>
    protocolError(`the runtime sent a line longer than ${MAX_PROTOCOL_LINE_BYTES} bytes (stopped reading at ${bytes}); messages must stay under the cap`),
  );
  fromRuntime.on('data', (chunk: Buffer) => {
    try {
      splitter.push(chunk);
    } catch (e) {
      protocolError(`reading the runtime's messages failed: ${errorMessage(e)}`);
    }
  });
  fromRuntime.on('error', () => undefined); // destroyed by us, or the runtime died: 'close' reports the run

  toRuntime.write(
    `${JSON.stringify({
      graph: def.graph,
      prompt: def.prompt,
      problem: task.prompt,
      entryPoint: task.entryPoint,
      operators: OPERATORS.map((o) => ({ name: o.name, params: o.params })),
      limits: { memoryMb: limits.memoryMb, maxProcesses: 16, maxLineBytes: MAX_PROTOCOL_LINE_BYTES },
    })}\n`,
  );

  const r = await outcome;
  clearTimeout(wall);
  opts.signal?.removeEventListener('abort', onAbort);
  killRuntime(child.pid);
  totals.wallMs = Math.round(performance.now() - started);
  // Summed again in call order: float sums in completion order would differ between a run and its resumed twin.
  const bySeq = [...trace].sort((a, b) => a.seq - b.seq);
  totals.cost = bySeq.reduce((s, t) => s + t.cost, 0);
  totals.promptTokens = bySeq.reduce((s, t) => s + t.promptTokens, 0);
  totals.completionTokens = bySeq.reduce((s, t) => s + t.completionTokens, 0);
  return {
    status: r.status,
    solution: r.solution ?? '',
    ...(r.error !== undefined ? { error: r.error } : {}),
    trace,
    totals,
    codeHash,
    ...(output !== '' ? { output } : {}),
  };
}
