// HTTP plumbing shared by our servers (the grpo exchange, the sandbox service): size-limited JSON bodies, zod validation, JSON replies, bearer checks.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';

/** An HTTP failure with the status to send; `code` is the machine-readable error name in the body. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendText(res, status, JSON.stringify(body), headers);
}

/** Sends an already-serialised JSON document (cached step payloads are sent as is). */
export function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const body = Buffer.from(text, 'utf8');
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(body.byteLength), 'cache-control': 'no-store', ...headers });
  res.end(body);
}

export function sendError(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error: code, message }, headers);
}

/**
 * Reads the body, failing with 413 as soon as it passes `maxBytes` (a declared Content-Length over the limit fails before
 * any byte is read). The rest of an oversized body is discarded rather than buffered.
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    req.resume();
    return Promise.reject(new HttpError(413, 'body-too-large', `request body of ${declared} bytes is over the ${maxBytes}-byte limit`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.byteLength;
      if (size > maxBytes) {
        over = true;
        chunks.length = 0;
        reject(new HttpError(413, 'body-too-large', `request body is over the ${maxBytes}-byte limit`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!over) resolve(Buffer.concat(chunks));
    });
    // Node reports a connection cut mid-body as an 'aborted' error: the client's doing, so a 400, not a 500 to log.
    req.on('error', (e) => reject(new HttpError(400, 'aborted', `the request body could not be read: ${e.message}`)));
    // A client that hangs up mid-body never sends 'end'; without this the handler would wait forever.
    req.on('close', () => {
      if (!req.complete) reject(new HttpError(400, 'aborted', 'the client closed the connection before the body was complete'));
    });
  });
}

/**
 * Parses and validates a JSON body; every failure is a 400 that says what was wrong, never a 500. `invalidCode` names
 * a body that is JSON but fails the schema.
 */
export async function readJsonBody<S extends z.ZodType>(req: IncomingMessage, maxBytes: number, schema: S, invalidCode = 'invalid-body'): Promise<z.infer<S>> {
  const buf = await readBody(req, maxBytes);
  let json: unknown;
  try {
    json = JSON.parse(buf.toString('utf8'));
  } catch (e) {
    throw new HttpError(400, 'invalid-json', `request body is not JSON: ${(e as Error).message}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const reasons = parsed.error.issues.slice(0, 5).map((i) => `${i.path.length > 0 ? i.path.join('.') : '(body)'}: ${i.message}`);
    throw new HttpError(400, invalidCode, reasons.join('; '));
  }
  return parsed.data;
}

/**
 * Constant-time bearer check. Both sides are hashed first so the comparison takes the same time whatever the lengths;
 * a plain `===` would leak how many leading characters match.
 */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return tokenMatches(m?.[1] ?? '', token);
}

/** Constant-time comparison of a presented token (hashed first, so lengths leak nothing either). */
export function tokenMatches(given: string, token: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b) && given.length > 0;
}
