import pg from 'pg';
import type { Logger } from '../../logger.js';
import type { ConversationListener } from './conversations.js';

/** The PostgreSQL channel on which an append (`a:<conversation>`) or an end (`e:<conversation>`) is announced. */
export const ACTIVITY_CHANNEL = 'rpa_webchat_activity';

/**
 * Who hears that a conversation got a new activity: the Direct Line streams open on this process,
 * whichever process appended. The store calls `appended()`/`ended()` after its own commits (this
 * process's streams hear it at once); the append statement also runs `pg_notify`, which a feed
 * with `listen` set receives on a dedicated LISTEN connection (the other replicas' appends).
 *
 * A stream may hear one append twice (here and through NOTIFY): it reads after its own watermark,
 * so nothing is sent twice. While the LISTEN connection is down every stream is woken every
 * `pollMs` (the fallback poll), and once more whenever LISTEN takes effect (appends committed
 * before it were not announced to this connection). The embedded database serves one process: there, in-process delivery is all there is.
 */
export class ActivityFeed {
  private readonly listeners = new Map<string, Set<ConversationListener>>();
  private client?: pg.Client;
  private connecting?: Promise<void>;
  private stopped = false;
  private failures = 0;
  private retryTimer?: NodeJS.Timeout;
  private pollTimer?: NodeJS.Timeout;

  constructor(
    private readonly options: {
      /** The LISTEN connection's settings (PostgreSQL); absent: in-process only. */
      listen?: pg.ClientConfig;
      logger: Logger;
      pollMs?: number;
    },
  ) {}

  /** True while other replicas' appends are heard through NOTIFY (tests). */
  get listening(): boolean {
    return this.client !== undefined;
  }

  subscribe(conversationId: string, listener: ConversationListener): () => void {
    const set = this.listeners.get(conversationId) ?? new Set<ConversationListener>();
    this.listeners.set(conversationId, set);
    set.add(listener);
    this.ensureListening();
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(conversationId) === set) this.listeners.delete(conversationId);
    };
  }

  appended(conversationId: string): void {
    for (const listener of [...(this.listeners.get(conversationId) ?? [])]) listener.appended();
  }

  ended(conversationId: string): void {
    const set = this.listeners.get(conversationId);
    this.listeners.delete(conversationId);
    for (const listener of [...(set ?? [])]) listener.ended();
  }

  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.stopPolling();
    await this.connecting?.catch(() => undefined);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private wakeAll(): void {
    for (const id of [...this.listeners.keys()]) this.appended(id);
  }

  /** The LISTEN connection is opened with the first stream (a worker, which has none, never opens one). */
  private ensureListening(): void {
    if (!this.options.listen || this.stopped || this.client || this.connecting || this.retryTimer) return;
    this.connecting = this.connect()
      .catch((err: unknown) => {
        this.options.logger.warn({ err }, 'web chat: LISTEN connection failed; streams poll until it is back');
        this.retry();
      })
      .finally(() => {
        this.connecting = undefined;
      });
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ ...this.options.listen, application_name: 'rpa-assistant-webchat-feed' });
    client.on('notification', (msg) => {
      const payload = msg.payload ?? '';
      const id = payload.slice(2);
      if (payload.startsWith('a:')) this.appended(id);
      else if (payload.startsWith('e:')) this.ended(id);
    });
    client.on('error', (err) => {
      this.options.logger.warn({ err }, 'web chat: LISTEN connection lost');
      void client.end().catch(() => undefined);
    });
    client.on('end', () => {
      if (this.client !== client) return;
      this.client = undefined;
      this.retry();
    });
    await client.connect();
    try {
      await client.query(`LISTEN ${ACTIVITY_CHANNEL}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.stopPolling();
    // Anything appended before LISTEN took effect (the first streams, or while we were away).
    this.wakeAll();
    this.failures = 0;
  }

  private retry(): void {
    if (this.stopped) return;
    this.failures++;
    this.startPolling();
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(
      () => {
        this.retryTimer = undefined;
        this.ensureListening();
      },
      Math.min(5_000, 250 * 2 ** this.failures),
    );
    this.retryTimer.unref();
  }

  private startPolling(): void {
    if (this.pollTimer) return;
    this.pollTimer = setInterval(() => this.wakeAll(), this.options.pollMs ?? 1_000);
    this.pollTimer.unref();
  }

  private stopPolling(): void {
    clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }
}
