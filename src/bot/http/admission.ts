import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Counter, Gauge, type Registry } from 'prom-client';
import { errorBody } from './httpErrors.js';

/**
 * Admission control for the routes that run a turn (POST /api/messages, the Slack endpoints, the
 * Direct Line posts). A bounded number of turns run at once, a short bounded queue waits for a slot,
 * and everything beyond is answered at once with 503 + Retry-After, before the body is read: under a
 * spike the server keeps answering the turns it took within the time a channel waits, instead of
 * taking everything and answering all of it too late (issue 13, item 5).
 *
 * Limits (ADMISSION_* settings): see docs/notes/overload.md for how the defaults were measured.
 */
export interface AdmissionOptions {
  /** Turns processed at once, at most (the ceiling of the adaptive limit). */
  maxInFlight: number;
  /** The adaptive limit never goes below this. Default 2. */
  minInFlight?: number;
  /**
   * Latency target of an admitted turn (slot taken → turn finished), in ms; 0 = fixed limit. Above
   * it the limit shrinks (by target/latency, between ×0.5 and ×0.9, at most once per target
   * period), below it grows by about one per `limit` turns (AIMD, as TCP and Netflix's
   * concurrency-limits do): the limit follows what the machine can do right now — a quiet server
   * takes more, a contended one (shared CPU) fewer. It starts at a quarter of the ceiling.
   */
  targetMs?: number;
  /** Clock (tests). */
  now?: () => number;
  /** Requests waiting for a slot (0: none wait, the excess is shed at once). */
  maxQueue: number;
  /** A queued request still without a slot after this long is shed. */
  queueTimeoutMs: number;
  /** Sent as Retry-After (seconds) with every shed request. */
  retryAfterS: number;
  /**
   * An admitted request whose turn has not answered after this long (from arrival) gets 202 at once;
   * the turn carries on (its replies go out through the connector, its trace is saved). Keeps every
   * response inside the 15 s a Bot Framework channel waits before re-sending.
   */
  deadlineMs: number;
}

export type ShedReason = 'full' | 'queue_timeout';

/** The turn routes (method + path, no query) the gate applies to; everything else passes untouched. */
const TURN_ROUTES: readonly RegExp[] = [
  /^\/api\/messages\/?$/,
  /^\/api\/slack\/(?:events|interactivity)\/?$/,
  /^\/v3\/directline\/conversations\/?$/,
  /^\/v3\/directline\/conversations\/[^/]+\/(?:activities|upload)\/?$/,
];

export function isTurnRequest(req: IncomingMessage): boolean {
  if (req.method !== 'POST') return false;
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  return TURN_ROUTES.some((re) => re.test(path));
}

/** What the turn holding an admission slot reports back to the gate. */
interface TurnSample {
  /** Time spent waiting on something other than load (its conversation's lock), ms. */
  excludedMs: number;
}

/** The admission sample of the request being handled (current from the gate's `next()` on). */
const turnSamples = new AsyncLocalStorage<TurnSample>();

/**
 * Leaves `ms` out of the current turn's latency sample: time it waited for earlier turns of its own
 * conversation (the conversation lock). Those turns run one after another by design, so their wait
 * says nothing about the server's load; counted, a burst of copies in ONE conversation would
 * shrink the adaptive limit and shed other users' turns. No-op outside an admitted request.
 */
export function excludeFromAdmissionLatency(ms: number): void {
  const sample = turnSamples.getStore();
  if (sample && ms > 0) sample.excludedMs += ms;
}

interface Waiter {
  grant: () => void;
  timer: NodeJS.Timeout;
}

/** A counting semaphore with a bounded FIFO queue that never blocks the caller: it sheds instead. */
export class Admission {
  private inFlightCount = 0;
  private readonly waiters: Waiter[] = [];
  private readonly counts = { admitted: 0, shed: { full: 0, queue_timeout: 0 }, deadline: 0 };
  /** The adaptive limit (fractional: additive increase adds 1/limit per fast turn). */
  private limitValue: number;
  private readonly minLimit: number;
  private readonly now: () => number;
  private lastDecrease = Number.NEGATIVE_INFINITY;

