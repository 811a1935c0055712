// `npm run bench:gateway`: 2000 calls at concurrency 64 through the gateway to the simulator; prints figures, exits 1 if a call was lost or the cap broken.
import { gatewayBurst } from '../../pipeline/bench/gateway-burst.ts';

const calls = Number(process.env.BENCH_CALLS ?? 2000);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 64);
const r = await gatewayBurst({ calls, concurrency, latencyMs: Number(process.env.BENCH_LATENCY_MS ?? 20) });
const lines = [
  `calls:               ${r.calls} (ok ${r.ok}, failed ${r.failed}, mismatched ${r.mismatched})`,
  `concurrency cap:     ${r.concurrency}`,
  `max in flight:       server ${r.serverMaxInFlight}, gateway ${r.gatewayMaxInFlight}`,
  `server requests:     ${r.serverRequests} (distinct ${r.distinctRequests}, duplicates ${r.duplicateRequests})`,
  `wall time:           ${(r.wallMs / 1000).toFixed(2)} s`,
  `throughput: ${r.callsPerSecond.toFixed(0)} calls/s`,
];
process.stdout.write(`${lines.join('\n')}\n`);
const good = r.capRespected && r.ok === r.calls && r.mismatched === 0 && r.duplicateRequests === 0 && r.distinctRequests === r.calls;
if (!good) {
  process.stderr.write('burst check FAILED: a call was lost, duplicated or mismatched, or the cap was exceeded\n');
  process.exitCode = 1;
}
