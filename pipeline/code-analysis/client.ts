// Client of the code analysis service: one long-lived Python process shared per Node process, requests matched by id, restarted on crash or timeout.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { PipelineError } from '../errors.ts';
import { sourceDirOf } from '../source-dir.ts';
import { findBwrap } from '../sandbox/bwrap.ts';
import { pythonCommand, pythonProcessDefaults } from '../sandbox/python-command.ts';
import { WorkflowMetricsSchema } from '../workflow/metrics.ts';
import { FlowNodeSchema } from '../workflow/render-mermaid.ts';

export const SERVICE_DIR = sourceDirOf(import.meta.url);
const SCRIPT = 'code_analysis_service.py';

/** Limits of the analysis process, declared as data. */
export const AnalysisOptionsSchema = z.strictObject({
  python: z.string().default('/usr/bin/python3').describe('Interpreter that runs the service (stdlib only; 3.10+ for match statements).'),
  isolation: z
    .enum(['auto', 'bwrap', 'process'])
    .default('auto')
    .describe('bwrap: bubblewrap, no network, read-only system. process: plain process. auto: bwrap when usable.'),
  timeoutMs: z.int().min(1).default(30_000).describe('Per request; past it the process is killed and restarted.'),
  startTimeoutMs: z.int().min(1).default(15_000).describe('How long a fresh process may take to say it is ready.'),
  memoryMb: z.int().min(0).default(2048).describe('RLIMIT_AS of the service (0 = none).'),
  maxInputBytes: z.int().min(1).default(2 * 1024 * 1024).describe('Largest text (UTF-8 bytes) in one request field.'),
  threads: z.int().min(1).max(32).default(4).describe('Requests the service works on at once.'),
  sandboxUser: z.int().min(1).default(65534).describe('When run as root, the service runs as this uid/gid.'),
});
export type AnalysisOptions = z.infer<typeof AnalysisOptionsSchema>;
export type AnalysisOptionsInput = z.input<typeof AnalysisOptionsSchema>;

// ---------------------------------------------------------------------------------------------------------------------
// Wire format of the service's answers (both sides are ours, so unknown keys are errors: they mean drift).

const Pos = { line: z.int(), col: z.int() };
export const SyntaxErrorInfoSchema = z.strictObject({ message: z.string(), line: z.int().nullable(), col: z.int().nullable() });
export const NamedPosSchema = z.strictObject({ name: z.string(), ...Pos });

export const ImportFactSchema = z.strictObject({
  ...Pos,
  modules: z.array(z.string()).describe('Dotted module names (`from X import y` gives [X]; a relative import may give "").'),
  level: z.int().min(0).describe('Leading dots of a relative import.'),
  bound: z.array(z.string()).describe('Names the statement binds.'),
  nested: z.boolean().describe('Inside a function or class rather than at module level.'),
  provided: z.boolean().describe('Binds only names the runtime provides; removed from the normalized graph.'),
  text: z.string(),
});

export const GraphAnalysisSchema = z.strictObject({
  syntaxError: SyntaxErrorInfoSchema.nullable(),
  normalized: z.string().describe('The graph with provided-name imports removed, every other line where it was.'),
  imports: z.array(ImportFactSchema),
  operatorRefs: z.array(NamedPosSchema).describe('Every operator.X on the provided operator module.'),
  promptRefs: z.array(NamedPosSchema).describe('Every prompt_custom.X on the provided prompt module.'),
  freeNames: z.array(NamedPosSchema).describe('Names loaded but bound nowhere visible (builtins, provided names), first use of each.'),
  attributes: z.array(NamedPosSchema).describe('Every attribute name used, first use of each.'),
  fromImports: z
    .array(z.strictObject({ module: z.string(), name: z.string(), ...Pos }))
    .describe('Every name of a `from M import name` (not relative): it reaches what the attribute M.name would.'),
  moduleAttributes: z
    .array(z.strictObject({ module: z.string(), name: z.string(), ...Pos }))
    .describe('Every module object reached through an allowed module (M.sub, getattr(M, "sub"), from M import sub), unless the allow-list names M.sub itself.'),
  formatAttributes: z.array(NamedPosSchema).describe('Attribute names read by str.format fields in string constants ("{0.__class__}"), first use of each.'),
  reflectiveCalls: z.array(z.strictObject({ func: z.string(), attr: z.string().nullable(), ...Pos })),
  workflowClass: z.strictObject({ line: z.int() }).nullable(),
  call: z
    .strictObject({
      line: z.int(),
      isAsync: z.boolean(),
      params: z.array(z.string()),
      defaults: z.int(),
      varargs: z.boolean(),
      requiredKwonly: z.array(z.string()),
    })
    .nullable(),
  operatorBindings: z.array(z.strictObject({ attr: z.string(), operator: z.string(), line: z.int() })),
  metrics: WorkflowMetricsSchema.nullable(),
  flow: z.array(FlowNodeSchema),
});
export type GraphAnalysis = z.infer<typeof GraphAnalysisSchema>;

