// `npm run bench:scale`: is the orchestrator ever the bottleneck? N simulated policy replicas (each a `flowreasoner
// sim` process with a fixed latency) and M sandbox services (stand-ins with a fixed latency, scripts/bench/executor-stub.ts)
// are driven from this one Node process through the real Gateway (least-outstanding balancing over the replicas) and
// the real RemoteExecutor. One rollout = one policy call, then one remote execution. With K rollouts in flight the
// ideal rate is K / (mean policy latency + mean execution latency); the bench prints the rate achieved against it and the
// event-loop lag, for each K, and ends with
//   orchestrator efficiency: X.XX of ideal at K in flight, event-loop lag p99 M ms
// (the largest K). Exit 1 when X < 0.90 or M ≥ 50 there.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pLimit from 'p-limit';
import { EndpointSchema } from '../../pipeline/config/endpoint-schema.ts';
import { Gateway } from '../../pipeline/gateway/gateway.ts';
import { RemoteExecutor } from '../../pipeline/sandbox/remote/remote-executor.ts';
import { SandboxSchema } from '../../pipeline/sandbox/sandbox-config.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const { values } = parseArgs({
  options: {
    replicas: { type: 'string', default: '2' },
    executors: { type: 'string', default: '2' },
    'policy-ms': { type: 'string', default: '2000' },
    'exec-ms': { type: 'string', default: '1000' },
    'in-flight': { type: 'string', default: '100,500,1000' },
    waves: { type: 'string', default: '5' },
    jitter: { type: 'string', default: '0.25' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  process.stdout.write(
    [
      'usage: npm run bench:scale -- [--replicas N] [--executors M] [--policy-ms L] [--exec-ms E] [--in-flight K1,K2,...] [--waves W]',
      '',
      'Starts N simulated policy replicas and M stand-in sandbox services, then runs W×K rollouts (policy call, then',
      'remote execution) at K in flight for each K, through the real Gateway and RemoteExecutor in this process.',
      'Prints the steady rollouts/s (between the first and the last wave) against the ideal K/(L+E), and the event-loop',
      'lag; exit 1 below 0.90 of ideal or at 50 ms lag p99 at the largest K.',
      '',
    ].join('\n'),
  );
  process.exit(0);
}
const int = (v: string | undefined, name: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`--${name} must be a positive integer, got ${v}\n`);
    process.exit(2);
  }
  return n;
};
const replicas = int(values.replicas, 'replicas');
const executors = int(values.executors, 'executors');
const policyMs = int(values['policy-ms'], 'policy-ms');
const execMs = int(values['exec-ms'], 'exec-ms');
const waves = int(values.waves, 'waves');
if (waves < 3) {
  process.stderr.write('--waves must be at least 3: the rate is measured between the first and the last wave\n');
  process.exit(2);
}
const jitter = Number(values.jitter);
if (!(jitter >= 0 && jitter < 1)) {
  process.stderr.write(`--jitter must be in [0, 1), got ${values.jitter}\n`);
  process.exit(2);
}
const levels = (values['in-flight'] ?? '').split(',').map((k) => int(k, 'in-flight'));
const maxK = Math.max(...levels);

const children: ChildProcess[] = [];
const stopAll = (): void => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
};
process.on('exit', stopAll);

