import type { DataSource } from 'typeorm';
import { DeliveryClaims } from '../../db/deliveryClaims.js';

/**
 * Slack event de-duplication on `event_id` (table `slack_events`, see src/db/deliveryClaims.ts).
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
  private readonly claims: DeliveryClaims;

  constructor(db: DataSource, options: SlackEventStoreOptions = {}) {
    this.claims = new DeliveryClaims(
      db,
      { table: 'slack_events', keyColumns: ['event_id'], extraColumns: ['team_id', 'event_type'] },
      { ttlMs: options.ttlMs ?? 60 * 60_000, leaseMs: options.leaseMs ?? 30_000, pruneEveryMs: options.pruneEveryMs },
    );
  }

  async claim(eventId: string, info: { teamId?: string; eventType?: string } = {}): Promise<ClaimResult> {
    const attempt = await this.claims.claim([eventId], [info.teamId ?? null, info.eventType ?? null]);
    return attempt === undefined ? { claimed: false } : { claimed: true, attempt };
  }

  complete(eventId: string): Promise<void> {
    return this.claims.complete([eventId]);
  }

  fail(eventId: string, error: string): Promise<void> {
    return this.claims.fail([eventId], error);
  }

  /** Deletes expired rows; returns how many. */
  prune(): Promise<number> {
    return this.claims.prune();
  }
}
