// The fsync helpers of every durable write (atomic files, journals, rollout commits): synced file writes and the one
// directory-entry sync.
import { open } from 'node:fs/promises';

/** Writes and fsyncs a new file; `flag` 'wx' refuses to replace an existing one. */
export async function writeFileSynced(file: string, data: string | Uint8Array, flag: 'w' | 'wx' = 'wx'): Promise<void> {
  const fh = await open(file, flag);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Makes renames and new entries in `dir` durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } catch {
    // Some filesystems refuse fsync on a directory; the rename is still atomic there, only its durability is weaker.
  } finally {
    await fh.close();
  }
}