/** Starts a process and resolves with the first URL it prints. */
function startService(args: string[], pattern: RegExp): Promise<string> {
  const child = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = pattern.exec(line);
      if (m?.[1] !== undefined) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited (${code}) before listening:\n${err}`)));
  });
}

const replicaUrls = await Promise.all(
  Array.from({ length: replicas }, (_, i) =>
    startService(
      [
        'scripts/flowreasoner.mjs', 'sim', '--port', '0', '--seed', String(i),
        // Uniform in policy-ms ± jitter: with one fixed latency every rollout would move in lockstep, and the bench
        // would measure bursts of a thousand replies landing in the same millisecond, which no real fleet produces.
        '--set', `sim.latency.fixedMs=${policyMs * (1 - jitter)}`, '--set', `sim.latency.jitterMs=${2 * policyMs * jitter}`, '--set', 'sim.latency.perTokenMs=0',
        // Each replica must take its whole share at once, or the replicas' own queues would be measured.
        '--set', `sim.maxConcurrency=${Math.ceil((2 * maxK) / replicas) + 16}`,
      ],
      /simulator listening on (\S+)/,
    ),
  ),
);
const executorUrls = await Promise.all(
  Array.from({ length: executors }, () => startService(['scripts/build/run.mjs', 'scripts/bench/executor-stub.ts', '--latency-ms', String(execMs), '--jitter', String(jitter)], /executor stub listening on (\S+)/)),
);
process.stdout.write(`${replicas} policy replicas (${policyMs} ms ± ${Math.round(jitter * 100)}%), ${executors} sandbox services (${execMs} ms ± ${Math.round(jitter * 100)}%)\n`);

const gateway = new Gateway({
  models: {
    policy: EndpointSchema.parse({
      baseUrl: replicaUrls,
      // A short reply: the replicas share this machine's two cores with the orchestrator, and a long one would measure them.
      model: 'sim-worker',
      sampling: { temperature: 1.0, maxTokens: 4096 },
      limits: { concurrency: maxK, timeoutS: 300 },
    }),
  },
  seed: 1,
});
const executor = new RemoteExecutor(
  SandboxSchema.parse({ remote: { urls: executorUrls, concurrencyPerUrl: Math.min(1024, Math.ceil(maxK / executors) + 8), timeoutS: 300 } }),
);
await gateway.preflight(['policy']);

interface Level {
  k: number;
  rollouts: number;
  wallS: number;
  rate: number;
  ideal: number;
  efficiency: number;
  lagP99Ms: number;
  lagMaxMs: number;
  failed: number;
  /** Mean time of one policy call / one remote execution, as the rollout saw it (the configured latency plus every queue). */
  policyMs: number;
  execMs: number;
  cpuShare: number;
}

const RESOLUTION_MS = 5;
let sampleIndex = 0;
async function level(k: number): Promise<Level> {
  const rollouts = k * waves;
  const limit = pLimit(k);
  const lag = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  let failed = 0;
  // Lag over the whole level (ramp-up included) for the max, and over the steady window for the p99.
  const lagAll = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  const doneAt: number[] = [];
  let cpuFrom = process.cpuUsage();
  let cpuUsed: NodeJS.CpuUsage = { user: 0, system: 0 };
  let policySum = 0;
  let execSum = 0;
  lagAll.enable();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: rollouts }, () =>
      limit(async () => {
        const i = sampleIndex++;
        try {
          const t1 = performance.now();
          const r = await gateway.chat({ role: 'policy', messages: [{ role: 'user', content: `Write a workflow for query ${i}.` }], sampleIndex: i, cache: false });
          const t2 = performance.now();
          const verdict = await executor.run({ harness: 'check', program: r.content.slice(0, 200), entryPoint: 'f', test: 'def check(f):\n    pass\n', timeoutS: 10 });
          policySum += t2 - t1;
          execSum += performance.now() - t2;
          doneAt.push(performance.now());
          if (doneAt.length === k) {
            lag.enable();
            cpuFrom = process.cpuUsage();
          }
          if (doneAt.length === rollouts - k + 1) {
            lag.disable();
            cpuUsed = process.cpuUsage(cpuFrom);
          }
          if (verdict.status !== 'pass') failed++;
        } catch {
          failed++;
        }
      }),
    ),
  );
  const wallS = (performance.now() - t0) / 1000;
  lag.disable();
  lagAll.disable();
  const ideal = k / ((policyMs + execMs) / 1000);
  // Steady state: the rate between the k-th and the (n−k)-th completion, leaving out the ramp-up (the first wave
  // starting at once) and the drain (the last rollouts finishing alone), which would count against any orchestrator.
  doneAt.sort((a, b) => a - b);
  const from = doneAt[k - 1] ?? t0;
  const to = doneAt[doneAt.length - k] ?? performance.now();
  const rate = to > from ? (doneAt.length - 2 * k + 1) / ((to - from) / 1000) : rollouts / wallS;
  // This process's CPU time over the steady window, as a share of one core: how far the orchestrator is from saturating.
  const cpuShare = to > from ? (cpuUsed.user + cpuUsed.system) / 1000 / (to - from) : Number.NaN;
  // The histogram holds each timer's whole interval: the resolution is subtracted to leave the lag.
  const lagMs = (ns: number): number => Math.max(0, ns / 1e6 - RESOLUTION_MS);
  return { k, rollouts, wallS, rate, ideal, efficiency: rate / ideal, lagP99Ms: lagMs(lag.percentile(99)), lagMaxMs: lagMs(lagAll.max), failed, policyMs: policySum / rollouts, execMs: execSum / rollouts, cpuShare };
}

process.stdout.write('in flight  rollouts  wall s  rollouts/s  ideal/s  efficiency  lag p99 ms  lag max ms  failed  policy ms  exec ms  cpu\n(rollouts/s, lag p99 and cpu (this process, share of one core) in the steady state between the first and the last wave;\n lag max over the whole level)\n');
const results: Level[] = [];
for (const k of levels) {
  const r = await level(k);
  results.push(r);
  process.stdout.write(
    `${String(r.k).padStart(9)}  ${String(r.rollouts).padStart(8)}  ${r.wallS.toFixed(2).padStart(6)}  ${r.rate.toFixed(1).padStart(10)}  ${r.ideal.toFixed(1).padStart(7)}  ${r.efficiency.toFixed(3).padStart(10)}  ${r.lagP99Ms.toFixed(1).padStart(10)}  ${r.lagMaxMs.toFixed(1).padStart(10)}  ${String(r.failed).padStart(6)}  ${r.policyMs.toFixed(0).padStart(9)}  ${r.execMs.toFixed(0).padStart(7)}  ${r.cpuShare.toFixed(2).padStart(4)}\n`,
  );
}
const stats = executor.stats();
process.stdout.write(`remote executor: ${stats.jobs} jobs, ${stats.verdicts} verdicts, ${stats.retries} retries; replicas served ${gateway.client('policy').poolSnapshot().map((t) => t.served).join(', ')}\n`);
await executor.close();
stopAll();
const last = results.find((r) => r.k === maxK) as Level;
process.stdout.write(`orchestrator efficiency: ${last.efficiency.toFixed(2)} of ideal at ${last.k} in flight, event-loop lag p99 ${Math.round(last.lagP99Ms)} ms\n`);
process.exit(last.efficiency >= 0.9 && last.lagP99Ms < 50 && last.failed === 0 ? 0 : 1);
