// Small node:http helpers for the simulator: JSON replies, OpenAI-shaped errors, bounded body reads, keep-alives.
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface ApiError {
  status: number;
  message: string;
  type: string;
  code: string;
  param?: string | null;
}

export function errorBody(e: ApiError): { error: { message: string; type: string; code: string; param: string | null } } {
  return { error: { message: e.message, type: e.type, code: e.code, param: e.param ?? null } };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendJsonText(res, status, JSON.stringify(body), headers);
}

/** For a body already serialised (the reply text is built once whichever way it is sent). */
export function sendJsonText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body exceeds ${limit} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/** The whole body as text; stops at `limit` bytes so a runaway client cannot exhaust memory. */
export async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer; // node:http yields Buffers when no encoding is set
    size += buf.length;
    if (size > limit) throw new BodyTooLargeError(limit);
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Writes respecting backpressure, so a slow reader of a long stream does not pile up memory here. */
export async function write(res: ServerResponse, text: string, signal: AbortSignal): Promise<void> {
  if (!res.write(text)) await once(res, 'drain', { signal });
}

/**
 * Keeps a waiting reply alive, as DeepSeek does under load. A JSON reply gets its 200 status line on the
 * first tick and then a blank line per tick (JSON parsers skip leading whitespace); a stream gets an SSE
 * comment, which SSE parsers ignore. Until the first tick nothing is sent, so quick replies stay plain.
 */
export function keepAlive(res: ServerResponse, mode: 'json' | 'sse', intervalMs: number, onHeaders: () => void): () => void {
  if (intervalMs <= 0) return () => {};
  const timer = setInterval(() => {
    if (res.destroyed || res.writableEnded) return;
    if (mode === 'json') {
      if (!res.headersSent) {
        onHeaders();
        res.writeHead(200, { 'content-type': 'application/json' });
      }
      res.write('\n');
    } else {
      res.write(': keep-alive\n\n');
    }
  }, intervalMs);
  return () => clearInterval(timer);
}
