// Typed errors with a stable `code`: counted in summaries, turned into feedback and rewards.

export type ErrorCode =
  | 'config-invalid'
  | 'config-not-found'
  | 'env-missing'
  | 'usage'
  | 'endpoint-unreachable'
  | 'rate-limited'
  | 'server-error'
  | 'timeout'
  | 'bad-request'
  | 'auth-failed'
  | 'reply-truncated'
  | 'reply-empty'
  | 'malformed-response'
  | 'budget-exceeded'
  | 'aborted'
  | 'disk-full'
  | 'journal-corrupt'
  | 'run-not-found'
  | 'not-implemented'
  | 'sandbox-failed'
  | 'sandbox-unsafe'
  | 'data-invalid'
  | 'data-missing'
  | 'checksum-mismatch'
  | 'analyzer-failed';

export class PipelineError extends Error {
  readonly code: ErrorCode;
  /** Whether trying the same thing again may succeed. */
  readonly retryable: boolean;
  /** What the user should do next, shown under the message. */
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, opts: { retryable?: boolean; hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'PipelineError';
    this.code = code;
    this.retryable = opts.retryable ?? false;
    this.hint = opts.hint;
  }
}

export function isPipelineError(e: unknown, code?: ErrorCode): e is PipelineError {
  return e instanceof PipelineError && (code === undefined || e.code === code);
}

/** Short class name of any thrown value, for journals and summaries. */
export function errorClass(e: unknown): string {
  if (e instanceof PipelineError) return e.code;
  if (e instanceof Error) return e.name || 'Error';
  return typeof e;
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

const NO_SPACE = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

/** Whether a filesystem error means there was no room for the write (a full disk, a quota, a file size limit). */
export function isNoSpace(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && NO_SPACE.has(code);
}

/** The `disk-full` error for a write to `file` that found no room; `detail` says what state that write left behind. */
export function diskFullError(file: string, cause: unknown, detail?: string): PipelineError {
  const code = (cause as NodeJS.ErrnoException | null)?.code ?? 'ENOSPC';
  return new PipelineError('disk-full', `no space left writing ${file} (${code})${detail !== undefined ? `; ${detail}` : ''}`, {
    hint: 'Free disk space, then rerun with --resume <run-dir>.',
    cause,
  });
}
