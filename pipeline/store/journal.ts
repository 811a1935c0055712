// Append-only JSONL journal: whole records only, fsync'd at record boundaries, torn tails dropped on reopen, disk-full reported.
import { open, type FileHandle } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { PipelineError, diskFullError, isNoSpace } from '../errors.ts';
import { scrubJsonLine } from '../secrets.ts';
import { fsyncDir } from './durable-fs.ts';

export interface JournalOptions {
  /** fdatasync after each batch of records (default true). Turning it off trades durability for speed. */
  fsync?: boolean;
  /**
   * Told once when a write fails. An append's rejection can be caught and counted by whoever awaited it (a failed
   * call inside a workflow run); the run directory's owner must still learn that its journal stopped.
   */
  onFail?: (e: PipelineError) => void;
}

export interface TailRepair {
  /** Bytes cut from the end because they did not form a whole JSON record. */
  droppedBytes: number;
}

interface Pending {
  data: string;
  resolve: () => void;
  reject: (e: unknown) => void;
}

function ioError(e: unknown, file: string): PipelineError {
  if (isNoSpace(e)) return diskFullError(file, e, 'everything before this record is intact');
  return new PipelineError('journal-corrupt', `cannot write ${file}: ${(e as Error).message}`, { cause: e });
}

/** Finds where the last whole record ends: after the last newline, and only if that line parses. */
async function repairTail(fh: FileHandle, size: number): Promise<{ size: number; repair: TailRepair | null }> {
  if (size === 0) return { size, repair: null };
  const chunk = Math.min(size, 1 << 20);
  const buf = Buffer.alloc(chunk);
  await fh.read(buf, 0, chunk, size - chunk);
  let end = size;
  if (buf[chunk - 1] !== 0x0a) {
    const nl = buf.lastIndexOf(0x0a);
    end = nl === -1 ? (chunk === size ? 0 : -1) : size - chunk + nl + 1;
    if (end === -1) throw new PipelineError('journal-corrupt', 'last record is longer than 1 MiB and not terminated');
  }
  // A crash can also leave a terminated line of garbage (e.g. zero-filled blocks); drop it if it is the last one.
  if (end > 0) {
    const rel = end - (size - chunk);
    const prevNl = rel - 2 >= 0 ? buf.lastIndexOf(0x0a, rel - 2) : -1;
    const line = buf.subarray(prevNl + 1, rel - 1).toString('utf8');
    try {
      JSON.parse(line);
    } catch {
      end = size - chunk + prevNl + 1;
    }
  }
  if (end === size) return { size, repair: null };
  await fh.truncate(end);
  await fh.datasync();
  return { size: end, repair: { droppedBytes: size - end } };
}

export class Journal<T = unknown> {
  readonly file: string;
  private readonly fh: FileHandle;
  private readonly fsync: boolean;
  private readonly onFail: ((e: PipelineError) => void) | undefined;
  private size: number;
  private queue: Pending[] = [];
  private draining = false;
  private failed: PipelineError | null = null;
  private closed = false;
  private records = 0;

  private constructor(file: string, fh: FileHandle, size: number, opts: JournalOptions) {
    this.file = file;
    this.fh = fh;
    this.size = size;
    this.fsync = opts.fsync ?? true;
    this.onFail = opts.onFail;
  }

  /** Opens (creating if needed) and repairs a torn tail. */
  static async open<T>(file: string, opts: JournalOptions = {}): Promise<{ journal: Journal<T>; repair: TailRepair | null }> {
    let fh: FileHandle;
    try {
      fh = await open(file, 'a+');
    } catch (e) {
      if (isNoSpace(e)) throw diskFullError(file, e, 'the journal could not be created');
      throw e;
    }
    const st = await fh.stat();
    if (st.size === 0) {
      // Make the new directory entry durable too.
      await fsyncDir(path.dirname(file));
    }
    const { size, repair } = await repairTail(fh, st.size);
    return { journal: new Journal<T>(file, fh, size, opts), repair };
  }

  /** Resolves once the record is on disk (batched with concurrent appends into one write and one fsync). */
  append(record: T): Promise<void> {
    if (this.failed !== null) return Promise.reject(this.failed);
    if (this.closed) return Promise.reject(new PipelineError('journal-corrupt', `journal ${this.file} is closed`));
    const data = `${scrubJsonLine(JSON.stringify(record))}\n`;
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ data, resolve, reject });
      if (!this.draining) void this.drain();
    });
  }

  get count(): number {
    return this.records;
  }

  get bytes(): number {
    return this.size;
  }

  private async drain(): Promise<void> {
    this.draining = true;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0);
      const buf = Buffer.from(batch.map((p) => p.data).join(''), 'utf8');
      try {
        let off = 0;
        while (off < buf.length) {
          const { bytesWritten } = await this.fh.write(buf, off, buf.length - off);
          off += bytesWritten;
        }
        if (this.fsync) await this.fh.datasync();
        this.size += buf.length;
        this.records += batch.length;
        for (const p of batch) p.resolve();
      } catch (e) {
        // Cut back to the last whole record so the file never holds a torn line.
        try {
          await this.fh.truncate(this.size);
        } catch {
          // If even truncation fails, reopening repairs the tail.
        }
        this.failed = ioError(e, this.file);
        this.onFail?.(this.failed);
        for (const p of [...batch, ...this.queue.splice(0)]) p.reject(this.failed);
      }
    }
    this.draining = false;
  }

  /** Waits for pending appends, then closes. */
  async close(): Promise<void> {
    if (this.closed) return;
    while (this.draining || this.queue.length > 0) await new Promise((r) => setTimeout(r, 1));
    this.closed = true;
    await this.fh.close();
  }
}

/** Streams the records of a journal; a final line without newline (a torn write) is skipped and reported. */
export async function* readJournal<T = unknown>(file: string, onTornTail?: (bytes: number) => void): AsyncGenerator<T> {
  const rl = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let lineNo = 0;
  let pendingLine: string | null = null;
  for await (const line of rl) {
    if (pendingLine !== null) yield parseLine<T>(pendingLine, file, lineNo);
    lineNo++;
    pendingLine = line;
  }
  if (pendingLine === null) return;
  // readline cannot tell whether the last line had a newline; check the file's last byte.
  const fh = await open(file, 'r');
  try {
    const st = await fh.stat();
    const b = Buffer.alloc(1);
    if (st.size > 0) await fh.read(b, 0, 1, st.size - 1);
    if (st.size > 0 && b[0] !== 0x0a) {
      onTornTail?.(Buffer.byteLength(pendingLine));
      return;
    }
  } finally {
    await fh.close();
  }
  try {
    yield JSON.parse(pendingLine) as T;
  } catch {
    onTornTail?.(Buffer.byteLength(pendingLine) + 1);
  }
}

function parseLine<T>(line: string, file: string, lineNo: number): T {
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new PipelineError('journal-corrupt', `${file}:${lineNo}: not a JSON record (the file was edited or damaged)`);
  }
}

/** Reads a whole journal into memory (small journals only). */
export async function readAll<T = unknown>(file: string): Promise<T[]> {
  const out: T[] = [];
  for await (const r of readJournal<T>(file)) out.push(r);
  return out;
}
