// Exit codes of every command: 0 success, 1 a run that failed, 2 a usage or configuration error.
import { isPipelineError, type ErrorCode } from '../errors.ts';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

const USAGE_CODES: ReadonlySet<ErrorCode> = new Set(['config-invalid', 'config-not-found', 'env-missing', 'usage', 'run-not-found', 'not-implemented', 'data-missing', 'sandbox-unsafe']);

export function exitCodeFor(e: unknown): number {
  return isPipelineError(e) && USAGE_CODES.has(e.code) ? EXIT_USAGE : EXIT_FAILED;
}
