import pg from 'pg';
import { sqlLiteral } from '../../db/sql.js';
import type { Logger } from '../../logger.js';
import { runWithTurnState, type StoredStateRow, type TurnStateSession } from './turnStateSession.js';

/**
 * One turn at a time per conversation.
 *
 * botbuilder loads a conversation's state at the start of a turn and saves it at the end; two turns
 * of one conversation that overlap (a channel thread, a user typing fast, a channel retry) would
 * each save what they loaded plus their own change, and the last one would win. Holding this lock
 * around the whole turn (load → handlers → save) makes them run one after the other, in arrival
 * order within a process.
 *
 * - `LocalConversationLock`: an in-process queue per conversation. Enough where one process owns
 *   the database (the embedded PGlite serves a single connection, and advisory locks taken twice
 *   by the same session don't block each other).
 * - `PostgresConversationLock`: the same local queue, then a PostgreSQL session-level advisory lock
 *   on the conversation, so turns of one conversation are serialized across every server process
 *   on the same database. A process's advisory locks live on a few dedicated connections (4 by
 *   default; a conversation always on the same one; outside the query pool, so held locks never
 *   take connections from the pool), taken with
 *   non-blocking `pg_try_advisory_lock` and retried with a short back-off until the deadline: a
 *   waiting turn holds no connection at all. If that connection dies, PostgreSQL releases its
 *   locks (a killed process never leaves a conversation locked); turns still running then finish
 *   without it, and the conditional state writes (PostgresStorage) catch any overlap.
 *   Given the turn's `stateKey`, the lock round trip also reads the conversation's state row and
 *   the state save commits and unlocks in one round trip (turnStateSession.ts): 2 round trips a
 *   turn for lock and state instead of 4.
 *
 * Both wait at most `timeoutMs` for the lock and then reject with TurnLockTimeoutError without
 * running the task (the caller answers "busy, try again": nothing was done, nothing is lost).
 */
export interface ConversationLock {
  /** Runs `task` alone among the tasks holding `key`; rejects with TurnLockTimeoutError when it had to wait too long. */
  run<T>(key: string, task: () => Promise<T>, options?: TurnLockRunOptions): Promise<T>;
  /** Releases the lock connection (turns still holding locks lose the cross-process guarantee). */
  close(): Promise<void>;
}

export interface TurnLockRunOptions {
  /**
   * The conversation's `bot_state` key: on PostgreSQL, that row is read with the lock and its write
   * releases the lock (turnStateSession.ts) — two round trips fewer per turn.
   */
  stateKey?: string;
}

export interface ConversationLockOptions {
  /** Longest wait for the lock, in ms. */
  timeoutMs: number;
  logger?: Logger;
}

export interface PostgresLockOptions extends ConversationLockOptions {
  /** Connection string of the database whose advisory locks are used. */
  url: string;
  /**
   * Lock connections per process (default 4), each serving the conversations whose key hashes to
   * it. One connection runs its statements one at a time, so a slow one (a state write waiting on a
   * row, a starved backend) would hold every conversation of the process; with N it holds 1/N.
   */
  connections?: number;
  /** Close the idle lock connection after this long without locks (ms). Default 10 s. */
  idleCloseMs?: number;
}

/** The turn waited `waitedMs` for earlier turns of the same conversation and gave up. */
export class TurnLockTimeoutError extends Error {
  constructor(
    readonly key: string,
    readonly waitedMs: number,
  ) {
    super(`conversation busy: waited ${waitedMs} ms for its turn lock`);
    this.name = 'TurnLockTimeoutError';
  }
}

export function isTurnLockTimeout(err: unknown): err is TurnLockTimeoutError {
  return err instanceof TurnLockTimeoutError;
}

/** Picks the lock for a database: advisory locks on PostgreSQL, the in-process queue otherwise. */
export function createConversationLock(options: ConversationLockOptions & { postgresUrl?: string }): ConversationLock {
  return options.postgresUrl ? new PostgresConversationLock({ ...options, url: options.postgresUrl }) : new LocalConversationLock(options);
}

