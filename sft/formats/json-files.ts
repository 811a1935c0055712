// Writes JSON Lines and JSON-array files a record at a time, atomically (a temp file renamed into place when complete).
import { createWriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';

async function writeStreamed(file: string, chunks: Iterable<string>): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const out = createWriteStream(tmp, { encoding: 'utf8' });
  try {
    for (const c of chunks) if (!out.write(c)) await once(out, 'drain');
    out.end();
    await once(out, 'finish');
  } catch (e) {
    out.destroy();
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await rename(tmp, file);
}

/** One JSON object per line (TRL, verl, LLaMA-Factory's .jsonl). */
export async function writeJsonl(file: string, rows: Iterable<unknown>): Promise<void> {
  await writeStreamed(file, (function* () {
    for (const r of rows) yield `${JSON.stringify(r)}\n`;
  })());
}

/** A JSON array, one element per line (LLaMA-Factory's alpaca .json). */
export async function writeJsonArray(file: string, rows: Iterable<unknown>): Promise<void> {
  await writeStreamed(file, (function* () {
    let first = true;
    yield '[';
    for (const r of rows) {
      yield `${first ? '\n' : ',\n'}${JSON.stringify(r)}`;
      first = false;
    }
    yield first ? ']\n' : '\n]\n';
  })());
}
