import type { DataSource } from 'typeorm';
import { execute } from '../../db/sql.js';

/**
 * Re-delivery guard for Bot Framework activities, in Postgres (table `inbound_activities`), so it
 * holds across restarts and replicas.
 *
 * Teams re-sends an activity the bot did not answer within 15 seconds, with the same id. The first
 * delivery *claims* (channel, conversation, activity id) in one atomic statement; a re-delivery
 * finds it claimed and is acknowledged without being processed — unless the first processing
 * failed, or was abandoned (still `processing` after the lease: the process died), in which case
 * it is claimed again and processed. Rows expire after the TTL and are deleted in passing.
 */
export interface InboundActivityKey {
  channelId: string;
  conversationId: string;
  activityId: string;
}

export interface InboundActivityStoreOptions {
  /** How long an activity id is remembered (default 1 h; Teams retries within a minute). */
  ttlMs?: number;
  /** A claim older than this that never finished counts as abandoned (default 2 min). */
  leaseMs?: number;
  /** Expired rows are deleted at most this often (default 10 min). */
  pruneEveryMs?: number;
}

export class InboundActivityStore {
  private readonly ttlMs: number;
  private readonly leaseMs: number;
  private readonly pruneEveryMs: number;
  private lastPrune = 0;

  constructor(
    private readonly db: DataSource,
    options: InboundActivityStoreOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 60 * 60_000;
    this.leaseMs = options.leaseMs ?? 2 * 60_000;
    this.pruneEveryMs = options.pruneEveryMs ?? 10 * 60_000;
  }

  /** True when this delivery should be processed (first one, or the earlier one failed / was abandoned). */
  async claim(key: InboundActivityKey): Promise<boolean> {
    const { rows } = await execute(
      this.db,
      `INSERT INTO inbound_activities (channel_id, conversation_id, activity_id, status, attempts, claimed_at, expires_at)
       VALUES ($1, $2, $3, 'processing', 1, now(), now() + $4 * interval '1 millisecond')
       ON CONFLICT (channel_id, conversation_id, activity_id) DO UPDATE
         SET status = 'processing', attempts = inbound_activities.attempts + 1, claimed_at = now(),
             finished_at = NULL, expires_at = EXCLUDED.expires_at
       WHERE inbound_activities.status = 'failed'
          OR inbound_activities.expires_at < now()
          OR (inbound_activities.status = 'processing' AND inbound_activities.claimed_at < now() - $5 * interval '1 millisecond')
       RETURNING attempts`,
      [key.channelId, key.conversationId, key.activityId, this.ttlMs, this.leaseMs],
    );
    this.maybePrune();
    return rows.length > 0;
  }

  async complete(key: InboundActivityKey): Promise<void> {
    await execute(
      this.db,
      `UPDATE inbound_activities SET status = 'done', finished_at = now(), error = NULL
       WHERE channel_id = $1 AND conversation_id = $2 AND activity_id = $3`,
      [key.channelId, key.conversationId, key.activityId],
    );
  }

  async fail(key: InboundActivityKey, error: string): Promise<void> {
    await execute(
      this.db,
      `UPDATE inbound_activities SET status = 'failed', finished_at = now(), error = $4
       WHERE channel_id = $1 AND conversation_id = $2 AND activity_id = $3`,
      [key.channelId, key.conversationId, key.activityId, error.slice(0, 1000)],
    );
  }

  /** Deletes expired rows; returns how many. */
  async prune(): Promise<number> {
    this.lastPrune = Date.now();
    const { rowCount } = await execute(this.db, 'DELETE FROM inbound_activities WHERE expires_at < now()');
    return rowCount;
  }

  private maybePrune(): void {
    if (Date.now() - this.lastPrune < this.pruneEveryMs) return;
    this.lastPrune = Date.now();
    this.prune().catch(() => undefined); // best effort; expired rows are ignored by claim anyway
  }
}