interface Waiter {
  grant(): void;
  timer: NodeJS.Timeout;
}

/** FIFO mutex per key with a bounded wait; keys with nobody holding or waiting take no memory. */
export class KeyedMutex {
  /** key → waiters queued behind the current holder (an entry exists while the key is held). */
  private readonly queues = new Map<string, Waiter[]>();

  /** Resolves to a release function once `key` is ours; rejects with TurnLockTimeoutError after `timeoutMs`. */
  acquire(key: string, timeoutMs: number): Promise<() => void> {
    const queue = this.queues.get(key);
    if (!queue) {
      this.queues.set(key, []);
      return Promise.resolve(this.releaser(key));
    }
    const started = Date.now();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        grant: () => resolve(this.releaser(key)),
        timer: setTimeout(() => {
          const index = queue.indexOf(waiter);
          if (index >= 0) queue.splice(index, 1);
          reject(new TurnLockTimeoutError(key, Date.now() - started));
        }, timeoutMs),
      };
      queue.push(waiter);
    });
  }

  /** Keys currently held. */
  get size(): number {
    return this.queues.size;
  }

  private releaser(key: string): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const queue = this.queues.get(key);
      const next = queue?.shift();
      if (!next) {
        this.queues.delete(key);
        return;
      }
      clearTimeout(next.timer);
      next.grant();
    };
  }
}

export class LocalConversationLock implements ConversationLock {
  private readonly mutex = new KeyedMutex();

  constructor(private readonly options: ConversationLockOptions) {}

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const release = await this.mutex.acquire(key, this.options.timeoutMs);
    try {
      return await task();
    } finally {
      release();
    }
  }

  async close(): Promise<void> {}
}

/** First key of the two-int advisory lock space: "turn" in ASCII, so these never meet other advisory locks. */
const LOCK_NAMESPACE = 0x7475726e;
const RETRY_MIN_MS = 5;
const RETRY_MAX_MS = 50;

interface Session {
  client: pg.Client;
  alive: boolean;
  /** The last query sent: lock calls of different conversations share the client, one at a time. */
  tail: Promise<unknown>;
}

/**
 * One query at a time on the shared lock connection. pg would queue concurrent ones itself, but
 * that is deprecated (a warning today, an error in pg 9); the chain keeps the order explicit.
 */
function serialQuery<R extends pg.QueryResultRow>(session: Session, text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
  const result = session.tail.then(
    () => session.client.query<R>(text, values),
    () => session.client.query<R>(text, values),
  );
  session.tail = result.catch(() => undefined);
  return result;
}

/** Several statements in one round trip (simple protocol: literals only, no parameters); one result each. */
function serialScript(session: Session, text: string): Promise<pg.QueryResult[]> {
  const run = async () => {
    const out = (await session.client.query(text)) as unknown as pg.QueryResult | pg.QueryResult[];
    return Array.isArray(out) ? out : [out];
  };
  const result = session.tail.then(run, run);
  session.tail = result.catch(() => undefined);
  return result;
}

/** The lock statement of `key` with its literal (for scripts). */
const lockCall = (fn: string, key: string): string => `SELECT ${fn}(${LOCK_NAMESPACE}, hashtext(${sqlLiteral(key)})) AS ok`;

/** A turn holding its conversation's advisory lock, with the state row read under it (turnStateSession.ts). */
class LockedTurnState implements TurnStateSession {
  /** The lock is no longer ours to release: the state write released it, or its connection is gone. */
  released = false;

  constructor(
    private readonly lockKey: string,
    /** The state key (TurnStateSession.key). */
    readonly key: string,
    private readonly session: Session,
    private prefetched: StoredStateRow | null | undefined,
    private readonly lost: (session: Session) => void,
  ) {}

  takePrefetched(): StoredStateRow | null | undefined {
    const row = this.prefetched;
    this.prefetched = undefined;
    return row;
  }

