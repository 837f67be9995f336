import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Server as NetServer } from 'node:net';
import { isTurnRequest } from './admission.js';
import { errorBody } from './httpErrors.js';

/**
 * Graceful shutdown at the HTTP edge (issue 12, defect 8). `server.close()` alone only stops new
 * connections: a channel on a busy keep-alive connection kept sending turns, hundreds were accepted
 * after SIGTERM, and the drain always ran into SHUTDOWN_TIMEOUT_MS and cut the turns in flight.
 *
 * From `begin()` on:
 * - every response (those already in progress too) carries `Connection: close`, so no keep-alive
 *   connection takes another request after its current one;
 * - a new turn (POST /api/messages, Slack, Direct Line) is answered 503 + Retry-After without
 *   running (the channel retries, elsewhere or after the restart); everything else is served;
 * - the listener stays open until the turns in flight are done — their own follow-up requests
 *   (web chat replies to its connector on this server, file links) must still get through — then
 *   it stops accepting (new connections are refused), connections still open get their answer
 *   during a short grace, idle ones are closed, and whatever is left after that is cut.
 */
export interface DrainReport {
  /** Every request that passed the gate before `begin()` finished in time. */
  drained: boolean;
  /** Requests still open when the timeout passed (0 when drained). */
  cut: number;
  /** Turns refused (503) while draining. */
  refused: number;
}

type Next = (arg?: unknown) => void;

/** Requests that are not turns but still open after the drain get this long before their sockets are cut. */
const FINAL_GRACE_MS = 250;
/**
 * The listener keeps accepting at least this long after `begin()`: a connection already in the kernel's
 * accept queue when the listening socket closes is reset with its request unread. Accepted, it gets a
 * 503 + Retry-After instead (and a load balancer gets time to notice /readyz).
 */
const MIN_LISTEN_MS = 500;
/** A refused request's body is read (so closing does not reset the socket before the 503 arrives), at most this long. */
const BODY_DISCARD_MS = 1000;

export class ShutdownDrain {
  private draining = false;
  private beganAt = 0;
  private refused = 0;
  /** Responses of requests that passed the gate before draining began. */
  private readonly open = new Set<ServerResponse>();
  /** Refusals (503) still being written: closing their sockets early would turn them into resets. */
  private readonly refusing = new Set<ServerResponse>();

  constructor(private readonly retryAfterS = 5) {}

  get isDraining(): boolean {
    return this.draining;
  }

  /** The restify `pre` handler; install it before admission control, so a draining server refuses first. */
  readonly pre = (req: IncomingMessage, res: ServerResponse, next: Next): void => {
    if (!this.draining) {
      this.open.add(res);
      res.once('close', () => this.open.delete(res));
      return next();
    }
    res.setHeader('connection', 'close');
    if (!isTurnRequest(req)) return next();
    this.refused += 1;
    this.refusing.add(res);
    res.once('close', () => this.refusing.delete(res));
    const body = JSON.stringify(errorBody('shutting_down', `The server is restarting. Retry after ${this.retryAfterS} s.`));
    let answered = false;
    const respond = () => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      if (!res.headersSent) {
        res.writeHead(503, {
          'content-type': 'application/json; charset=utf-8',
          'content-length': Buffer.byteLength(body),
          'retry-after': String(this.retryAfterS),
          connection: 'close',
        });
        res.end(body);
      }
      // Only now: restify finishes a request stopped with next(false) at once (with a 500 if unanswered).
      next(false);
    };
    const timer = setTimeout(respond, BODY_DISCARD_MS);
    req.once('end', respond);
    req.once('error', respond);
    req.resume();
  };

  /** Stops taking turns; responses already in progress will close their connections. */
  begin(): void {
    if (this.draining) return;
    this.draining = true;
    this.beganAt = Date.now();
    for (const res of this.open) if (!res.headersSent) res.setHeader('connection', 'close');
  }

  /**
   * The whole shutdown of the HTTP side: begin, wait (up to `timeoutMs`) until every request taken
   * before has been answered and `busy()` (turns still running after their answer) is 0, then stop
   * listening and close the connections.
   */
  async close(server: Server, busy: () => number, timeoutMs: number): Promise<DrainReport> {
    this.begin();
    const deadline = Date.now() + timeoutMs;
    const listenUntil = Math.min(this.beganAt + MIN_LISTEN_MS, deadline);
    while ((this.open.size > 0 || busy() > 0 || Date.now() < listenUntil) && Date.now() < deadline) await sleep(10);
    const drained = this.open.size === 0 && busy() === 0;
    const cut = drained ? 0 : Math.max(this.open.size, busy());
    // Stop accepting with net's close: http's close() would also drop "idle" connections at once,
    // including one whose request is already on its way (the client would see a reset). Connections
    // still open get their answer (a refusal closes its connection) during a short grace.
    const stopped = new Promise<void>((resolve) => NetServer.prototype.close.call(server, () => resolve()));
    await Promise.race([stopped, sleep(FINAL_GRACE_MS)]);
    // A connection counts as idle until its request has been parsed: let the poll phase read what has
    // already arrived (on a busy event loop it may not have yet), so such a request is answered 503
    // rather than reset with its bytes unread.
    await ioTurns(3);
    server.closeIdleConnections();
    const refusalsDone = Date.now() + BODY_DISCARD_MS + 100;
    while (this.refusing.size > 0 && Date.now() < refusalsDone) await sleep(10);
    await Promise.race([stopped, sleep(100)]);
    server.closeAllConnections();
    // Upgraded sockets (WebSocket streams) are no longer the http server's to close: their owner
    // closes them; shutdown does not wait for them for ever.
    await Promise.race([stopped, sleep(1000)]);
    // http's own close on the stopped server: clears its connection-checking timer (the error is "not running").
    server.close(() => undefined);
    return { drained, cut, refused: this.refused };
  }
}

/** Lets the event loop run `n` full iterations, poll phase included. */
async function ioTurns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
