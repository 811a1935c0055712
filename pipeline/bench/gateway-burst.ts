// Benchmark: a burst of distinct calls through the gateway to the simulator, checking the concurrency cap and that no call is lost or duplicated.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pLimit from 'p-limit';
import { EndpointSchema } from '../config/endpoint-schema.ts';
import { Gateway } from '../gateway/gateway.ts';
import { startSimServer } from '../sim/server.ts';

export interface BurstResult {
  calls: number;
  concurrency: number;
  ok: number;
  failed: number;
  wallMs: number;
  callsPerSecond: number;
  serverMaxInFlight: number;
  gatewayMaxInFlight: number;
  serverRequests: number;
  distinctRequests: number;
  duplicateRequests: number;
  mismatched: number;
  capRespected: boolean;
}

export async function gatewayBurst(opts: { calls?: number; concurrency?: number; latencyMs?: number; cache?: boolean } = {}): Promise<BurstResult> {
  const calls = opts.calls ?? 2000;
  const concurrency = opts.concurrency ?? 64;
  const sim = await startSimServer({ port: 0, latency: { fixedMs: opts.latencyMs ?? 5 }, maxConcurrency: 1024 });
  const cacheDir = opts.cache === true ? await mkdtemp(path.join(os.tmpdir(), 'fr-burst-cache-')) : undefined;
  try {
    const worker = EndpointSchema.parse({ baseUrl: sim.url, model: 'sim-worker', limits: { concurrency }, sampling: { maxTokens: 256 } });
    const gateway = new Gateway({ models: { worker }, simUrl: sim.url, ...(cacheDir !== undefined ? { cacheDir } : {}) });
    // Submit everything at once through a generous window: the gateway's cap must hold on its own.
    const submit = pLimit(calls);
    let ok = 0;
    let failed = 0;
    let mismatched = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: calls }, (_, i) =>
        submit(async () => {
          const tag = `burst-call-${i}`;
          try {
            const r = await gateway.chat({ role: 'worker', messages: [{ role: 'user', content: `Return the tag ${tag}: write def f_${i}(): return ${i}` }], sampleIndex: i });
            ok++;
            if (!r.content.includes(`f_${i}`)) mismatched++;
          } catch {
            failed++;
          }
        }),
      ),
    );
    const wallMs = performance.now() - t0;
    const s = sim.stats();
    const gatewayMaxInFlight = gateway.client('worker').maxInFlight;
    return {
      calls,
      concurrency,
      ok,
      failed,
      wallMs,
      callsPerSecond: (calls * 1000) / wallMs,
      serverMaxInFlight: s.maxInFlight,
      gatewayMaxInFlight,
      serverRequests: s.requests,
      distinctRequests: s.distinctRequests,
      duplicateRequests: s.duplicateRequests,
      mismatched,
      capRespected: s.maxInFlight <= concurrency && gatewayMaxInFlight <= concurrency,
    };
  } finally {
    await sim.close();
    if (cacheDir !== undefined) await rm(cacheDir, { recursive: true, force: true });
  }
}
