import pg from 'pg';
import type { Log } from '../db/log.js';

/** The PostgreSQL channel on which a send tells every process which queue has work. */
export const WAKEUP_CHANNEL = 'rpa_job_wakeup';

/** `SELECT pg_notify(…)` for a send inside a transaction: delivered at commit, when the job is visible. */
export const NOTIFY_SQL = `SELECT pg_notify('${WAKEUP_CHANNEL}', $1)`;

/**
 * Cross-process wake-ups (PostgreSQL only): one LISTEN connection per process. Another
 * instance's send reaches this one's idle workers at once instead of at their next poll. The
 * connection is re-opened with a bounded backoff if it breaks; after a reconnect every queue is
 * woken (notifications sent meanwhile were missed). The embedded database has one connection and
 * one process: there, workers are woken in-process only.
 */
export class WakeupListener {
  private client?: pg.Client;
  private stopped = false;
  private retryTimer?: NodeJS.Timeout;
  private failures = 0;

  constructor(
    private readonly clientConfig: pg.ClientConfig,
    private readonly onWake: (queue: string | undefined) => void,
    private readonly log: Log,
  ) {}

  async start(): Promise<void> {
    await this.connect().catch((err: unknown) => {
      this.log.warn({ err }, 'job wake-up listener could not connect; retrying (workers still poll)');
      this.retry();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ ...this.clientConfig, application_name: 'rpa-assistant-wakeups' });
    client.on('notification', (msg) => this.onWake(msg.payload));
    client.on('error', (err) => {
      this.log.warn({ err }, 'job wake-up listener lost its connection');
      void client.end().catch(() => {});
    });
    client.on('end', () => {
      if (this.client === client) {
        this.client = undefined;
        this.retry();
      }
    });
    await client.connect();
    try {
      await client.query(`LISTEN ${WAKEUP_CHANNEL}`);
    } catch (err) {
      await client.end().catch(() => {});
      throw err;
    }
    if (this.stopped) {
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
    if (this.failures > 0) this.onWake(undefined); // anything sent while we were away
    this.failures = 0;
  }

  private retry(): void {
    if (this.stopped) return;
    this.failures++;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(
      () => {
        void this.connect().catch(() => this.retry());
      },
      Math.min(5_000, 250 * 2 ** this.failures),
    );
    this.retryTimer.unref();
  }
}
