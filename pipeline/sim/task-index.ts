// Finds which benchmark task a message is about, so the simulated worker can answer with (or near) its reference.
import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { PipelineError } from '../errors.ts';

export interface SimTask {
  id: string;
  entryPoint: string;
  /** The problem as a client would show it: the HumanEval prompt, or MBPP's text. */
  prompt: string;
  /** The complete reference program (for HumanEval: prompt + canonical_solution). */
  solution: string;
}

interface Entry {
  task: SimTask;
  normalizedPrompt: string;
}

/**
 * Call sites `name(`. The lookbehind keeps the scan linear: a match never starts inside an identifier,
 * so each one is tried once however long it is.
 */
const CALL = /(?<!\w)[A-Za-z_]\w*(?=[ \t]*\()/g;
// A task name this common can match too many unrelated messages to be worth a containment check each.
const MAX_CANDIDATES = 32;

export class TaskIndex {
  private readonly byEntryPoint = new Map<string, Entry[]>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(task: SimTask): void {
    const entry: Entry = { task, normalizedPrompt: normalizeSpace(task.prompt) };
    const list = this.byEntryPoint.get(task.entryPoint);
    if (list) list.push(entry);
    else this.byEntryPoint.set(task.entryPoint, [entry]);
    this.count++;
  }

  /**
   * The task whose entry point the text calls or defines. Many MBPP tasks share a name, so the one whose
   * problem text is contained in the message wins. A bare call without that evidence is ignored: `add(`
   * alone is too common to mean HumanEval/53.
   */
  find(text: string): SimTask | undefined {
    const candidates = new Map<Entry, { defined: boolean }>();
    for (const m of text.matchAll(CALL)) {
      const list = this.byEntryPoint.get(m[0]);
      if (!list) continue;
      const defined = /\bdef[ \t]+$/.test(text.slice(Math.max(0, m.index - 8), m.index));
      for (const entry of list) {
        const prior = candidates.get(entry);
        if (prior) prior.defined ||= defined;
        else if (candidates.size < MAX_CANDIDATES) candidates.set(entry, { defined });
      }
    }
    if (candidates.size === 0) return undefined;
    const normalizedText = normalizeSpace(text);
    let best: { task: SimTask; score: number } | undefined;
    for (const [entry, { defined }] of candidates) {
      const contained = entry.normalizedPrompt.length > 0 && normalizedText.includes(entry.normalizedPrompt);
      const score = (contained ? 2 : 0) + (defined ? 1 : 0);
      if (score > 0 && (!best || score > best.score)) best = { task: entry.task, score };
    }
    return best?.task;
  }

  /** Loads HumanEval.jsonl.gz and mbpp.jsonl from dir when present; a missing file just contributes nothing. */
  static async fromDataDir(dir: string): Promise<TaskIndex> {
    const index = new TaskIndex();
    const humanEval = path.join(dir, 'HumanEval.jsonl.gz');
    if (await exists(humanEval)) {
      for await (const row of readJsonLines(humanEval, true)) index.add(humanEvalTask(row, humanEval));
    }
    const mbpp = path.join(dir, 'mbpp.jsonl');
    if (await exists(mbpp)) {
      for await (const row of readJsonLines(mbpp, false)) index.add(mbppTask(row, mbpp));
    }
    return index;
  }
}

export function normalizeSpace(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    // Absent or unreadable both mean "this benchmark is not available here", which is allowed.
    return false;
  }
}

type Row = Record<string, unknown>;

// The data dir comes from config (sim.dataDir), so a broken file there is reported as a config problem.
const DATA_HINT = 'Point sim.dataDir at an unmodified copy of the benchmark files, or leave it unset.';

/** Streams one JSON object per line so a large file never sits in memory whole. */
async function* readJsonLines(file: string, gzipped: boolean): AsyncGenerator<Row> {
  const raw = createReadStream(file);
  const input = gzipped ? raw.pipe(createGunzip()) : raw;
  let streamError: unknown;
  const fail = (e: unknown): void => {
    streamError ??= e;
    lines.close();
  };
  raw.on('error', fail);
  if (input !== raw) input.on('error', fail);
  const lines = createInterface({ input, crlfDelay: Infinity });
  let lineNo = 0;
  for await (const line of lines) {
    lineNo++;
    if (line.trim() === '') continue;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch (e) {
      throw new PipelineError('config-invalid', `${file}:${lineNo}: not valid JSON`, { cause: e, hint: DATA_HINT });
    }
    if (row === null || typeof row !== 'object') throw new PipelineError('config-invalid', `${file}:${lineNo}: expected an object`, { hint: DATA_HINT });
    yield row as Row;
  }
  if (streamError !== undefined) throw new PipelineError('config-invalid', `${file}: could not be read`, { cause: streamError, hint: DATA_HINT });
}

function field(row: Row, key: string, file: string): string {
  const v = row[key];
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  throw new PipelineError('config-invalid', `${file}: row ${JSON.stringify(row['task_id'])} lacks string field "${key}"`, { hint: DATA_HINT });
}

function humanEvalTask(row: Row, file: string): SimTask {
  const prompt = field(row, 'prompt', file);
  return {
    id: field(row, 'task_id', file),
    entryPoint: field(row, 'entry_point', file),
    prompt,
    solution: prompt + field(row, 'canonical_solution', file),
  };
}

function mbppTask(row: Row, file: string): SimTask {
  // The file carries Windows line endings; the worker's replies should not.
  const code = field(row, 'code', file).replace(/\r\n/g, '\n');
  const tests = row['test_list'];
  const firstAssert = Array.isArray(tests) && typeof tests[0] === 'string' ? tests[0] : '';
  return {
    id: `Mbpp/${field(row, 'task_id', file)}`,
    entryPoint: mbppEntryPoint(code, firstAssert) ?? '',
    prompt: field(row, 'text', file),
    solution: code,
  };
}

/** The first function the first assert calls that the reference code defines (skips set(, sorted(, math.isclose(). */
export function mbppEntryPoint(code: string, firstAssert: string): string | undefined {
  const defined = new Set([...code.matchAll(/\bdef\s+([A-Za-z_]\w*)\s*\(/g)].map((m) => m[1]));
  const called = [...firstAssert.matchAll(/([A-Za-z_]\w*)\s*\(/g)].map((m) => m[1]);
  return called.find((n) => n !== undefined && defined.has(n)) ?? called.find((n) => n !== undefined && n !== 'assert');
}