  commitAndRelease(statement: (escapeLiteral: (value: string) => string) => string): Promise<Record<string, unknown>[]> | undefined {
    if (this.released || !this.session.alive) return undefined;
    this.released = true;
    // COMMIT before the unlock: the next holder of the lock (any process) reads this write.
    const script = `BEGIN; ${statement(sqlLiteral)}; COMMIT; ${lockCall('pg_advisory_unlock', this.lockKey)}`;
    return serialScript(this.session, script).then(
      (results) => results[1]?.rows ?? [],
      (err: unknown) => {
        // Unknown how far the script got (and an error inside BEGIN leaves the session aborted):
        // ending the connection releases the lock for sure. The write reports the error.
        this.lost(this.session);
        throw err;
      },
    );
  }
}

/** One lock connection and the in-process queue in front of it: a shard of PostgresConversationLock. */
class SingleConnectionLock implements ConversationLock {
  private readonly local = new KeyedMutex();
  private session?: Session;
  private connecting?: Promise<Session>;
  private held = 0;
  private idleTimer?: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly options: PostgresLockOptions) {}

  async run<T>(key: string, task: () => Promise<T>, options: TurnLockRunOptions = {}): Promise<T> {
    const deadline = Date.now() + this.options.timeoutMs;
    // Turns of this process queue in memory first: only the head of each conversation's queue
    // asks the database, so a burst in one conversation costs one lock attempt, not one per turn.
    const releaseLocal = await this.local.acquire(key, this.options.timeoutMs);
    try {
      const { stateKey } = options;
      const { session, state } = await this.lock(key, deadline, stateKey);
      const turn = stateKey === undefined || state === undefined ? undefined : new LockedTurnState(key, stateKey, session, state, (s) => this.kill(s));
      try {
        return await (turn ? runWithTurnState(turn, task) : task());
      } finally {
        if (turn?.released) this.done();
        else await this.unlock(session, key);
      }
    } finally {
      releaseLocal();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.idleTimer);
    const session = this.session;
    this.session = undefined;
    if (session) {
      session.alive = false;
      await session.client.end().catch(() => {});
    }
  }

  private async lock(key: string, deadline: number, stateKey: string | undefined): Promise<{ session: Session; state?: StoredStateRow | null }> {
    const started = Date.now();
    let backoff = RETRY_MIN_MS;
    this.held += 1; // counts waiters too: the connection must not close under them
    clearTimeout(this.idleTimer);
    try {
      for (;;) {
        const session = await this.connect();
        if (stateKey !== undefined) {
          const got = await this.tryLockReading(session, key, stateKey);
          if (got) return { session, state: got.state };
        } else if (await this.tryLock(session, key)) return { session };
        const left = deadline - Date.now();
        if (left <= 0) throw new TurnLockTimeoutError(key, Date.now() - started);
        // Jittered back-off: two processes polling the same key don't fall into lock-step.
        await sleep(Math.min(left, backoff * (0.5 + Math.random())));
        backoff = Math.min(backoff * 2, RETRY_MAX_MS);
      }
    } catch (err) {
      this.done();
      throw err;
    }
  }

  private async tryLock(session: Session, key: string): Promise<boolean> {
    try {
      const { rows } = await serialQuery<{ ok: boolean }>(session, 'SELECT pg_try_advisory_lock($1::int4, hashtext($2)) AS ok', [LOCK_NAMESPACE, key]);
      return rows[0]?.ok === true;
    } catch (err) {
      // A timed-out attempt may still have taken the lock: only ending the session surely frees it.
      this.drop(session);
      await session.client.end().catch(() => {});
      throw err;
    }
  }

  /**
   * The lock and, in the same round trip, the state row under it: a second statement takes its own
   * snapshot after the first granted the lock, so it sees every write committed before that.
   */
  private async tryLockReading(session: Session, key: string, stateKey: string): Promise<{ state: StoredStateRow | null } | undefined> {
    try {
      const [locked, read] = await serialScript(
        session,
        `${lockCall('pg_try_advisory_lock', key)}; SELECT document, etag FROM bot_state WHERE key = ${sqlLiteral(stateKey)}`,
      );
      if (locked?.rows[0]?.ok !== true) return undefined;
      const row = read?.rows[0] as StoredStateRow | undefined;
      return { state: row ? { document: row.document, etag: row.etag } : null };
    } catch (err) {
      this.kill(session);
      throw err;
    }
  }

  /** Ends a lock connection whose state is unknown: PostgreSQL releases all of its locks. */
  private kill(session: Session): void {
    this.drop(session);
    void session.client.end().catch(() => {});
  }

  private async unlock(session: Session, key: string): Promise<void> {
    try {
      if (!session.alive) {
        // The session ended mid-turn, and PostgreSQL released its locks with it.
        this.options.logger?.warn({ key }, 'turn lock connection was lost during the turn');
        return;
      }
      await serialQuery(session, 'SELECT pg_advisory_unlock($1::int4, hashtext($2))', [LOCK_NAMESPACE, key]);
    } catch (err) {
      // A lock we cannot release must not outlive the turn: ending the session releases it.
      this.options.logger?.warn({ err, key }, 'turn lock not released; closing its connection');
      this.drop(session);
      await session.client.end().catch(() => {});
    } finally {
      this.done();
    }
  }

  private done(): void {
    this.held -= 1;
    if (this.held > 0 || this.closed) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      const session = this.session;
      if (this.held > 0 || !session) return;
      this.drop(session);
      void session.client.end().catch(() => {});
    }, this.options.idleCloseMs ?? 10_000);
    this.idleTimer.unref();
  }

  private connect(): Promise<Session> {
    if (this.closed) return Promise.reject(new Error('conversation lock is closed'));
    if (this.session?.alive) return Promise.resolve(this.session);
    this.connecting ??= (async () => {
      const client = new pg.Client({
        connectionString: this.options.url,
        application_name: 'rpa-assistant turn locks',
        connectionTimeoutMillis: 5_000,
        keepAlive: true,
        // A lock call never takes long: one that hangs means the connection is gone.
        query_timeout: 5_000,
      });
      const session: Session = { client, alive: true, tail: Promise.resolve() };
      client.on('error', (err) => {
        this.options.logger?.warn({ err }, 'turn lock connection lost');
        this.drop(session);
      });
      client.on('end', () => this.drop(session));
      try {
        await client.connect();
      } catch (err) {
        session.alive = false;
        await client.end().catch(() => {});
        throw err;
      }
      this.session = session;
      return session;
    })().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private drop(session: Session): void {
    session.alive = false;
    if (this.session === session) this.session = undefined;
  }
}

