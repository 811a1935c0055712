// A gateway smoke run: a batch of distinct calls per role, to prove endpoints, limits, cache and journal work end to end.
import pLimit from 'p-limit';
import { errorClass } from '../errors.ts';
import type { Gateway } from './gateway.ts';
import type { ChatMessage } from './types.ts';

export interface SmokeStats {
  role: string;
  calls: number;
  ok: number;
  failed: Record<string, number>;
  cacheHits: number;
  withReasoning: number;
  latencyMs: { p50: number; p95: number; max: number };
  maxInFlight: number;
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

/** A small, varied prompt per call, so that each one is a distinct request. */
function smokePrompt(role: string, i: number): ChatMessage[] {
  if (role === 'worker' || role.includes('worker')) {
    return [{ role: 'user', content: `Write a Python function \`add_${i}(a, b)\` that returns a + b + ${i}. Reply with the code in a fenced block.` }];
  }
  return [
    {
      role: 'user',
      content: `Design a workflow for this coding query (#${i}): write \`count_vowels_${i}(s: str) -> int\`. Answer with <modification>, <graph> and <prompt> sections.`,
    },
  ];
}

export async function runSmoke(gateway: Gateway, roles: string[], callsPerRole: number, opts: { signal?: AbortSignal; onDone?: () => void } = {}): Promise<SmokeStats[]> {
  const out: SmokeStats[] = [];
  for (const role of roles) {
    const client = gateway.client(role);
    // Submit a bounded window; the gateway's own per-role cap is the real limit.
    const window = pLimit(Math.max(1, client.endpoint.limits.concurrency * 2));
    const latencies: number[] = [];
    const failed: Record<string, number> = {};
    let ok = 0;
    let hits = 0;
    let withReasoning = 0;
    await Promise.all(
      Array.from({ length: callsPerRole }, (_, i) =>
        window(async () => {
          try {
            const r = await gateway.chat({ role, messages: smokePrompt(role, i), sampleIndex: i, context: { stage: 'smoke', queryId: `smoke-${i}` }, ...(opts.signal !== undefined ? { signal: opts.signal } : {}) });
            ok++;
            if (r.cacheHit) hits++;
            if (r.reasoning !== null) withReasoning++;
            latencies.push(r.latencyMs);
          } catch (e) {
            const k = errorClass(e);
            failed[k] = (failed[k] ?? 0) + 1;
          } finally {
            opts.onDone?.();
          }
        }),
      ),
    );
    latencies.sort((a, b) => a - b);
    out.push({
      role,
      calls: callsPerRole,
      ok,
      failed,
      cacheHits: hits,
      withReasoning,
      latencyMs: { p50: percentile(latencies, 0.5), p95: percentile(latencies, 0.95), max: latencies.at(-1) ?? 0 },
      maxInFlight: client.maxInFlight,
    });
  }
  return out;
}
