import type { DataSource } from 'typeorm';
import { errorMessage, isTransientDbError, sqlState } from '../db/errors.js';
import { silentLog, type Log } from '../db/log.js';
import { execute } from '../db/sql.js';
import { TRACE_COLUMNS, TRACE_COLUMN_CASTS, traceRowParams } from './sanitize.js';
import type { TraceRecord } from './turnTrace.js';

export interface TraceWriterOptions {
  /** Most rows per INSERT. Default 200; capped so one INSERT stays under Postgres' 65535 parameters. */
  batchSize?: number;
  /** How long a record may wait for a batch to fill before it is written anyway (ms). Default 250. */
  flushMs?: number;
  /** Most records held in memory (waiting or being written). Past it the oldest are dropped. Default 50000. */
  bufferMax?: number;
  /** First retry delay after a failed batch (ms); doubles per failure. Default 100. */
  retryInitialMs?: number;
  /** Longest retry delay (ms). Default 5000. */
  retryMaxMs?: number;
  logger?: Log;
}

export interface TraceWriterStats {
  /** Records stored (or found already stored when a batch was re-sent). */
  written: number;
  /** Records discarded unwritten: buffer overflow, enqueued after close, or left when close timed out. */
  dropped: number;
  /** Records waiting or being written. */
  pending: number;
  /** Batch INSERTs that failed (database away, or a bad row in the batch). */
  failedBatches: number;
  /** Records that could not be stored on their own (invalid, or rejected by the database). */
  rejectedRows: number;
}

/** Anything that takes finished turns: the TraceWriter, or a stub in tests. */
export interface TraceSink {
  enqueue(record: TraceRecord): void;
}

const MAX_PARAMS = 65_535;
const MAX_BATCH = Math.floor(MAX_PARAMS / TRACE_COLUMNS.length);

/**
 * Persists TraceRecords in the background. `enqueue` only pushes onto an in-memory queue; a single
 * writer loop drains it in multi-row INSERTs (when a batch fills, or `flushMs` after the first
 * waiting record). While the database is away the failed batch goes back to the head of the queue
 * and is retried with exponential backoff; the queue is bounded, dropping (and counting) the oldest
 * records past `bufferMax`. A batch rejected for its data (not the connection) is retried row by
 * row, so only the bad row is lost. Rows are inserted with ON CONFLICT DO NOTHING (key: turn_id, started_at), so
 * re-sending a batch whose first attempt actually committed stores nothing twice.
 */
export class TraceWriter implements TraceSink {
  private readonly batchSize: number;
  private readonly flushMs: number;
  private readonly bufferMax: number;
  private readonly retryInitialMs: number;
  private readonly retryMaxMs: number;
  private readonly log: Log;

  private readonly queue = new Deque<TraceRecord>();
  private inFlight = 0;
  private running = false;
  private closed = false;
  private stopped = false;
  private flushTimer?: NodeJS.Timeout;
  private kick?: NodeJS.Immediate;
  private retryTimer?: NodeJS.Timeout;
  private retryDelay = 0;
  private outageSince?: number;

  private enqueued = 0;
  private written = 0;
  private dropped = 0;
  private failedBatches = 0;
  private rejectedRows = 0;
  private waiters: Array<{ target: number; resolve: () => void }> = [];
  private readonly sqlBySize = new Map<number, string>();

  constructor(
    private readonly dataSource: DataSource,
    options: TraceWriterOptions = {},
  ) {
    this.bufferMax = Math.max(1, Math.floor(options.bufferMax ?? 50_000));
    this.batchSize = Math.max(1, Math.min(Math.floor(options.batchSize ?? 200), MAX_BATCH, this.bufferMax));
    this.flushMs = Math.max(0, options.flushMs ?? 250);
    this.retryInitialMs = Math.max(1, options.retryInitialMs ?? 100);
    this.retryMaxMs = Math.max(this.retryInitialMs, options.retryMaxMs ?? 5_000);
    this.log = options.logger ?? silentLog;
  }

