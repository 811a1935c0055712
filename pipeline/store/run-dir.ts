// A run directory: frozen config, run.json status, append-only journals, logs and outputs; created fresh or resumed.
import { mkdir, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { stringify as toYaml } from 'yaml';
import { PipelineError, isNoSpace, isPipelineError } from '../errors.ts';
import { overwriteInPlace, writeFileAtomic } from './atomic-write.ts';
import { scrubText } from '../secrets.ts';
import { Journal, type TailRepair } from './journal.ts';
import type { SourceFile } from '../config/load.ts';

/** The status field of a run directory's run.json (a workflow execution's status is RunStatus in workflow/runtime). */
export type RunRecordStatus = 'running' | 'completed' | 'failed' | 'interrupted' | 'budget-exceeded' | 'disk-full';

export interface RunMeta {
  id: string;
  command: string;
  status: RunRecordStatus;
  createdAt: string;
  updatedAt: string;
  resumes: string[];
  host: string;
  pid: number;
  nodeVersion: string;
  /** What the config was built from (no secrets: env values are not stored), so --resume rebuilds it. */
  source: { files: SourceFile[]; overrides: string[] };
  summary?: Record<string, unknown>;
  error?: { code: string; message: string };
}

export function newRunId(command: string, name: string, now = new Date()): string {
  const ts = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z').replace('T', '-');
  return `${ts}-${command}-${name}-${randomBytes(3).toString('hex')}`;
}

export class RunStore {
  readonly dir: string;
  private meta: RunMeta;
  private readonly journals = new Map<string, Journal<unknown>>();
  /** Torn tails repaired when journals were reopened, by journal name. */
  readonly repairs = new Map<string, TailRepair>();
  /** The status run.json holds on disk, which differs from meta.status when a final write found no room. */
  private savedStatus: RunRecordStatus | null = null;
  private failure: PipelineError | null = null;
  private readonly failureListeners: Array<(e: PipelineError) => void> = [];

  private constructor(dir: string, meta: RunMeta) {
    this.dir = dir;
    this.meta = meta;
  }

  get id(): string {
    return this.meta.id;
  }

  get info(): Readonly<RunMeta> {
    return this.meta;
  }

  /** The first write into this directory that failed (a journal, the log, a JSON output), or null. */
  get writeFailure(): PipelineError | null {
    return this.failure;
  }

  /** Called once, on the first failed write: the run cannot be trusted to go on, whoever caught the error. */
  onWriteFailure(listener: (e: PipelineError) => void): void {
    this.failureListeners.push(listener);
  }

  noteWriteFailure(e: PipelineError): void {
    if (this.failure !== null) return;
    this.failure = e;
    for (const l of this.failureListeners) l(e);
  }

  static async create(opts: {
    outRoot: string;
    command: string;
    name: string;
    dir?: string;
    frozenConfig: Record<string, unknown>;
    source: RunMeta['source'];
  }): Promise<RunStore> {
    const id = opts.dir !== undefined ? path.basename(path.resolve(opts.dir)) : newRunId(opts.command, opts.name);
    const dir = path.resolve(opts.dir ?? path.join(opts.outRoot, id));
    const existing = await stat(path.join(dir, 'run.json')).catch(() => null);
    if (existing !== null) {
      throw new PipelineError('usage', `${dir} already holds a run`, { hint: `Continue it with --resume ${dir}, or choose another --out.` });
    }
    await mkdir(dir, { recursive: true }).catch((e: unknown) => {
      throw isNoSpace(e) ? new PipelineError('disk-full', `no space left to create the run directory ${dir}`, { hint: 'Free disk space, then start the run again.', cause: e }) : e;
    });
    const now = new Date().toISOString();
    const meta: RunMeta = {
      id,
      command: opts.command,
      status: 'running',
      createdAt: now,
      updatedAt: now,
      resumes: [],
      host: os.hostname(),
      pid: process.pid,
      nodeVersion: process.version,
      source: opts.source,
    };
    const store = new RunStore(dir, meta);
    try {
      await writeFileAtomic(path.join(dir, 'config.yaml'), `# Resolved configuration of run ${id} (secrets redacted).\n${toYaml(opts.frozenConfig)}`);
      await store.saveMeta();
    } catch (e) {
      if (!isNoSpace(e) && !isPipelineError(e, 'disk-full')) throw e;
      // run.json is written by rename, so it does not exist: nothing ran and there is nothing to resume.
      throw new PipelineError('disk-full', `no space left to create the run in ${dir}: run.json could not be written, nothing ran`, {
        hint: 'Free disk space, then start the run again.',
        cause: e,
      });
    }
    return store;
  }

  static async resume(dir: string): Promise<RunStore> {
    const abs = path.resolve(dir);
    let text: string;
    try {
      text = await readFile(path.join(abs, 'run.json'), 'utf8');
    } catch {
      throw new PipelineError('run-not-found', `${abs} is not a run directory (no run.json)`, { hint: 'Pass the directory printed when the run started, e.g. runs/20261126-...' });
    }
    const meta = JSON.parse(text) as RunMeta;
    const now = new Date().toISOString();
    meta.resumes.push(now);
    meta.status = 'running';
    meta.updatedAt = now;
    meta.pid = process.pid;
    delete meta.error;
    const store = new RunStore(abs, meta);
    await store.saveMeta();
    return store;
  }

  path(...parts: string[]): string {
    return path.join(this.dir, ...parts);
  }

  /** Opens (once) an append-only journal inside the run directory, e.g. `events.jsonl` or `distill/rounds.jsonl`. */
  async journal<T>(name: string, opts: { fsync?: boolean } = {}): Promise<Journal<T>> {
    const existing = this.journals.get(name);
    if (existing !== undefined) return existing as Journal<T>;
    const file = this.path(name);
    await mkdir(path.dirname(file), { recursive: true });
    const { journal, repair } = await Journal.open<T>(file, { ...opts, onFail: (e) => this.noteWriteFailure(e) });
    if (repair !== null) this.repairs.set(name, repair);
    this.journals.set(name, journal as Journal<unknown>);
    return journal;
  }

  async writeJson(name: string, value: unknown): Promise<void> {
    await this.writeText(name, `${JSON.stringify(value, null, 2)}\n`);
  }

  /** Replaces a whole file of the run directory atomically (a table, a report): readers see the old or the new text. */
  async writeText(name: string, text: string): Promise<void> {
    const file = this.path(name);
    try {
      await mkdir(path.dirname(file), { recursive: true });
      await writeFileAtomic(file, text);
    } catch (e) {
      if (isPipelineError(e, 'disk-full')) this.noteWriteFailure(e);
      throw e;
    }
  }

  private async saveMeta(): Promise<void> {
    this.meta.updatedAt = new Date().toISOString();
    await writeFileAtomic(this.path('run.json'), scrubText(`${JSON.stringify(this.meta, null, 2)}\n`));
    this.savedStatus = this.meta.status;
  }

  /**
   * Records how the run ended. On a full disk the temp copy of run.json may find no room, so run.json is then
   * overwritten in place, first whole, then without the summary and indentation: a status that still says
   * `running` would tell the user the run is alive. Throws `disk-full` only when even that failed.
   */
  async finish(status: RunRecordStatus, summary?: Record<string, unknown>, error?: { code: string; message: string }): Promise<void> {
    this.meta.status = status;
    if (summary !== undefined) this.meta.summary = summary;
    if (error !== undefined) this.meta.error = error;
    for (const j of this.journals.values()) await j.close();
    this.journals.clear();
    let first: unknown;
    try {
      await this.saveMeta();
      return;
    } catch (e) {
      if (!isPipelineError(e, 'disk-full')) throw e;
      first = e;
    }
    const small: RunMeta = { ...this.meta };
    delete small.summary;
    if (small.error !== undefined) small.error = { code: small.error.code, message: small.error.message.slice(0, 300) };
    for (const text of [`${JSON.stringify(this.meta, null, 2)}\n`, `${JSON.stringify(small)}\n`]) {
      try {
        await overwriteInPlace(this.path('run.json'), scrubText(text));
        this.savedStatus = status;
        return;
      } catch {
        // The next, smaller text may still fit; the first failure is the one reported.
      }
    }
    throw new PipelineError('disk-full', `no space left to record status "${status}" in ${this.path('run.json')}, which still says "${this.savedStatus ?? 'nothing'}"`, {
      hint: 'Free disk space, then rerun with --resume <run-dir>.',
      cause: first,
    });
  }
}
