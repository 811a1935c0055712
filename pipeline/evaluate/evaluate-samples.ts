// Judges a stream of samples against a benchmark in the sandbox: results in input order, per-task pass@k at the end.
import { createReadStream } from 'node:fs';
import { TextDecoder } from 'node:util';
import { errorMessage } from '../errors.ts';
import type { CodeExecutor } from '../sandbox/create-executor.ts';
import type { ExecResult } from '../sandbox/job.ts';
import { assembleProgram, jobFor, type Task } from '../../datasets/task.ts';
import { passAtKTable } from './pass-at-k.ts';

export interface SampleLine {
  line: number;
  raw: Record<string, unknown> | null;
  error?: string;
}

export interface JudgedSample {
  /** The input fields, then ours. */
  [key: string]: unknown;
  task_id: unknown;
  passed: boolean;
  result: string;
}

export interface EvaluationSummary {
  samples: number;
  invalid: number;
  tasks: number;
  byStatus: Record<string, number>;
  passAtK: Record<string, number>;
  /** EvalPlus: pass@k of the base inputs alone (what EvalPlus reports as HumanEval/MBPP). */
  basePassAtK?: Record<string, number>;
  missingDependencies: Record<string, number>;
  failedTasks: string[];
}

export interface EvaluateOptions {
  tests: 'hidden' | 'public';
  calibrated: boolean;
  timeoutS?: number;
  /** Jobs submitted ahead of the writer (bounded, so memory stays flat on huge sample files). */
  window: number;
  onResult?: (r: JudgedSample) => void;
}

function sampleOf(line: number, bytes: Uint8Array, utf8: TextDecoder): SampleLine | null {
  const end = bytes.length > 0 && bytes[bytes.length - 1] === 0x0d ? bytes.length - 1 : bytes.length;
  let text: string;
  try {
    text = utf8.decode(bytes.subarray(0, end));
  } catch {
    // A lenient decode turns bad bytes into U+FFFD and the judged code is then not what the sample held.
    return { line, raw: null, error: 'not valid UTF-8' };
  }
  if (text.trim() === '') return null;
  try {
    const v: unknown = JSON.parse(text);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return { line, raw: null, error: 'not a JSON object' };
    return { line, raw: v as Record<string, unknown> };
  } catch (e) {
    return { line, raw: null, error: `not JSON (${errorMessage(e)})` };
  }
}

/**
 * Reads JSONL samples one by one; a malformed line becomes an entry with an error instead of stopping the run.
 * Lines are split as bytes and decoded strictly one by one, so an invalid byte is reported at its line.
 */
export async function* readSamples(file: string): AsyncGenerator<SampleLine> {
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let line = 0;
  let carried: Buffer[] = [];
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, nl);
      const bytes = carried.length > 0 ? Buffer.concat([...carried, piece]) : piece;
      carried = [];
      start = nl + 1;
      const s = sampleOf(++line, bytes, utf8);
      if (s !== null) yield s;
    }
    if (start < chunk.length) carried.push(chunk.subarray(start));
  }
  if (carried.length > 0) {
    const s = sampleOf(++line, Buffer.concat(carried), utf8);
    if (s !== null) yield s;
  }
}

function invalid(s: SampleLine, why: string): JudgedSample {
  return { ...(s.raw ?? {}), task_id: s.raw?.task_id ?? null, line: s.line, passed: false, result: `invalid sample: ${why}`, status: 'invalid' };
}

function judged(raw: Record<string, unknown>, r: ExecResult): JudgedSample {
  const out: JudgedSample = { ...raw, task_id: raw.task_id, passed: r.passed, result: r.result, status: r.status, duration_ms: r.durationMs };
  if (r.base !== undefined) out.base_status = r.base;
  if (r.plus !== undefined) out.plus_status = r.plus;
  if (r.tests !== undefined) out.tests = r.tests;
  if (r.firstFailure !== undefined) out.first_failure = r.firstFailure;
  return out;
}

/**
 * @param samples the samples, in input order (from readSamples, or built in code).
 * @param write receives each judged sample in input order.
 */
export async function evaluateSamples(
  tasks: ReadonlyMap<string, Task>,
  samples: AsyncIterable<SampleLine> | Iterable<SampleLine>,
  executor: CodeExecutor,
  write: (r: JudgedSample) => Promise<void> | void,
  opts: EvaluateOptions,
): Promise<EvaluationSummary> {
  const pending = new Map<number, Promise<JudgedSample>>();
  let nextToSubmit = 0;
  let nextToWrite = 0;
  const perTask = new Map<string, { n: number; c: number; base: number }>();
  const byStatus: Record<string, number> = {};
  const missing: Record<string, number> = {};
  let count = 0;
  let invalidCount = 0;

  const account = (r: JudgedSample): void => {
    count++;
    const status = String(r.status ?? 'unknown');
    byStatus[status] = (byStatus[status] ?? 0) + 1;
    if (status === 'invalid') {
      invalidCount++;
      return;
    }
    if (status === 'missing-dependency') {
      for (const m of r.result.replace(/^missing dependency: /, '').split(', ')) missing[m] = (missing[m] ?? 0) + 1;
    }
    const id = String(r.task_id);
    const t = perTask.get(id) ?? { n: 0, c: 0, base: 0 };
    t.n++;
    if (r.passed) t.c++;
    if (r.base_status === 'pass') t.base++;
    perTask.set(id, t);
  };

  const drain = async (all: boolean): Promise<void> => {
    while (pending.has(nextToWrite) && (all || pending.size >= opts.window)) {
      const r = await (pending.get(nextToWrite) as Promise<JudgedSample>);
      pending.delete(nextToWrite);
      nextToWrite++;
      account(r);
      await write(r);
      opts.onResult?.(r);
    }
  };

  for await (const s of samples) {
    const idx = nextToSubmit++;
    let p: Promise<JudgedSample>;
    if (s.raw === null) p = Promise.resolve(invalid(s, s.error ?? 'unreadable'));
    else {
      const raw = s.raw;
      const id = raw.task_id;
      const task = typeof id === 'string' || typeof id === 'number' ? tasks.get(String(id)) : undefined;
      if (task === undefined) p = Promise.resolve(invalid(s, id === undefined ? 'no task_id' : `unknown task_id ${JSON.stringify(id)}`));
      else if (typeof raw.completion !== 'string' && typeof raw.solution !== 'string') p = Promise.resolve(invalid(s, 'needs a "completion" or a "solution" string'));
      else {
        const sample = typeof raw.solution === 'string' ? { solution: raw.solution } : { completion: raw.completion as string };
        const program = assembleProgram(task, sample, { calibrated: opts.calibrated });
        const job = jobFor(task, program, opts.tests);
        if (opts.timeoutS !== undefined) job.timeoutS = opts.timeoutS;
        p = executor.run(job).then((r) => judged(raw, r));
      }
    }
    pending.set(idx, p);
    await drain(false);
  }
  await drain(true);

  const counts = [...perTask.values()];
  const summary: EvaluationSummary = {
    samples: count,
    invalid: invalidCount,
    tasks: perTask.size,
    byStatus,
    passAtK: passAtKTable(counts),
    missingDependencies: missing,
    failedTasks: [...perTask.entries()].filter(([, t]) => t.c < t.n).map(([id]) => id),
  };
  if (opts.tests === 'hidden' && [...perTask.keys()].some((id) => tasks.get(id)?.hiddenTests.harness === 'evalplus')) {
    summary.basePassAtK = passAtKTable(counts.map((t) => ({ n: t.n, c: t.base })));
  }
  return summary;
}
