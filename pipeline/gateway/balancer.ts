// Spreads calls over the replicas (base URLs) of one role: least outstanding requests first; a replica that refuses
// connections, or keeps answering 5xx / timing out, is taken out, probed in the background and brought back once it answers.
import { rootCode } from './transport-error.ts';

/** How an attempt on a replica ended, as far as the replica's health is concerned. */
export type Outcome =
  /** A usable answer. */
  | 'ok'
  /** The connection failed (refused, reset, closed mid-reply): the replica is taken out at once. */
  | 'down'
  /** 5xx or no answer in time: taken out after `unhealthyAfter` in a row. */
  | 'unhealthy'
  /** Anything that says nothing about the replica (4xx, 429, a cancelled call, a bad reply). */
  | 'error';

export interface HealthCheckSettings {
  enabled: boolean;
  /** Appended to the base URL and fetched with GET. */
  path: string;
  /** Probe period of a replica that is out. */
  downIntervalMs: number;
  /** Probe period of a replica that is in; 0 = not probed while in. */
  intervalMs: number;
  timeoutMs: number;
  /** Consecutive 5xx answers or timeouts (calls or probes) that take a replica out. */
  unhealthyAfter: number;
}

/** What a probe found: it answered (any status below 500), refused the connection, or failed otherwise (5xx, timeout). */
export type ProbeResult = { state: 'alive' } | { state: 'refused' | 'failing'; detail: string };
export type Prober = (url: string, signal: AbortSignal) => Promise<ProbeResult>;

export interface ReplicaEvent {
  url: string;
  state: 'down' | 'up';
  reason: string;
  /** How long it was out (for `up`). */
  downForMs?: number;
  /** Calls running on it when it went out (for `down`): each is retried elsewhere by its own retry loop. */
  outstanding: number;
}

/** The part of a pino logger the gateway uses; a run's logger fits as is. */
export interface GatewayLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface PoolOptions {
  /** Least time a replica taken out stays out without health checks (and, with them, after 5xx/timeouts); doubles while it keeps failing. */
  cooldownMs: number;
  health?: HealthCheckSettings;
  /** Replaces the HTTP probe (tests). */
  prober?: Prober;
  /** Sent with the HTTP probe (the role's key and extra headers), so a router in front sees what a call sends. */
  probeHeaders?: Record<string, string>;
  onEvent?: (e: ReplicaEvent) => void;
}

export interface ReplicaSnapshot {
  url: string;
  outstanding: number;
  down: boolean;
  /** Attempts that got a usable answer. */
  served: number;
  /** Attempts that failed because of the replica (connection failures, 5xx, timeouts). */
  failures: number;
  /** Times taken out, and times brought back. */
  downs: number;
  ups: number;
  downSince: string | null;
  lastError: string | null;
  probes: number;
  probeFailures: number;
}

interface Replica {
  url: string;
  outstanding: number;
  served: number;
  failures: number;
  consecutiveErrors: number;
  downs: number;
  ups: number;
  down: boolean;
  downSince: number;
  /** Earliest moment it may come back. */
  holdUntil: number;
  /** Downs since it last served a call: escalates the hold. */
  flaps: number;
  /** Bumped at each transition: an outcome of an attempt that began in an older epoch cannot flip the state. */
  epoch: number;
  lastError: string | null;
  probes: number;
  probeFailures: number;
  timer: NodeJS.Timeout | null;
  probeInFlight: boolean;
}

const DEFAULT_HEALTH: HealthCheckSettings = { enabled: false, path: '/models', downIntervalMs: 1000, intervalMs: 0, timeoutMs: 5000, unhealthyAfter: 3 };

export class BaseUrlPool {
  private readonly replicas: Replica[];
  private readonly cooldownMs: number;
  private readonly health: HealthCheckSettings;
  private readonly prober: Prober;
  private readonly onEvent: (e: ReplicaEvent) => void;
  /** Aborts probes in flight on close(). */
  private readonly closer = new AbortController();
  private closed = false;
  private cursor = 0;

