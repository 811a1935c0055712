// Counters the simulator keeps about its traffic, so tests and benchmarks can measure a client from the server side.
import type { FaultKind } from './faults.ts';

export interface SimStats {
  /** POST /v1/chat/completions received. */
  requests: number;
  /** Replies that were written to the end with status 200. */
  completed: number;
  /** Requests whose client went away before the reply ended (timeouts, aborts, hangs given up on). */
  aborted: number;
  /** Statuses answered to chat requests, keyed by the code as a string. */
  byStatus: Record<string, number>;
  /** Chat requests received and not yet ended, counted from arrival (before the concurrency queue). */
  inFlight: number;
  maxInFlight: number;
  /** Waiting for a concurrency slot right now. */
  queued: number;
  /** Holding a concurrency slot right now; never above maxConcurrency. */
  running: number;
  maxRunning: number;
  byModel: Record<string, number>;
  /** Faults that fired, injected or rolled. */
  byFault: Record<string, number>;
  /** Requests by exact body (canonical JSON): first sightings vs repeats. */
  distinctRequests: number;
  duplicateRequests: number;
}

export class StatsRecorder {
  private requests = 0;
  private completed = 0;
  private aborted = 0;
  private byStatus: Record<string, number> = {};
  private inFlight = 0;
  private maxInFlight = 0;
  private maxRunning = 0;
  private byModel: Record<string, number> = {};
  private byFault: Record<string, number> = {};
  private duplicateRequests = 0;
  /** Body hash → times seen; also the occurrence number that fault dice use. */
  private seen = new Map<string, number>();

  arrive(): void {
    this.requests++;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
  }

  /** Called once per request when its response closes, however it ended. */
  depart(finished: boolean): void {
    this.inFlight--;
    if (!finished) this.aborted++;
  }

  /** Counted when the status line is written, so a client that has the reply also sees it counted. */
  status(code: number): void {
    bump(this.byStatus, String(code));
  }

  /** Counted as the last byte of a 200 reply is handed over, for the same reason. */
  complete(): void {
    this.completed++;
  }

  model(name: string): void {
    bump(this.byModel, name);
  }

  fault(kind: FaultKind): void {
    bump(this.byFault, kind);
  }

  running(now: number): void {
    this.maxRunning = Math.max(this.maxRunning, now);
  }

  /** Records a body and returns how many times it was seen before (0 for a first sighting). */
  observeBody(hash: string): number {
    const before = this.seen.get(hash) ?? 0;
    this.seen.set(hash, before + 1);
    if (before > 0) this.duplicateRequests++;
    return before;
  }

  snapshot(live: { queued: number; running: number }): SimStats {
    return {
      requests: this.requests,
      completed: this.completed,
      aborted: this.aborted,
      byStatus: { ...this.byStatus },
      inFlight: this.inFlight,
      maxInFlight: this.maxInFlight,
      queued: live.queued,
      running: live.running,
      maxRunning: this.maxRunning,
      byModel: { ...this.byModel },
      byFault: { ...this.byFault },
      distinctRequests: this.seen.size,
      duplicateRequests: this.duplicateRequests,
    };
  }

  /** Clears counters and body memory; live gauges stay, and the maxima restart from them. */
  reset(live: { running: number }): void {
    this.requests = 0;
    this.completed = 0;
    this.aborted = 0;
    this.byStatus = {};
    this.maxInFlight = this.inFlight;
    this.maxRunning = live.running;
    this.byModel = {};
    this.byFault = {};
    this.duplicateRequests = 0;
    this.seen = new Map();
  }
}

function bump(record: Record<string, number>, key: string): void {
  record[key] = (record[key] ?? 0) + 1;
}