export const PromptAnalysisSchema = z.strictObject({
  syntaxError: SyntaxErrorInfoSchema.nullable(),
  constants: z.array(NamedPosSchema),
  violations: z.array(z.strictObject({ ...Pos, message: z.string() })),
});
export type PromptAnalysis = z.infer<typeof PromptAnalysisSchema>;

export const WorkflowAnalysisSchema = z.strictObject({ graph: GraphAnalysisSchema, prompt: PromptAnalysisSchema });
export type WorkflowAnalysis = z.infer<typeof WorkflowAnalysisSchema>;

export const ExtractedCodeSchema = z.strictObject({
  code: z.string().describe('The code, or "" when the reply holds nothing that parses.'),
  source: z.enum(['fence', 'span', 'none']).describe('A fenced block, an unfenced run of lines that parses, or nothing.'),
  candidates: z.int().min(0).describe('Parsing blocks (or runs) considered.'),
  joined: z.int().min(0).describe('Blocks that contributed definitions.'),
  pruned: z.boolean().describe('Definitions not reachable from the entry point were dropped.'),
  entryPointFound: z.boolean(),
});
export type ExtractedCode = z.infer<typeof ExtractedCodeSchema>;

const AnswerSchema = z.union([
  z.strictObject({ id: z.int().nullable(), ok: z.literal(true), result: z.unknown() }),
  z.strictObject({ id: z.int().nullable(), ok: z.literal(false), error: z.strictObject({ code: z.string(), message: z.string() }) }),
]);

// ---------------------------------------------------------------------------------------------------------------------

export interface RequestOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

interface Pending {
  id: number;
  line: string;
  timeoutMs: number;
  resolve: (value: unknown) => void;
  reject: (e: unknown) => void;
  timer: NodeJS.Timeout | null;
  /** Process generation the request was written to; null while waiting for a process. */
  sentTo: number | null;
  /** Already re-sent once after a process we killed for another request's timeout. */
  resent: boolean;
  cleanup: () => void;
}

interface Proc {
  child: ChildProcess;
  generation: number;
  ready: Promise<void>;
  /** Why we killed it, if we did: in-flight requests other than the culprit are then re-sent. */
  killedFor: 'timeout' | 'close' | null;
  stderr: string;
}

export class AnalysisClient {
  readonly options: AnalysisOptions;
  private proc: Proc | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private generation = 0;
  private closed = false;
  /** Processes started after the first (crash, kill or timeout). */
  restarts = 0;

  constructor(input: AnalysisOptionsInput = {}) {
    this.options = AnalysisOptionsSchema.parse(input);
  }

  /** OS pid of the running service process (bwrap's pid under bubblewrap), or null when none runs. */
  get pid(): number | null {
    return this.proc?.child.pid ?? null;
  }

  /** How the service is isolated once started. */
  get isolation(): 'bwrap' | 'process' {
    return this.bwrapPath() === null ? 'process' : 'bwrap';
  }

