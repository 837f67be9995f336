import type PgBoss from 'pg-boss';
import type { Log } from '../db/log.js';

export type Message<T> = PgBoss.JobWithMetadata<T>;

export interface QueueWorkerOptions<T> {
  queue: string;
  /** Messages carried out at once by this process. */
  concurrency: number;
  /** How long an idle worker waits before looking again when nobody woke it (ms). */
  pollIntervalMs: number;
  log: Log;
  /** Takes up to `limit` messages (and their leases) in one transaction. */
  fetch(limit: number): Promise<Message<T>[]>;
  /** Carries out one message; throwing fails it (pg-boss retries it with backoff). */
  handle(message: Message<T>): Promise<void>;
  /** Records the outcome in pg-boss and releases the lease; throws while the database is away. */
  settle(message: Message<T>, error: unknown): Promise<void>;
}

/** Longest pause between two tries to record an outcome while the database is away. */
const SETTLE_BACKOFF_MAX_MS = 2_000;
/** After this long the outcome is given up on: pg-boss's expiry delivers the message again. */
const SETTLE_GIVE_UP_MS = 10 * 60_000;

/**
 * A pg-boss consumer with a fixed number of slots. pg-boss 10's own `work()` fetches a batch,
 * waits for all of it, then sleeps the polling interval even when more jobs are waiting (jobs
 * started about one per second per worker). This loop fetches as many messages as it has free
 * slots, refills a slot as soon as it frees while the queue has more, sleeps only when the queue
 * was found empty, and `wake()` (a send from this process, a NOTIFY from another) ends the sleep
 * at once. Each message is completed or failed on its own.
 *
 * A failed fetch (database away) is retried after the polling interval; an outcome that cannot be
 * recorded is retried with a bounded backoff, so nothing here stays wedged after an outage.
 */
export class QueueWorker<T> {
  private running = false;
  private active = 0;
  private loop?: Promise<void>;
  private woken = false;
  private wakeUp?: () => void;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: QueueWorkerOptions<T>) {}

  get busy(): number {
    return this.active;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Something may be waiting: look now (or as soon as a slot frees). */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /** Stops fetching and waits up to `timeoutMs` for the messages in hand. */
  async stop(timeoutMs: number): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wake();
    await this.loop;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
      timer.unref();
    });
    await Promise.race([Promise.allSettled([...this.inFlight]), timeout]);
    clearTimeout(timer);
  }

  private async run(): Promise<void> {
    const { concurrency, pollIntervalMs } = this.options;
    while (this.running) {
      const free = concurrency - this.active;
      if (free <= 0) {
        await this.sleep(); // a slot freeing wakes us
        continue;
      }
      this.woken = false;
      let fetched: Message<T>[] = [];
      let failed = false;
      try {
        fetched = await this.options.fetch(free);
      } catch (err) {
        failed = true;
        this.options.log.warn({ err, queue: this.options.queue }, 'could not fetch jobs; trying again shortly');
      }
      for (const message of fetched) this.begin(message);
      // A full batch: more may be waiting, go again (the loop waits for a slot if none is free).
      if (!failed && fetched.length === free) continue;
      if (!this.woken && this.running) await this.sleep(pollIntervalMs);
    }
  }

  private begin(message: Message<T>): void {
    this.active++;
    const done = (async () => {
      let error: unknown;
      try {
        await this.options.handle(message);
      } catch (err) {
        error = err ?? new Error('job failed');
      }
      this.active--;
      this.wake();
      await this.settle(message, error);
    })();
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
  }

  private async settle(message: Message<T>, error: unknown): Promise<void> {
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      try {
        await this.options.settle(message, error);
        return;
      } catch (err) {
        if (Date.now() - started > SETTLE_GIVE_UP_MS) {
          this.options.log.error({ err, queue: this.options.queue, id: message.id }, 'could not record a job outcome; pg-boss will deliver it again');
          return;
        }
        if (attempt === 0) this.options.log.warn({ err, queue: this.options.queue, id: message.id }, 'could not record a job outcome yet; retrying');
        await delay(Math.min(SETTLE_BACKOFF_MAX_MS, 100 * 2 ** attempt));
      }
    }
  }

  private sleep(ms?: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(finish, ms);
      function finish() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = () => {
        this.wakeUp = undefined;
        finish();
      };
    });
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
