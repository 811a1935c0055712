// Which failure, if any, a request meets: injected ones first (FIFO), then reproducible dice per body and occurrence.
import { z } from 'zod';
import { Rng } from '../random.ts';
import type { SimOptions } from './options.ts';

export const FAULT_KINDS = ['429', '500', 'hang', 'truncate', 'empty', 'malformed-workflow'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export const FaultSchema = z.strictObject({
  kind: z.enum(FAULT_KINDS),
  retryAfterMs: z.int().min(0).optional(),
  retryAfterS: z.number().min(0).optional(),
});
export type Fault = z.infer<typeof FaultSchema>;

/**
 * Decided from (server seed, body hash, how many times that body came before): a client that retries
 * the identical request gets a fresh roll, and a rerun of the same traffic meets the same faults.
 * One uniform draw over stacked probabilities, so at most one fault fires per request.
 */
export function rollFault(faults: SimOptions['faults'], seed: number, body: string, occurrence: number): Fault | undefined {
  const u = new Rng('fault', seed, body, occurrence).next();
  const table: Array<[FaultKind, number]> = [
    ['429', faults.rateLimit.p],
    ['500', faults.serverError.p],
    ['hang', faults.hang.p],
    ['truncate', faults.truncate.p],
    ['empty', faults.empty.p],
    ['malformed-workflow', faults.malformedWorkflow.p],
  ];
  let acc = 0;
  for (const [kind, p] of table) {
    acc += p;
    if (u < acc) return kind === '429' ? { kind, retryAfterMs: faults.rateLimit.retryAfterMs } : { kind };
  }
  return undefined;
}

/** Both headers the AI SDKs honour; when only one unit was given, the other is derived (seconds round up). */
export function retryAfterHeaders(fault: Fault, defaultMs: number): { 'retry-after-ms': string; 'retry-after': string } {
  const ms = fault.retryAfterMs ?? (fault.retryAfterS !== undefined ? Math.round(fault.retryAfterS * 1000) : defaultMs);
  const s = fault.retryAfterS ?? Math.ceil(ms / 1000);
  return { 'retry-after-ms': String(ms), 'retry-after': String(s) };
}