  private bwrapPath(): string | null {
    if (this.options.isolation === 'process') return null;
    const found = findBwrap();
    if (found === null && this.options.isolation === 'bwrap') {
      throw new PipelineError('sandbox-failed', 'analysis isolation is bwrap, but bubblewrap is not usable here', {
        hint: 'Install bubblewrap (apt-get install bubblewrap) or use isolation: auto.',
      });
    }
    return found;
  }

  private start(): Proc {
    const o = this.options;
    const generation = ++this.generation;
    if (generation > 1) this.restarts += 1;
    const serviceArgs = [JSON.stringify({ memoryMb: o.memoryMb, maxInputBytes: o.maxInputBytes, threads: o.threads })];
    const py = pythonCommand({ python: o.python, mode: o.isolation, sandboxUser: o.sandboxUser }, { dir: SERVICE_DIR, script: SCRIPT, args: serviceArgs, bwrap: this.bwrapPath() });
    const child = spawn(py.cmd, py.args, { ...py.options, stdio: ['pipe', 'pipe', 'pipe'] });
    let markReady: () => void = () => {};
    let failStart: (e: unknown) => void = () => {};
    const ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failStart = reject;
    });
    // A start that fails is reported to whoever waits on it; nobody waiting must not be an unhandled rejection.
    ready.catch(() => {});
    const proc: Proc = { child, generation, ready, killedFor: null, stderr: '' };
    let isReady = false;
    const startTimer = setTimeout(() => {
      if (isReady) return;
      failStart(new PipelineError('analyzer-failed', `code analysis service did not start within ${o.startTimeoutMs} ms`, { retryable: true }));
      this.killProc(proc, 'close');
    }, o.startTimeoutMs);
    child.stderr?.on('data', (d: Buffer) => {
      if (proc.stderr.length < 8192) proc.stderr += d.toString();
    });
    child.stdin?.on('error', () => {
      // EPIPE after the process died: the exit handler answers for the requests.
    });
    if (child.stdout === null) throw new PipelineError('analyzer-failed', 'code analysis service has no stdout pipe');
    const lines = createInterface({ input: child.stdout, crlfDelay: Infinity });
    lines.on('line', (line) => {
      let msg: unknown;
      try {
        msg = JSON.parse(line);
      } catch {
        return; // not ours (the service writes only JSON lines); ignoring is safer than guessing an id
      }
      if (!isReady) {
        if (typeof msg === 'object' && msg !== null && (msg as { ready?: unknown }).ready === true) {
          isReady = true;
          clearTimeout(startTimer);
          markReady();
        }
        return;
      }
      this.onAnswer(msg);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(startTimer);
      if (!isReady) {
        failStart(
          new PipelineError('analyzer-failed', `code analysis service did not start (${py.cmd} exited ${code ?? signal}): ${proc.stderr.trim().slice(0, 800)}`, {
            retryable: false,
            hint: py.isolated ? 'Check that bubblewrap works here, or set isolation: process.' : `Check the interpreter (${o.python}).`,
          }),
        );
      }
      this.onExit(proc, code, signal);
    });
    child.on('error', (e) => {
      // spawn failures (ENOENT, EACCES) may come without an exit event: forget this process so the next request retries
      if (this.proc === proc) this.proc = null;
      failStart(new PipelineError('analyzer-failed', `cannot start the code analysis service: ${e.message}`, { hint: `Check the interpreter (${o.python}).` }));
    });
    return proc;
  }

  private onAnswer(raw: unknown): void {
    const parsed = AnswerSchema.safeParse(raw);
    if (!parsed.success) return;
    const msg = parsed.data;
    if (msg.id === null) return; // an unreadable request line; its sender times out
    const p = this.pending.get(msg.id);
    if (p === undefined) return; // already timed out or aborted
    this.finish(p);
    if (msg.ok) {
      p.resolve(msg.result);
      return;
    }
    const code = msg.error.code === 'input-too-large' ? 'data-invalid' : 'analyzer-failed';
    p.reject(new PipelineError(code, `code analysis ${msg.error.code}: ${msg.error.message}`));
  }

  private onExit(proc: Proc, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.proc === proc) this.proc = null;
    for (const p of [...this.pending.values()]) {
      if (p.sentTo !== proc.generation) continue;
      if (proc.killedFor === 'timeout' && !p.resent) {
        // Innocent bystanders of another request's timeout get one more try on a fresh process.
        p.resent = true;
        this.clearTimer(p);
        p.sentTo = null;
        this.dispatch(p);
        continue;
      }
      this.finish(p);
      p.reject(
        new PipelineError('analyzer-failed', `code analysis service exited (${code ?? signal}) while answering: ${proc.stderr.trim().slice(0, 400)}`, {
          retryable: true,
        }),
      );
    }
    this.updateRef();
  }

  private killProc(proc: Proc, why: 'timeout' | 'close'): void {
    proc.killedFor = why;
    const pid = proc.child.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, 'SIGKILL'); // the whole group: bwrap and the interpreter inside it
    } catch {
      proc.child.kill('SIGKILL');
    }
  }

  private current(): Proc {
    if (this.proc === null || this.proc.killedFor !== null) this.proc = this.start();
    return this.proc;
  }

  private clearTimer(p: Pending): void {
    if (p.timer !== null) clearTimeout(p.timer);
    p.timer = null;
  }

  private finish(p: Pending): void {
    this.clearTimer(p);
    this.pending.delete(p.id);
    p.cleanup();
    this.updateRef();
  }

  private dispatch(p: Pending): void {
    let proc: Proc;
    try {
      proc = this.current();
    } catch (e) {
      this.finish(p);
      p.reject(e);
      return;
    }
    proc.ready.then(
      () => {
        if (!this.pending.has(p.id)) return;
        if (proc.killedFor !== null || proc.child.exitCode !== null || proc.child.signalCode !== null) {
          this.dispatch(p); // the process went away between ready and now
          return;
        }
        p.sentTo = proc.generation;
        p.timer = setTimeout(() => this.onTimeout(p, proc), p.timeoutMs);
        proc.child.stdin?.write(p.line);
      },
      (e: unknown) => {
        if (!this.pending.has(p.id)) return;
        this.finish(p);
        p.reject(e);
      },
    );
  }

  private onTimeout(p: Pending, proc: Proc): void {
    if (!this.pending.has(p.id)) return;
    this.finish(p);
    p.reject(new PipelineError('timeout', `code analysis request took longer than ${p.timeoutMs} ms; the service was restarted`, { retryable: false }));
    if (this.proc === proc) this.proc = null;
    this.killProc(proc, 'timeout');
  }

  /** An idle service must not keep Node alive; a busy one must. */
  private updateRef(): void {
    const child = this.proc?.child;
    if (child !== undefined) this.setRef(child, this.pending.size > 0);
  }

  private setRef(child: ChildProcess, on: boolean): void {
    for (const s of [child.stdin, child.stdout, child.stderr] as Array<Socket | null>) {
      if (s === null) continue;
      if (on) s.ref();
      else s.unref();
    }
    if (on) child.ref();
    else child.unref();
  }

  /** Sends one raw request; resolves with the service's `result`. Prefer the typed methods below. */
  request(op: string, payload: Record<string, unknown>, opts: RequestOptions = {}): Promise<unknown> {
    if (this.closed) return Promise.reject(new PipelineError('aborted', 'the analysis client is closed'));
    if (opts.signal?.aborted === true) return Promise.reject(new PipelineError('aborted', 'code analysis request aborted'));
    const id = this.nextId++;
    return new Promise<unknown>((resolve, reject) => {
      const onAbort = (): void => {
        const p = this.pending.get(id);
        if (p === undefined) return;
        this.finish(p);
        reject(new PipelineError('aborted', 'code analysis request aborted'));
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      const p: Pending = {
        id,
        line: `${JSON.stringify({ ...payload, id, op })}\n`,
        timeoutMs: opts.timeoutMs ?? this.options.timeoutMs,
        resolve,
        reject,
        timer: null,
        sentTo: null,
        resent: false,
        cleanup: () => opts.signal?.removeEventListener('abort', onAbort),
      };
      this.pending.set(id, p);
      this.updateRef();
      this.dispatch(p);
    });
  }

  private checkSize(field: string, text: string): void {
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > this.options.maxInputBytes) {
      throw new PipelineError('data-invalid', `${field} is ${bytes} bytes; the analysis limit is ${this.options.maxInputBytes}`);
    }
  }

  private parse<T>(schema: z.ZodType<T>, op: string, raw: unknown): T {
    const r = schema.safeParse(raw);
    if (!r.success) throw new PipelineError('analyzer-failed', `code analysis ${op} answered in an unexpected shape: ${r.error.message.slice(0, 400)}`);
    return r.data;
  }

  /** Facts about a graph module and a prompt module (syntax, imports, references, metrics, flow). Never runs them. */
  async analyzeWorkflow(
    graph: string,
    prompt: string,
    opts: RequestOptions & { providedNames?: readonly string[]; allowedModules?: readonly string[] } = {},
  ): Promise<WorkflowAnalysis> {
    this.checkSize('graph', graph);
    this.checkSize('prompt', prompt);
    const fields = {
      graph,
      prompt,
      ...(opts.providedNames ? { providedNames: opts.providedNames } : {}),
      // Without the allow-list the service cannot tell which modules it may introspect, so moduleAttributes stays empty.
      ...(opts.allowedModules ? { allowedModules: opts.allowedModules } : {}),
    };
    const raw = await this.request('analyze_workflow', fields, opts);
    return this.parse(WorkflowAnalysisSchema, 'analyze_workflow', raw);
  }

  /** The code a worker meant in a free-form reply (see extract-code.ts). */
  async extractCode(text: string, entryPoint?: string, opts: RequestOptions = {}): Promise<ExtractedCode> {
    this.checkSize('reply', text);
    const raw = await this.request('extract_code', { text, entryPoint: entryPoint ?? null }, opts);
    return this.parse(ExtractedCodeSchema, 'extract_code', raw);
  }

  async ping(opts: RequestOptions = {}): Promise<{ pid: number; python: string }> {
    const raw = await this.request('ping', {}, opts);
    return this.parse(z.strictObject({ pid: z.int(), python: z.string() }), 'ping', raw);
  }

  /** Stops the service; pending requests fail with `aborted`. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const proc = this.proc;
    this.proc = null;
    for (const p of [...this.pending.values()]) {
      this.finish(p);
      p.reject(new PipelineError('aborted', 'the analysis client was closed'));
    }
    if (proc === null) return;
    const child = proc.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    // An idle child is unref'd; waiting for its exit must keep Node alive or the await below never settles.
    this.setRef(child, true);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    proc.killedFor = 'close';
    // EOF lets the service finish cleanly; a stuck one is killed shortly after.
    child.stdin?.end();
    const timer = setTimeout(() => this.killProc(proc, 'close'), 1000);
    await exited;
    clearTimeout(timer);
  }
}

let shared: AnalysisClient | null = null;

let sharedFor = '';

/**
 * The process-wide client (started lazily on the first request), with the sandbox settings of this process
 * (sandbox.python, sandbox.mode, sandbox.sandboxUser, set by the Executor). When those change, the next call starts
 * a client that follows them; the old one is closed.
 */
export function sharedAnalysisClient(): AnalysisClient {
  const s = pythonProcessDefaults();
  const key = JSON.stringify(s);
  if (shared !== null && sharedFor !== key) void shared.close();
  if (shared === null || sharedFor !== key) {
    shared = new AnalysisClient({ python: s.python, isolation: s.mode, sandboxUser: s.sandboxUser });
    sharedFor = key;
  }
  return shared;
}

/** Stops the process-wide client; the next sharedAnalysisClient() makes a new one. */
export async function closeSharedAnalysisClient(): Promise<void> {
  const c = shared;
  shared = null;
  await c?.close();
}