  /** Queues a finished turn for writing. Synchronous, never throws, never waits for the database. */
  enqueue(record: TraceRecord): void {
    this.enqueued++;
    if (this.closed) {
      this.dropped++;
      this.settle();
      return;
    }
    if (this.queue.length + this.inFlight >= this.bufferMax) {
      this.dropped++;
      if (this.dropped === 1 || this.dropped % 1000 === 0) {
        this.log.warn({ dropped: this.dropped, bufferMax: this.bufferMax }, 'trace buffer full: dropping oldest traces');
      }
      // Drop the oldest record not already in an INSERT; if every held record is in one, the new one.
      if (this.queue.length === 0) {
        this.settle();
        return;
      }
      this.queue.shift();
      this.settle();
    }
    this.queue.push(record);
    this.schedule();
  }

  stats(): TraceWriterStats {
    return {
      written: this.written,
      dropped: this.dropped,
      pending: this.enqueued - this.settledCount(),
      failedBatches: this.failedBatches,
      rejectedRows: this.rejectedRows,
    };
  }

  /**
   * Writes everything enqueued so far now (not waiting for `flushMs`; a retry backoff in progress is
   * respected). Resolves true once all of it is settled (written, dropped or rejected), false if
   * `timeoutMs` passes first.
   */
  flush(timeoutMs = 10_000): Promise<boolean> {
    const target = this.enqueued;
    if (this.settledCount() >= target) return Promise.resolve(true);
    this.startNow();
    return new Promise<boolean>((resolve) => {
      const waiter = {
        target,
        resolve: () => {
          clearTimeout(timer);
          resolve(true);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
      timer.unref();
      this.waiters.push(waiter);
    });
  }

  /**
   * Stops accepting records (later ones are counted as dropped), flushes for up to `timeoutMs`,
   * then stops the writer. Records still unwritten at the deadline are counted as dropped.
   * Resolves true when everything was written. Call before closing the database.
   */
  async close(timeoutMs = 10_000): Promise<boolean> {
    this.closed = true;
    const flushed = await this.flush(timeoutMs);
    this.stopped = true;
    clearTimeout(this.flushTimer);
    clearTimeout(this.retryTimer);
    if (this.kick) clearImmediate(this.kick);
    this.flushTimer = this.retryTimer = this.kick = undefined;
    if (!flushed) {
      // A batch already being written may still land (it settles itself); the queue will not.
      const lost = this.queue.length;
      this.dropped += lost;
      this.queue.clear();
      this.log.warn(
        { lost, inFlight: this.inFlight, timeoutMs },
        'trace writer closed before all traces were written',
      );
      this.settle();
    }
    return flushed;
  }

  private settledCount(): number {
    return this.written + this.dropped + this.rejectedRows;
  }

  private settle(): void {
    if (this.waiters.length === 0) return;
    const settled = this.settledCount();
    const ready = this.waiters.filter((w) => settled >= w.target);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => settled < w.target);
    for (const w of ready) w.resolve();
  }

  /** Arms the next write: at once for a full batch, else after flushMs. Nothing during a backoff. */
  private schedule(): void {
    if (this.running || this.retryTimer || this.stopped) return;
    if (this.queue.length >= this.batchSize) {
      this.startNow();
    } else if (!this.flushTimer && !this.kick) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined;
        void this.pump();
      }, this.flushMs);
      this.flushTimer.unref();
    }
  }

  private startNow(): void {
    if (this.running || this.retryTimer || this.kick || this.stopped) return;
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    // setImmediate, not a direct call: enqueue() must never run database code on the caller's stack.
    this.kick = setImmediate(() => {
      this.kick = undefined;
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    try {
      while (this.queue.length > 0 && !this.stopped) {
        const batch = this.queue.take(this.batchSize);
        this.inFlight = batch.length;
        let requeue: TraceRecord[];
        try {
          requeue = await this.writeBatch(batch);
        } catch (err) {
          // writeBatch handles database errors itself; this is a bug, but keep the records.
          this.log.error({ err }, 'trace writer failed unexpectedly');
          requeue = batch;
        }
        this.inFlight = 0;
        if (this.stopped) {
          // close() gave up while this batch was being written: what did not land is lost.
          this.dropped += requeue.length;
          return;
        }
        if (requeue.length > 0) {
          this.queue.unshiftAll(requeue);
          this.trimToBound();
          this.backoff();
          return;
        }
        if (this.outageSince !== undefined) {
          this.log.info({ outageMs: Date.now() - this.outageSince }, 'trace writes resumed');
          this.outageSince = undefined;
        }
        this.retryDelay = 0;
      }
    } finally {
      this.running = false;
      this.settle();
    }
    if (this.queue.length > 0) this.schedule();
  }

  /** Drops the oldest records if a requeue pushed the queue past the bound (cannot normally happen). */
  private trimToBound(): void {
    while (this.queue.length > this.bufferMax) {
      this.queue.shift();
      this.dropped++;
    }
  }

  private backoff(): void {
    this.retryDelay = this.retryDelay === 0 ? this.retryInitialMs : Math.min(this.retryDelay * 2, this.retryMaxMs);
    // While closing, retry at least every 250 ms so a database that comes back is used before the deadline.
    const base = this.closed ? Math.min(this.retryDelay, 250) : this.retryDelay;
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.pump();
    }, delay);
    this.retryTimer.unref();
  }

  /** Writes one batch; returns the records to retry later (empty when all are settled). */
  private async writeBatch(batch: TraceRecord[]): Promise<TraceRecord[]> {
    const rows: Array<{ record: TraceRecord; params: unknown[] }> = [];
    for (const record of batch) {
      try {
        rows.push({ record, params: traceRowParams(record) });
      } catch (err) {
        this.reject(record, err);
      }
    }
    if (rows.length === 0) return [];

    try {
      await this.insert(rows.map((r) => r.params));
      this.written += rows.length;
      return [];
    } catch (err) {
      this.failedBatches++;
      if (isTransientDbError(err)) {
        this.noteOutage(err, rows.length);
        return rows.map((r) => r.record);
      }
      if (rows.length > 1) {
        this.log.warn(
          { rows: rows.length, sqlState: sqlState(err), error: errorMessage(err) },
          'trace batch rejected: retrying its rows one by one',
        );
      }
    }

    // A row the database refuses (data, constraint, limit): find it, keep the others.
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      try {
        await this.insert([row.params]);
        this.written++;
        this.settle();
      } catch (err) {
        if (isTransientDbError(err)) {
          this.noteOutage(err, rows.length - i);
          return rows.slice(i).map((r) => r.record);
        }
        this.reject(row.record, err);
      }
    }
    return [];
  }

  private async insert(rowsParams: unknown[][]): Promise<void> {
    const params: unknown[] = [];
    for (const rowParams of rowsParams) params.push(...rowParams);
    await execute(this.dataSource, this.insertSql(rowsParams.length), params);
  }

  private insertSql(rows: number): string {
    let sql = this.sqlBySize.get(rows);
    if (!sql) {
      const width = TRACE_COLUMNS.length;
      const tuples: string[] = [];
      for (let r = 0; r < rows; r++) {
        const placeholders = TRACE_COLUMNS.map((col, c) => `$${r * width + c + 1}::${TRACE_COLUMN_CASTS[col]}`);
        tuples.push(`(${placeholders.join(', ')})`);
      }
      sql =
        `INSERT INTO turn_traces (${TRACE_COLUMNS.join(', ')}) VALUES ${tuples.join(', ')} ` +
        `ON CONFLICT DO NOTHING`;
      this.sqlBySize.set(rows, sql);
    }
    return sql;
  }

  private reject(record: TraceRecord, err: unknown): void {
    this.rejectedRows++;
    this.log.error(
      { turnId: record.turnId, sqlState: sqlState(err), error: errorMessage(err) },
      'trace row rejected: not stored',
    );
  }

  private noteOutage(err: unknown, rows: number): void {
    if (this.outageSince === undefined) {
      this.outageSince = Date.now();
      this.log.warn(
        { error: errorMessage(err), sqlState: sqlState(err), pending: this.queue.length + rows },
        'trace database unavailable: buffering and retrying',
      );
    } else {
      this.log.debug({ error: errorMessage(err), pending: this.queue.length + rows }, 'trace write retry failed');
    }
  }
}

/** A FIFO queue with O(1) push/shift and cheap take-from-front / put-back-at-front. */
class Deque<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined as T;
    this.head++;
    this.compact();
    return item;
  }

  take(n: number): T[] {
    const end = Math.min(this.items.length, this.head + n);
    const out = this.items.slice(this.head, end);
    this.items.fill(undefined as T, this.head, end);
    this.head = end;
    this.compact();
    return out;
  }

  unshiftAll(front: T[]): void {
    if (front.length <= this.head) {
      this.head -= front.length;
      for (let i = 0; i < front.length; i++) this.items[this.head + i] = front[i]!;
    } else {
      this.items = front.concat(this.items.slice(this.head));
      this.head = 0;
    }
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }

  private compact(): void {
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
