// Typed failures of the rollout exchange; `reason` lets the HTTP layer and callers tell a conflict from corruption.
import { PipelineError, type ErrorCode } from '../../pipeline/errors.ts';

export type ExchangeReason =
  /** Rows or a request body break the contract (bad types, broken groups, mismatched steps). */
  | 'invalid-rows'
  /** The step is committed already; step directories are immutable (§10.4). */
  | 'step-exists'
  /** No committed step with that number (no directory, or no `_SUCCESS` yet). */
  | 'step-not-committed'
  /** A file disagrees with `_MANIFEST.json`: size, sha256, row count, schema or group totals. */
  | 'manifest-mismatch'
  /** A policy version lower than the current one, or the same version with different content. */
  | 'version-conflict'
  /** An ack with another status already exists for this step and consumer. */
  | 'ack-conflict'
  /** run.json exists and differs from what is being written (it is immutable). */
  | 'run-conflict'
  /** A file that should exist does not (run.json, policy/current.json). */
  | 'missing';

const CODES: Record<ExchangeReason, ErrorCode> = {
  'invalid-rows': 'data-invalid',
  'step-exists': 'data-invalid',
  'step-not-committed': 'data-missing',
  'manifest-mismatch': 'checksum-mismatch',
  'version-conflict': 'data-invalid',
  'ack-conflict': 'data-invalid',
  'run-conflict': 'data-invalid',
  missing: 'data-missing',
};

export class ExchangeError extends PipelineError {
  readonly reason: ExchangeReason;

  constructor(reason: ExchangeReason, message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(CODES[reason], message, opts);
    this.name = 'ExchangeError';
    this.reason = reason;
  }
}

export function isExchangeError(e: unknown, reason?: ExchangeReason): e is ExchangeError {
  return e instanceof ExchangeError && (reason === undefined || e.reason === reason);
}
