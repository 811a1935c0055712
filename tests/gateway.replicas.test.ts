// Many inference replicas behind one role, over real HTTP: a replica killed under load and restarted on the same port,
// replicas taken out for 5xx answers and timeouts, health probes that bring them back and stop on close.
import { afterEach, describe, expect, it } from 'vitest';
import { Gateway, type GatewayLogger } from '../pipeline/gateway/gateway.ts';
import { BaseUrlPool, type ProbeResult } from '../pipeline/gateway/balancer.ts';
import { startSimServer, type SimServer } from '../pipeline/sim/server.ts';
import type { Logger } from '../pipeline/log/logger.ts';
import { endpoint, fastBackoff } from './helpers/gateway.ts';

// Type-level: a run's pino logger can be handed to the gateway as is.
const runLoggerFits = (l: Logger): GatewayLogger => l;
void runLoggerFits;

const servers: SimServer[] = [];
const gateways: Gateway[] = [];
async function sim(opts: Parameters<typeof startSimServer>[0] = {}): Promise<SimServer> {
  const s = await startSimServer({ port: 0, ...opts });
  servers.push(s);
  return s;
}
afterEach(async () => {
  for (const g of gateways.splice(0)) g.close();
  for (const s of servers.splice(0)) await s.close();
});

interface LogLine {
  level: 'info' | 'warn';
  msg: string;
  fields: { url?: string; reason?: string };
}
function recorder(onLine: (l: LogLine) => void = () => {}): { logger: GatewayLogger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const push = (level: LogLine['level'], fields: object, msg: string): void => {
    const l = { level, msg, fields: fields as LogLine['fields'] };
    lines.push(l);
    onLine(l);
  };
  return { lines, logger: { info: (o, m) => push('info', o, m), warn: (o, m) => push('warn', o, m) } };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('replicas under load', () => {
  // Streamed, the kill also cuts replies whose headers and first chunks have arrived ('terminated' mid-body).
  it.each([false, true])('answers every call exactly once while a replica is killed mid-run and restarted on the same port (stream=%s)', async (stream) => {
    const latency = { fixedMs: 20, jitterMs: 10 };
    const a = await sim({ latency });
    const b = await sim({ latency });
    const c = await sim({ latency });
    const CALLS = 400;
    const KILL_AT = 100; // calls finished when c is killed
    const RESTART_AT = 200; // calls finished when c starts again
    const TAIL = 80; // the last calls wait until c is back, so it surely serves some again

    const t0 = performance.now();
    let comeback!: () => void;
    const cameBack = new Promise<void>((r) => (comeback = r));
    let restarted: Promise<SimServer> | undefined;
    const { logger, lines } = recorder((l) => {
      if (process.env.DEBUG_REPLICAS) console.log(Math.round(performance.now() - t0), done, l.msg, l.fields);
      if (l.msg === 'replica back up' && l.fields.url === c.url && restarted !== undefined) comeback();
    });
    const g = new Gateway({
      models: {
        worker: endpoint({
          baseUrl: [a.url, b.url, c.url],
          model: 'sim-worker',
          stream,
          limits: { concurrency: 32, backoff: fastBackoff, healthCheck: { downIntervalS: 0.05, intervalS: 0.2, timeoutS: 1 } },
        }),
      },
      logger,
    });
    gateways.push(g);
    const replica = (url: string) => g.client('worker').poolSnapshot().find((r) => r.url === url)!;

    let done = 0;
    let inFlightAtKill = -1;
    let servedAtKill = -1;
    const settled = new Array<number>(CALLS).fill(0);
    const contents = new Array<string>(CALLS).fill('');
    const errors: unknown[] = [];
    let attempts = 0;
    const progress = (): void => {
      done++;
      if (done === KILL_AT) {
        // Taken and closed in one synchronous step: no request can arrive in between.
        inFlightAtKill = c.stats().inFlight;
        servedAtKill = replica(c.url).served;
        void c.close();
      }
      if (done === RESTART_AT) restarted = startSimServer({ port: c.port, latency });
    };
    const marker = (i: number): string => `f_${i}_x`;
    await Promise.all(
      Array.from({ length: CALLS }, async (_, i) => {
        // Bounded, so a replica that never comes back fails the assertions below instead of hanging the test.
        if (i >= CALLS - TAIL) await Promise.race([cameBack, sleep(10_000)]);
        try {
          const r = await g.chat({ role: 'worker', messages: [{ role: 'user', content: `Write def ${marker(i)}(): return ${i}` }], sampleIndex: i });
          contents[i] = r.content;
          attempts += r.attempts;
        } catch (e) {
          errors.push(e);
        } finally {
          settled[i]!++;
          progress();
        }
      }),
    );
    const wallMs = performance.now() - t0;
    const c2 = await restarted!;
    servers.push(c2);

    // The caller side: one result per call, each its own, none failed.
    expect(errors).toEqual([]);
    expect(settled.every((n) => n === 1)).toBe(true);
    const mismatched = contents.filter((text, i) => !text.includes(marker(i))).length;
    expect(mismatched).toBe(0);

    // The kill cut calls in flight; c was taken out, logged, probed back in and served again on the same port.
    expect(c2.port).toBe(c.port);
    expect(inFlightAtKill).toBeGreaterThan(0);
    const rc = replica(c.url);
    expect(rc.down).toBe(false);
    expect(rc.downs).toBeGreaterThanOrEqual(1);
    expect(rc.ups).toBeGreaterThanOrEqual(1);
    expect(rc.failures).toBeGreaterThanOrEqual(inFlightAtKill);
    // Served on c = answered by c before the kill (some of them reached the client only after it) + by c after the restart.
    expect(rc.served).toBe(c.stats().completed + c2.stats().completed);
    expect(rc.served).toBeGreaterThan(servedAtKill);
    expect(c2.stats().completed).toBeGreaterThan(0);
    expect(lines.some((l) => l.level === 'warn' && l.msg === 'replica down' && l.fields.url === c.url)).toBe(true);
    expect(lines.some((l) => l.level === 'info' && l.msg === 'replica back up' && l.fields.url === c.url)).toBe(true);
    expect(replica(a.url).downs).toBe(0);
    expect(replica(b.url).downs).toBe(0);

    // The server side: one successful answer per call; the only extra requests are those cut by the kill.
    const all = [a, b, c, c2].map((s) => s.stats());
    const sum = (k: 'requests' | 'completed' | 'aborted'): number => all.reduce((n, s) => n + s[k], 0);
    expect(sum('completed')).toBe(CALLS);
    expect(c.stats().aborted).toBe(inFlightAtKill);
    expect(sum('requests') - inFlightAtKill).toBe(CALLS);
    // Exactly one retry per failed attempt, and every failed attempt was one on c: the calls cut by the kill, plus calls
    // that had picked c just before it was taken out and were refused before reaching any server.
    expect(attempts - CALLS).toBe(rc.failures);
    expect(attempts - CALLS).toBeLessThanOrEqual(inFlightAtKill + 32);
    expect(g.report().errors['retried:endpoint-unreachable']).toBe(attempts - CALLS);
    console.log(`replicas (stream=${stream}): ${CALLS} calls in ${Math.round(wallMs)} ms, ${inFlightAtKill} cut by the kill, ${attempts - CALLS} retries, c served ${rc.served}`);
  });
});

describe('health', () => {
  it('takes out a replica after 3 straight 5xx answers or timeouts, and brings it back after the cooldown', async () => {
    const a = await sim();
    const b = await sim();
    const { logger, lines } = recorder();
    const g = new Gateway({
      models: {
        worker: endpoint({
          baseUrl: [a.url, b.url],
          model: 'sim-worker',
          limits: { concurrency: 1, timeoutS: 0.3, failoverCooldownS: 0.3, backoff: fastBackoff, healthCheck: { downIntervalS: 0.05, intervalS: 0 } },
        }),
      },
      logger,
    });
    gateways.push(g);
    // a's next three chat requests fail: 500, hang (a timeout), 500.
    a.injectFaults([{ kind: '500' }, { kind: 'hang' }, { kind: '500' }]);
    const pool = (): ReturnType<ReturnType<Gateway['client']>['poolSnapshot']> => g.client('worker').poolSnapshot();
    let i = 0;
    while (pool()[0]!.downs === 0 && i < 30) await g.chat({ role: 'worker', messages: [{ role: 'user', content: `write def h_${i++}(): pass` }] });
    const down = pool()[0]!;
    expect(down).toMatchObject({ down: true, downs: 1, failures: 3 });
    expect(lines.find((l) => l.msg === 'replica down')?.fields.reason).toMatch(/3 failures in a row/);
    // While a is out, b takes everything; the cooldown (0.3 s) holds a out even though its /models answers.
    const servedA = down.served;
    for (let k = 0; k < 5; k++) await g.chat({ role: 'worker', messages: [{ role: 'user', content: `write def k_${k}(): pass` }] });
    expect(pool()[0]!.served).toBe(servedA);
    await until('a back', () => !pool()[0]!.down);
    expect(pool()[0]).toMatchObject({ downs: 1, ups: 1 });
    expect(lines.find((l) => l.msg === 'replica back up')?.fields.reason).toBe('probe answered');
    expect(g.report().errors['retried:server-error']).toBe(2);
    expect(g.report().errors['retried:timeout']).toBe(1);
  });

  it('probes a healthy replica, takes it out when it dies before any call hits it, and stops probing on close', async () => {
    const a = await sim();
    const b = await sim();
    const { logger } = recorder();
    const g = new Gateway({
      models: { worker: endpoint({ baseUrl: [a.url, b.url], model: 'sim-worker', limits: { healthCheck: { downIntervalS: 0.02, intervalS: 0.02 } } }) },
      logger,
      roles: ['worker'],
    });
    gateways.push(g);
    const pool = () => g.client('worker').poolSnapshot();
    await a.close();
    await until('a taken out by a probe', () => pool()[0]!.down);
    expect(pool()[0]).toMatchObject({ downs: 1, served: 0, failures: 0 });
    expect(pool()[0]!.lastError).toMatch(/ECONNREFUSED/);
    // No call is sent to a; every one goes to b at once, with no failed attempt.
    const r = await g.chat({ role: 'worker', messages: [{ role: 'user', content: 'write def p(): pass' }] });
    expect(r.attempts).toBe(1);
    await until('more probes', () => pool()[1]!.probes >= 3);
    g.close();
    await sleep(30); // a probe in flight at close() finishes without counting
    const before = pool().map((t) => t.probes);
    await sleep(150);
    expect(pool().map((t) => t.probes)).toEqual(before);
    // Calls still work after close.
    await expect(g.chat({ role: 'worker', messages: [{ role: 'user', content: 'write def q(): pass' }] })).resolves.toMatchObject({ attempts: 1 });
  });
});

describe('BaseUrlPool', () => {
  const health = { enabled: true, path: '/models', downIntervalMs: 10, intervalMs: 0, timeoutMs: 100, unhealthyAfter: 2 };

  it('counts one takedown for many calls cut at once, and ignores outcomes of calls begun before a transition', async () => {
    let alive = false;
    const prober = async (): Promise<ProbeResult> => (alive ? { state: 'alive' } : { state: 'refused', detail: 'ECONNREFUSED' });
    const events: string[] = [];
    const pool = new BaseUrlPool(['http://x/v1', 'http://y/v1'], { cooldownMs: 60_000, health, prober, onEvent: (e) => events.push(`${e.url} ${e.state}`) });
    try {
      const leases = Array.from({ length: 6 }, () => pool.acquire());
      const onX = leases.filter((l) => l.url === 'http://x/v1');
      expect(onX).toHaveLength(3);
      for (const l of onX) l.release('down', 'UND_ERR_SOCKET');
      expect(pool.snapshot()[0]).toMatchObject({ down: true, downs: 1, failures: 3, outstanding: 0 });
      // The cooldown (60 s) does not apply to a refused connection: the first probe answer brings it back.
      alive = true;
      await until('x back', () => !pool.isDown('http://x/v1'), 1000);
      expect(events).toEqual(['http://x/v1 down', 'http://x/v1 up']);
      // A late failure of a call begun before x last went down and came back does not take it out again.
      const stale = pool.acquire();
      expect(stale.url).toBe('http://x/v1'); // y still has three outstanding
      const cut = pool.acquire();
      expect(cut.url).toBe('http://x/v1');
      cut.release('down', 'ECONNRESET');
      await until('x back again', () => !pool.isDown('http://x/v1'), 1000);
      stale.release('down', 'ECONNRESET');
      expect(pool.snapshot()[0]).toMatchObject({ down: false, downs: 2, ups: 2, failures: 5 });
      for (const l of leases) l.release('ok');
    } finally {
      pool.close();
    }
  });

  it('without health checks falls back to the cooldown, and a retry avoids the replica it failed on', () => {
    const pool = new BaseUrlPool(['http://x/v1', 'http://y/v1'], 10_000);
    try {
      const first = pool.acquire();
      const retry = pool.acquire(first.url);
      expect(retry.url).not.toBe(first.url);
      first.release('down', 'ECONNREFUSED');
      expect(pool.isDown(first.url)).toBe(true);
      expect(pool.acquire().url).toBe(retry.url);
      retry.release('ok');
    } finally {
      pool.close();
    }
  });
});