  constructor(readonly options: AdmissionOptions) {
    if (!(options.maxInFlight >= 1)) throw new RangeError('maxInFlight must be at least 1');
    this.minLimit = Math.min(options.maxInFlight, Math.max(1, options.minInFlight ?? 2));
    // Adaptive: start low and earn the ceiling (a cold or contended server is not flooded at once).
    this.limitValue = options.targetMs ? Math.max(this.minLimit, Math.ceil(options.maxInFlight / 4)) : options.maxInFlight;
    this.now = options.now ?? (() => performance.now());
  }

  get inFlight(): number {
    return this.inFlightCount;
  }

  /** Turns admitted at once right now (≤ maxInFlight). */
  get limit(): number {
    return Math.floor(this.limitValue);
  }

  get queued(): number {
    return this.waiters.length;
  }

  stats() {
    return { inFlight: this.inFlightCount, limit: this.limit, queued: this.waiters.length, admitted: this.counts.admitted, shed: { ...this.counts.shed }, deadline: this.counts.deadline };
  }

  /**
   * Asks for a slot: `onGrant` runs (maybe later, from the queue) with a release function to call
   * exactly once when the turn is over, or `onShed` runs (at once, or when the queue wait expires).
   * Returns a cancel function for a caller that goes away while queued.
   */
  acquire(onGrant: (release: (excludedMs?: number) => void) => void, onShed: (reason: ShedReason) => void): () => void {
    if (this.inFlightCount < this.limit) {
      this.inFlightCount += 1;
      this.counts.admitted += 1;
      onGrant(this.releaser());
      return () => {};
    }
    if (this.waiters.length >= this.options.maxQueue) {
      this.counts.shed.full += 1;
      onShed('full');
      return () => {};
    }
    const waiter: Waiter = {
      grant: () => {
        clearTimeout(waiter.timer);
        this.counts.admitted += 1;
        onGrant(this.releaser());
      },
      timer: setTimeout(() => {
        if (!this.dequeue(waiter)) return;
        this.counts.shed.queue_timeout += 1;
        onShed('queue_timeout');
      }, this.options.queueTimeoutMs),
    };
    this.waiters.push(waiter);
    return () => {
      if (this.dequeue(waiter)) clearTimeout(waiter.timer);
    };
  }

  /** Counts a turn answered at its deadline (202) while it carried on. */
  noteDeadline(): void {
    this.counts.deadline += 1;
  }

  private dequeue(waiter: Waiter): boolean {
    const i = this.waiters.indexOf(waiter);
    if (i === -1) return false;
    this.waiters.splice(i, 1);
    return true;
  }

  /** `excludedMs`: part of the turn's time that is not the server's doing (left out of the sample). */
  private releaser(): (excludedMs?: number) => void {
    let released = false;
    const start = this.now();
    return (excludedMs = 0) => {
      if (released) return;
      released = true;
      this.adapt(Math.max(0, this.now() - start - excludedMs));
      // The slot goes straight to the oldest waiter (a queued turn cannot be overtaken), unless
      // the limit has just shrunk below what is running.
      const next = this.inFlightCount <= this.limit ? this.waiters.shift() : undefined;
      if (next) next.grant();
      else this.inFlightCount -= 1;
    };
  }

  private adapt(ms: number): void {
    const target = this.options.targetMs ?? 0;
    if (target <= 0) return;
    const max = this.options.maxInFlight;
    if (ms > target) {
      // Turns of one slow period all come back slow: shrink once for them, not once each.
      const t = this.now();
      if (t - this.lastDecrease < target) return;
      this.lastDecrease = t;
      const factor = Math.min(0.9, Math.max(0.5, target / ms));
      this.limitValue = Math.max(this.minLimit, Math.floor(this.limitValue * factor));
    } else {
      this.limitValue = Math.min(max, this.limitValue + 1 / this.limitValue);
    }
  }
}

type Next = (arg?: unknown) => void;
type RestifyRequest = IncomingMessage & { once(event: 'restifyDone', listener: () => void): unknown };

/** A slot whose response closed without restify finishing the request is freed after this long anyway. */
const ORPHAN_RELEASE_MS = 120_000;

/**
 * The restify `pre` handler: runs before routing and before anything reads the body. An admitted
 * request keeps its slot until restify has finished it (response sent *and* handler done, so a turn
 * answered at its deadline still counts until it ends).
 */
