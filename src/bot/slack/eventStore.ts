import type { DataSource } from 'typeorm';
import { execute } from '../../db/sql.js';

/**
 * Slack event de-duplication on `event_id`, in Postgres (table `slack_events`), so it holds
 * across restarts and across replicas.
 *
 * Slack re-sends an event (`x-slack-retry-num: 1, 2, 3`, immediately, after ~1 and ~5 minutes)
 * when it did not get a 2xx within 3 s. The first delivery *claims* the id in one atomic statement;
 * a re-delivery finds it claimed and is acknowledged without being processed — unless the first
 * processing failed (`failed`), or was abandoned (still `processing` after the lease: the process
 * died), in which case the re-delivery claims it again and is processed. Rows expire after the
 * TTL (Slack stops retrying long before) and are deleted in passing.
 */
export type ClaimResult = { claimed: true; attempt: number } | { claimed: false };

export interface SlackEventDedupe {
  claim(eventId: string, info?: { teamId?: string; eventType?: string }): Promise<ClaimResult>;
  complete(eventId: string): Promise<void>;
  fail(eventId: string, error: string): Promise<void>;
}

export interface SlackEventStoreOptions {
  /** How long an event id is remembered (default 1 h). */
  ttlMs?: number;
  /** A claim older than this that never finished counts as abandoned (default 30 s). */
  leaseMs?: number;
  /** Expired rows are deleted at most this often (default 10 min). */
  pruneEveryMs?: number;
}

export class SlackEventStore implements SlackEventDedupe {
  private readonly ttlMs: number;
  private readonly leaseMs: number;
  private readonly pruneEveryMs: number;
  private lastPrune = 0;

  constructor(
    private readonly db: DataSource,
    options: SlackEventStoreOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 60 * 60_000;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.pruneEveryMs = options.pruneEveryMs ?? 10 * 60_000;
  }

  async claim(eventId: string, info: { teamId?: string; eventType?: string } = {}): Promise<ClaimResult> {
    const { rows } = await execute<{ attempts: number }>(
      this.db,
      `INSERT INTO slack_events (event_id, team_id, event_type, status, attempts, claimed_at, expires_at)
       VALUES ($1, $2, $3, 'processing', 1, now(), now() + $4 * interval '1 millisecond')
       ON CONFLICT (event_id) DO UPDATE
         SET status = 'processing', attempts = slack_events.attempts + 1, claimed_at = now(),
             finished_at = NULL, expires_at = EXCLUDED.expires_at
       WHERE slack_events.status = 'failed'
          OR slack_events.expires_at < now()
          OR (slack_events.status = 'processing' AND slack_events.claimed_at < now() - $5 * interval '1 millisecond')
       RETURNING attempts`,
      [eventId, info.teamId ?? null, info.eventType ?? null, this.ttlMs, this.leaseMs],
    );
    this.maybePrune();
    const row = rows[0];
    return row ? { claimed: true, attempt: Number(row.attempts) } : { claimed: false };
  }

  async complete(eventId: string): Promise<void> {
    await execute(this.db, `UPDATE slack_events SET status = 'done', finished_at = now(), error = NULL WHERE event_id = $1`, [eventId]);
  }

  async fail(eventId: string, error: string): Promise<void> {
    await execute(this.db, `UPDATE slack_events SET status = 'failed', finished_at = now(), error = $2 WHERE event_id = $1`, [
      eventId,
      error.slice(0, 1000),
    ]);
  }

  /** Deletes expired rows; returns how many. */
  async prune(): Promise<number> {
    this.lastPrune = Date.now();
    const { rowCount } = await execute(this.db, 'DELETE FROM slack_events WHERE expires_at < now()');
    return rowCount;
  }

  private maybePrune(): void {
    if (Date.now() - this.lastPrune < this.pruneEveryMs) return;
    this.lastPrune = Date.now();
    this.prune().catch(() => undefined); // best effort; expired rows are ignored by claim anyway
  }
}
