// Fetches one benchmark file from its upstream URLs into the data folder: streamed to a temp file, hashed, renamed only when the sha256 matches.
import { randomBytes, createHash } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { PipelineError } from '../pipeline/errors.ts';

export interface FetchVerifiedOptions {
  file: string;
  urls: readonly string[];
  /** Pinned hex sha256 of the bytes. */
  sha256: string;
  dir: string;
  /** Expected size, for progress lines only. */
  bytes?: number;
  /** Progress and per-URL outcome lines, plain text. */
  onLine?: (line: string) => void;
  signal?: AbortSignal;
  fetchImpl?: typeof fetch;
}

const PROGRESS_EVERY_BYTES = 4 * 1024 * 1024;

/**
 * Tries each URL in turn and keeps the first download whose sha256 matches. The bytes go to a hidden temp file in the
 * same folder and are renamed into place only after the hash matches, so an interrupted or wrong download never
 * leaves a file under the real name. Throws `checksum-mismatch` when some URL answered with other bytes, else
 * `endpoint-unreachable`, listing every attempt.
 */
export async function fetchVerified(opts: FetchVerifiedOptions): Promise<{ url: string; bytes: number }> {
  const doFetch = opts.fetchImpl ?? fetch;
  const say = opts.onLine ?? (() => {});
  const attempts: string[] = [];
  let mismatched = false;
  for (const url of opts.urls) {
    const tmp = path.join(opts.dir, `.${opts.file}.part-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      say(`${opts.file}: fetching ${url}`);
      const res = await doFetch(url, { redirect: 'follow', signal: opts.signal });
      if (!res.ok || res.body === null) {
        attempts.push(`${url}: HTTP ${res.status}`);
        continue;
      }
      const hash = createHash('sha256');
      let got = 0;
      let nextReport = PROGRESS_EVERY_BYTES;
      const fh = await open(tmp, 'w');
      try {
        for await (const chunk of res.body) {
          hash.update(chunk);
          await fh.write(chunk);
          got += chunk.byteLength;
          if (got >= nextReport) {
            say(`${opts.file}: ${formatBytes(got)}${opts.bytes === undefined ? '' : ` of ${formatBytes(opts.bytes)}`}`);
            nextReport += PROGRESS_EVERY_BYTES;
          }
        }
        await fh.sync();
      } finally {
        await fh.close();
      }
      const digest = hash.digest('hex');
      if (digest !== opts.sha256.toLowerCase()) {
        mismatched = true;
        attempts.push(`${url}: ${formatBytes(got)} with sha256 ${digest}, not the pinned ${opts.sha256}`);
        continue;
      }
      await rename(tmp, path.join(opts.dir, opts.file));
      return { url, bytes: got };
    } catch (e) {
      if (opts.signal?.aborted === true) throw new PipelineError('aborted', `${opts.file}: download aborted`, { cause: e });
      // undici reports the real reason (DNS, refused, TLS) only in `cause`.
      const cause = (e as Error).cause;
      attempts.push(`${url}: ${(e as Error).message}${cause instanceof Error ? ` (${cause.message})` : ''}`);
    } finally {
      await rm(tmp, { force: true });
    }
  }
  const detail = attempts.length === 0 ? 'no upstream URL is known for it' : attempts.join('; ');
  throw new PipelineError(mismatched ? 'checksum-mismatch' : 'endpoint-unreachable', `${opts.file}: no source gave the pinned bytes (${detail})`, {
    retryable: !mismatched,
    hint: mismatched ? 'Upstream changed the file; tell the maintainers, or use a copy that matches the pinned sha256.' : 'Check the network connection, or copy the files by hand and run with --verify-only.',
  });
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