export function admissionGate(admission: Admission) {
  const { retryAfterS, deadlineMs } = admission.options;
  const shedBody = JSON.stringify(errorBody('overloaded', `The server is busy. Retry after ${retryAfterS} s.`));
  return (req: IncomingMessage, res: ServerResponse, next: Next): void => {
    if (!isTurnRequest(req)) return next();
    let closed = false;
    const deadline = setTimeout(() => {
      if (res.headersSent || closed) return;
      admission.noteDeadline();
      const body = JSON.stringify({ status: 'accepted', message: 'Still working on it; the reply will follow.' });
      res.writeHead(202, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    }, deadlineMs);
    deadline.unref();
    const cancel = admission.acquire(
      (release) => {
        if (closed) {
          // The client went away while queued: nothing to run.
          release();
          return;
        }
        let done = false;
        const sample: TurnSample = { excludedMs: 0 };
        (req as RestifyRequest).once('restifyDone', () => {
          done = true;
          release(sample.excludedMs);
        });
        // Safety net: a request restify never reports finished must not hold its slot for ever.
        res.once('close', () => setImmediate(() => done || setTimeout(release, ORPHAN_RELEASE_MS).unref()));
        // The route and the turn run inside this context: the turn reports its lock wait to `sample`.
        turnSamples.run(sample, () => next());
      },
      () => {
        clearTimeout(deadline);
        if (!res.headersSent) {
          res.writeHead(503, {
            'content-type': 'application/json; charset=utf-8',
            'content-length': Buffer.byteLength(shedBody),
            'retry-after': String(retryAfterS),
          });
          res.end(shedBody);
        }
        next(false);
      },
    );
    res.once('close', () => {
      closed = true;
      clearTimeout(deadline);
      cancel();
    });
  };
}

/** admitted / shed / in-flight / queued turns on /metrics. */
export function registerAdmissionMetrics(registry: Registry, admission: Admission): void {
  new Gauge({
    name: 'rpa_turns_in_flight',
    help: 'Turn requests admitted and not finished yet',
    registers: [registry],
    collect() {
      this.set(admission.inFlight);
    },
  });
  new Gauge({
    name: 'rpa_turns_queued',
    help: 'Turn requests waiting for an admission slot',
    registers: [registry],
    collect() {
      this.set(admission.queued);
    },
  });
  new Gauge({
    name: 'rpa_turns_admission_limit',
    help: 'Admission limits: turns in flight now (adaptive), its ceiling, and the queue length',
    labelNames: ['limit'],
    registers: [registry],
    collect() {
      this.set({ limit: 'in_flight' }, admission.limit);
      this.set({ limit: 'in_flight_max' }, admission.options.maxInFlight);
      this.set({ limit: 'queue' }, admission.options.maxQueue);
    },
  });
  new Counter({
    name: 'rpa_turns_admitted_total',
    help: 'Turn requests admitted (straight away or after queueing)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(admission.stats().admitted);
    },
  });
  new Counter({
    name: 'rpa_turns_shed_total',
    help: 'Turn requests answered 503 + Retry-After without running (full: queue full; queue_timeout: no slot in time)',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      const { shed } = admission.stats();
      this.reset();
      this.inc({ reason: 'full' }, shed.full);
      this.inc({ reason: 'queue_timeout' }, shed.queue_timeout);
    },
  });
  new Counter({
    name: 'rpa_turns_deadline_total',
    help: 'Admitted turns answered 202 at the reply deadline while they carried on',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(admission.stats().deadline);
    },
  });
}

/**
 * Readiness that does not pile up behind turns: at most one check runs at a time, a result younger
 * than `maxAgeMs` is reused, and while a check is running callers get the last result.
 */
export function cachedReadiness<T>(check: () => Promise<T>, maxAgeMs = 1000): () => Promise<T> {
  let last: { at: number; value: T } | undefined;
  let running: Promise<T> | undefined;
  return async () => {
    if (last && Date.now() - last.at < maxAgeMs) return last.value;
    if (running) return last ? last.value : running;
    running = check().then(
      (value) => {
        last = { at: Date.now(), value };
        running = undefined;
        return value;
      },
      (err: unknown) => {
        running = undefined;
        throw err;
      },
    );
    return running;
  };
}