  constructor(urls: string[], cooldownMsOrOptions: number | PoolOptions) {
    if (urls.length === 0) throw new Error('BaseUrlPool needs at least one URL');
    const o: PoolOptions = typeof cooldownMsOrOptions === 'number' ? { cooldownMs: cooldownMsOrOptions } : cooldownMsOrOptions;
    this.cooldownMs = o.cooldownMs;
    this.health = o.health ?? DEFAULT_HEALTH;
    const headers = o.probeHeaders ?? {};
    this.prober = o.prober ?? ((url, signal) => httpProbe(url, this.health.path, headers, this.health.timeoutMs, signal));
    this.onEvent = o.onEvent ?? (() => {});
    this.replicas = urls.map((url) => ({
      url,
      outstanding: 0,
      served: 0,
      failures: 0,
      consecutiveErrors: 0,
      downs: 0,
      ups: 0,
      down: false,
      downSince: 0,
      holdUntil: 0,
      flaps: 0,
      epoch: 0,
      lastError: null,
      probes: 0,
      probeFailures: 0,
      timer: null,
      probeInFlight: false,
    }));
    for (const r of this.replicas) this.schedule(r);
  }

  /**
   * Picks a replica and counts it as outstanding until `release`. `avoid` (the replica a retry just failed on) is skipped
   * while another replica is in. With every replica out, the one due back first still gets the call, so a role never stalls.
   */
  acquire(avoid?: string): { url: string; release: (outcome: Outcome, detail?: string) => void } {
    const now = Date.now();
    for (const r of this.replicas) this.expire(r, now);
    const up = this.replicas.filter((r) => !r.down);
    const preferred = up.filter((r) => r.url !== avoid);
    const pool = preferred.length > 0 ? preferred : up.length > 0 ? up : [...this.replicas].sort((a, b) => a.holdUntil - b.holdUntil).slice(0, 1);
    let best: Replica | undefined;
    // Rotate the starting point so equal loads alternate instead of always hitting the first URL.
    for (let i = 0; i < pool.length; i++) {
      const r = pool[(this.cursor + i) % pool.length] as Replica;
      if (best === undefined || r.outstanding < best.outstanding) best = r;
    }
    this.cursor++;
    const r = best as Replica;
    r.outstanding++;
    const epoch = r.epoch;
    const wasDown = r.down;
    let released = false;
    return {
      url: r.url,
      release: (outcome, detail) => {
        if (released) return;
        released = true;
        r.outstanding--;
        this.expire(r, Date.now());
        // An outcome from before the last transition says nothing about the replica as it is now.
        const current = r.epoch === epoch;
        if (outcome === 'ok') {
          r.served++;
          if (!r.down) {
            r.consecutiveErrors = 0;
            r.flaps = 0;
          }
          // Only a call sent while it was out proves it is back; an older one may have been answered just before it died.
          else if (current && wasDown) this.markUp(r, 'a call succeeded');
          return;
        }
        if (outcome === 'error') return;
        r.failures++;
        r.lastError = detail ?? outcome;
        if (r.down || !current) return;
        if (outcome === 'down') this.markDown(r, r.lastError, 'connection');
        else if (++r.consecutiveErrors >= this.health.unhealthyAfter) this.markDown(r, `${r.consecutiveErrors} failures in a row, last: ${r.lastError}`, 'errors');
      },
    };
  }

  get size(): number {
    return this.replicas.length;
  }

  /** Whether any replica is in (a failed call can then fail over without waiting out its backoff). */
  anyUp(): boolean {
    const now = Date.now();
    return this.replicas.some((r) => (this.expire(r, now), !r.down));
  }

  isDown(url: string): boolean {
    const r = this.replicas.find((x) => x.url === url);
    if (r === undefined) return false;
    this.expire(r, Date.now());
    return r.down;
  }

  snapshot(): ReplicaSnapshot[] {
    const now = Date.now();
    return this.replicas.map((r) => {
      this.expire(r, now);
      return {
        url: r.url,
        outstanding: r.outstanding,
        down: r.down,
        served: r.served,
        failures: r.failures,
        downs: r.downs,
        ups: r.ups,
        downSince: r.down ? new Date(r.downSince).toISOString() : null,
        lastError: r.lastError,
        probes: r.probes,
        probeFailures: r.probeFailures,
      };
    });
  }

  /** Stops probing (timers and probes in flight); calls keep working, with the cooldown alone deciding. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.closer.abort();
    for (const r of this.replicas) {
      if (r.timer !== null) clearTimeout(r.timer);
      r.timer = null;
      // A replica that was waiting for a probe now sits out the cooldown from when it went down, as without probes.
      if (r.down) r.holdUntil = Math.max(r.holdUntil, r.downSince + this.cooldownMs);
    }
  }

  /** True while a background prober decides when a down replica is back (instead of the cooldown). */
  private get probing(): boolean {
    return this.health.enabled && !this.closed;
  }

