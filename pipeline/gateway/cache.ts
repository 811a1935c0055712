// Persistent response cache keyed by the full request: one file per key, written by rename, so several processes can share it.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { diskFullError, isNoSpace } from '../errors.ts';

/** JSON with sorted keys, so equal requests give equal keys whatever the property order. */
export function canonicalJson(v: unknown): string {
  if (v === undefined) return 'null';
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const obj = v as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

export function cacheKey(parts: unknown): string {
  return createHash('sha256').update(canonicalJson(parts)).digest('hex');
}

export class ResponseCache<T> {
  readonly dir: string;
  hits = 0;
  misses = 0;
  writes = 0;

  constructor(dir: string) {
    this.dir = path.resolve(dir);
  }

  private fileOf(key: string): string {
    return path.join(this.dir, key.slice(0, 2), `${key}.json`);
  }

  async get(key: string): Promise<T | undefined> {
    const file = this.fileOf(key);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      this.misses++;
      return undefined;
    }
    try {
      const entry = JSON.parse(text) as { key: string; value: T };
      if (entry.key !== key) throw new Error('key mismatch');
      this.hits++;
      return entry.value;
    } catch {
      // A damaged entry (e.g. a crash between rename and data reaching disk) is a miss, and is removed.
      await unlink(file).catch(() => undefined);
      this.misses++;
      return undefined;
    }
  }

  async set(key: string, value: T): Promise<void> {
    const file = this.fileOf(key);
    await mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(tmp, JSON.stringify({ key, createdAt: new Date().toISOString(), value }));
      await rename(tmp, file);
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      // A full disk stops the run as disk-full, like any other write of ours; a half-written entry is never left.
      if (isNoSpace(e)) throw diskFullError(file, e, 'the response cache');
      throw e;
    }
    this.writes++;
  }
}
