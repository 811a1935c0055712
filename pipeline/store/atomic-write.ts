// Whole-file writes that are never seen half-done: write a temp file, fsync, rename, fsync the directory.
import { open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { diskFullError, isNoSpace } from '../errors.ts';
import { fsyncDir } from './durable-fs.ts';

/** A full disk is a `disk-full` error naming the file, and the old file (if any) is left as it was. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } catch (e) {
      await fh.close();
      await unlink(tmp).catch(() => undefined);
      throw e;
    }
    await fh.close();
    await rename(tmp, file);
  } catch (e) {
    if (isNoSpace(e)) throw diskFullError(file, e, 'the previous version, if any, is unchanged');
    throw e;
  }
  await fsyncDir(path.dirname(file));
}

/**
 * Overwrites an existing file in place: no temp file, so it needs no more room than the file already holds when the
 * new text is no longer. Not atomic (a crash can leave it torn), so it is only the fallback when a full disk leaves
 * no room for writeFileAtomic's temp copy.
 */
export async function overwriteInPlace(file: string, data: string): Promise<void> {
  const buf = Buffer.from(data, 'utf8');
  try {
    const fh = await open(file, 'r+');
    try {
      let off = 0;
      while (off < buf.length) off += (await fh.write(buf, off, buf.length - off, off)).bytesWritten;
      await fh.truncate(buf.length);
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (e) {
    if (isNoSpace(e)) throw diskFullError(file, e, 'it may be torn');
    throw e;
  }
}