  /** Without probes, a replica is back once its hold is over. */
  private expire(r: Replica, now: number): void {
    if (r.down && !this.probing && now >= r.holdUntil) this.markUp(r, 'cooldown over');
  }

  private markDown(r: Replica, reason: string, cause: 'connection' | 'errors'): void {
    const now = Date.now();
    r.down = true;
    r.downs++;
    r.flaps++;
    r.epoch++;
    r.downSince = now;
    r.consecutiveErrors = 0;
    // A refused connection is unambiguous and a probe answer ends it; a replica that answers /models but fails calls
    // (5xx, hangs) must sit out the cooldown first, or it would flap between probe and failing calls.
    const hold = cause === 'connection' && this.probing ? 0 : this.cooldownMs * 2 ** Math.min(4, r.flaps - 1);
    r.holdUntil = now + hold;
    this.onEvent({ url: r.url, state: 'down', reason, outstanding: r.outstanding });
    this.schedule(r);
  }

  private markUp(r: Replica, reason: string): void {
    r.down = false;
    r.ups++;
    r.epoch++;
    r.consecutiveErrors = 0;
    this.onEvent({ url: r.url, state: 'up', reason, downForMs: Date.now() - r.downSince, outstanding: r.outstanding });
    this.schedule(r);
  }

  /** (Re)arms the replica's next probe: soon while it is out, at the slow period while it is in (only when there is another to route to). */
  private schedule(r: Replica): void {
    if (r.timer !== null) clearTimeout(r.timer);
    r.timer = null;
    if (!this.probing) return;
    const ms = r.down ? this.health.downIntervalMs : this.replicas.length > 1 ? this.health.intervalMs : 0;
    if (ms <= 0) return;
    r.timer = setTimeout(() => void this.probe(r), ms);
    // Probing must never keep the process alive.
    r.timer.unref();
  }

  private async probe(r: Replica): Promise<void> {
    r.timer = null;
    // One probe per replica at a time; the one running re-arms the timer when it ends.
    if (!this.probing || r.probeInFlight) return;
    r.probeInFlight = true;
    const epoch = r.epoch;
    let res: ProbeResult;
    try {
      res = await this.prober(r.url, this.closer.signal);
    } catch (e) {
      res = { state: 'failing', detail: e instanceof Error ? e.message : String(e) };
    } finally {
      r.probeInFlight = false;
    }
    if (!this.probing) return;
    r.probes++;
    if (res.state !== 'alive') r.probeFailures++;
    // A call moved the state while the probe ran: its word is newer.
    if (r.epoch === epoch) {
      if (r.down) {
        if (res.state === 'alive' && Date.now() >= r.holdUntil) this.markUp(r, 'probe answered');
      } else if (res.state === 'refused') {
        r.lastError = res.detail;
        this.markDown(r, `probe: connection failed (${res.detail})`, 'connection');
      } else if (res.state === 'failing') {
        r.lastError = res.detail;
        if (++r.consecutiveErrors >= this.health.unhealthyAfter) this.markDown(r, `${r.consecutiveErrors} failures in a row, last: probe ${res.detail}`, 'errors');
      }
    }
    // markUp/markDown re-armed it already; otherwise keep the current period.
    if (r.timer === null) this.schedule(r);
  }
}

/** GET <base><path>: any answer below 500 (401 and 404 included) means a server is there and serving. */
export async function httpProbe(baseUrl: string, path: string, headers: Record<string, string>, timeoutMs: number, closed: AbortSignal): Promise<ProbeResult> {
  const deadline = AbortSignal.timeout(timeoutMs);
  try {
    const res = await fetch(`${baseUrl.replace(/\/+$/, '')}${path}`, { headers, signal: AbortSignal.any([closed, deadline]) });
    // Read the (small) body so the connection goes back to the pool instead of lingering.
    await res.arrayBuffer().catch(() => undefined);
    return res.status < 500 ? { state: 'alive' } : { state: 'failing', detail: `HTTP ${res.status}` };
  } catch (e) {
    const code = rootCode(e);
    if (code !== undefined) return { state: 'refused', detail: code };
    if (deadline.aborted) return { state: 'failing', detail: `no answer within ${timeoutMs} ms` };
    return { state: 'failing', detail: e instanceof Error ? e.message : String(e) };
  }
}
