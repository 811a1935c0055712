// Distill traces compared across runs (sharded and merged against unsharded): everything but what legitimately
// differs between two runs of the same config (timings, cache hits).
import path from 'node:path';
import { readAll } from '../../pipeline/store/journal.ts';
import type { TraceRecord } from '../../distill/records.ts';

const VOLATILE = new Set(['timing', 'latencyMs', 'startedMs', 'cacheHits']);

function stable(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(stable);
  if (x !== null && typeof x === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) if (!VOLATILE.has(k)) out[k] = stable(v);
    return out;
  }
  return x;
}

/** queryId → the trace without its volatile fields, from <run>/distill/traces.jsonl. */
export async function stableTracesOf(dir: string): Promise<Map<string, unknown>> {
  const recs = await readAll<TraceRecord>(path.join(dir, 'distill', 'traces.jsonl'));
  return new Map(recs.map((t) => [t.queryId, stable(t)]));
}
