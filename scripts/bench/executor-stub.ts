// A stand-in sandbox service for `npm run bench:scale`: answers POST /v1/execute (the protocol of
// `flowreasoner serve sandbox`) with a passing verdict after a fixed latency, running nothing. It measures the
// orchestrator's side of remote execution without the machine's cores deciding the result.
//   node scripts/build/run.mjs scripts/bench/executor-stub.ts --latency-ms 1000 [--jitter 0.25] [--port 0]
import http from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { 'latency-ms': { type: 'string', default: '1000' }, jitter: { type: 'string', default: '0' }, port: { type: 'string', default: '0' } } });
const latencyMs = Number(values['latency-ms']);
/** Each answer waits latency-ms × (1 ± jitter), uniformly: the mean stays latency-ms. */
const jitter = Number(values.jitter);
let served = 0;
const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const send = (status: number, body: unknown): void => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (req.method === 'GET' && (req.url === '/v1/health' || req.url === '/v1/ping')) return send(200, { ok: true, served });
    if (req.method !== 'POST' || req.url !== '/v1/execute') return send(404, { error: 'not-found' });
    try {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return send(400, { error: 'bad-json' });
    }
    const waitMs = latencyMs * (1 + jitter * (2 * Math.random() - 1));
    setTimeout(() => {
      served++;
      send(200, { passed: true, result: 'passed', status: 'pass', durationMs: waitMs });
    }, waitMs);
  });
});
server.keepAliveTimeout = 60_000;
server.maxRequestsPerSocket = 0;
server.listen(Number(values.port), '127.0.0.1', () => {
  const a = server.address();
  if (a !== null && typeof a === 'object') process.stdout.write(`executor stub listening on http://127.0.0.1:${a.port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