/** Default lock connections per process (PostgresLockOptions.connections). */
export const DEFAULT_LOCK_CONNECTIONS = 4;

/** Which of `n` lock connections serves `key` (FNV-1a over its UTF-16 units): always the same one. */
export function lockShard(key: string, n: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % n;
}

/**
 * Advisory turn locks on PostgreSQL, spread over a few connections by conversation: a
 * conversation's lock is always taken, read under and released on the same connection (advisory
 * locks belong to the session that took them), and its turns of this process queue on that
 * connection's in-process queue, so everything SingleConnectionLock guarantees holds per key.
 */
export class PostgresConversationLock implements ConversationLock {
  private readonly shards: SingleConnectionLock[];

  constructor(options: PostgresLockOptions) {
    const n = options.connections ?? DEFAULT_LOCK_CONNECTIONS;
    if (!Number.isInteger(n) || n < 1) throw new Error(`PostgresConversationLock: connections must be a positive integer, got ${n}`);
    this.shards = Array.from({ length: n }, () => new SingleConnectionLock(options));
  }

  run<T>(key: string, task: () => Promise<T>, options?: TurnLockRunOptions): Promise<T> {
    return this.shards[lockShard(key, this.shards.length)]!.run(key, task, options);
  }

  async close(): Promise<void> {
    await Promise.all(this.shards.map((s) => s.close()));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
