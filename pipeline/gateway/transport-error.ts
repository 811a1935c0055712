// Classifies anything a provider throws into a typed, retry-aware error.
import { PipelineError, type ErrorCode } from '../errors.ts';

export class TransportError extends PipelineError {
  readonly status: number | null;
  /** Server-requested wait before retrying, if it said so. */
  readonly retryAfterMs: number | null;
  /** The base URL did not accept the connection: fail over to another one. */
  readonly down: boolean;

  constructor(code: ErrorCode, message: string, o: { status?: number | null; retryAfterMs?: number | null; down?: boolean; retryable: boolean; cause?: unknown; hint?: string }) {
    super(code, message, { retryable: o.retryable, cause: o.cause, ...(o.hint !== undefined ? { hint: o.hint } : {}) });
    this.name = 'TransportError';
    this.status = o.status ?? null;
    this.retryAfterMs = o.retryAfterMs ?? null;
    this.down = o.down ?? false;
  }
}

const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'EPIPE']);

/** Digs the errno-style code out of nested causes (fetch wraps them). */
export function rootCode(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 6 && cur !== null && cur !== undefined; i++) {
    const c = (cur as { code?: unknown }).code;
    if (typeof c === 'string' && CONNECT_CODES.has(c)) return c;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

export function fromStatus(status: number, message: string, retryAfterMs: number | null, role: string, apiKeyEnv: string | undefined): TransportError {
  if (status === 429) return new TransportError('rate-limited', `HTTP 429: ${message}`, { status, retryAfterMs, retryable: true });
  if (status === 401 || status === 403) {
    return new TransportError('auth-failed', `HTTP ${status}: ${message}`, {
      status,
      retryable: false,
      hint: apiKeyEnv !== undefined ? `Check ${apiKeyEnv} for role ${role}.` : `Set models.${role}.apiKeyEnv to the variable holding the key.`,
    });
  }
  if (status === 408 || status === 409) return new TransportError('timeout', `HTTP ${status}: ${message}`, { status, retryAfterMs, retryable: true });
  if (status >= 500) return new TransportError('server-error', `HTTP ${status}: ${message}`, { status, retryAfterMs, retryable: true });
  return new TransportError('bad-request', `HTTP ${status}: ${message}`, { status, retryable: false });
}
