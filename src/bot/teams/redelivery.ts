import type { DataSource } from 'typeorm';
import { DeliveryClaims } from '../../db/deliveryClaims.js';

/**
 * Re-delivery guard for Bot Framework activities (table `inbound_activities`, see
 * src/db/deliveryClaims.ts).
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
  private readonly claims: DeliveryClaims;

  constructor(db: DataSource, options: InboundActivityStoreOptions = {}) {
    this.claims = new DeliveryClaims(
      db,
      { table: 'inbound_activities', keyColumns: ['channel_id', 'conversation_id', 'activity_id'] },
      { ttlMs: options.ttlMs ?? 60 * 60_000, leaseMs: options.leaseMs ?? 2 * 60_000, pruneEveryMs: options.pruneEveryMs },
    );
  }

  /** True when this delivery should be processed (first one, or the earlier one failed / was abandoned). */
  async claim(key: InboundActivityKey): Promise<boolean> {
    return (await this.claims.claim(keyOf(key))) !== undefined;
  }

  complete(key: InboundActivityKey): Promise<void> {
    return this.claims.complete(keyOf(key));
  }

  fail(key: InboundActivityKey, error: string): Promise<void> {
    return this.claims.fail(keyOf(key), error);
  }

  /** Deletes expired rows; returns how many. */
  prune(): Promise<number> {
    return this.claims.prune();
  }
}

const keyOf = (k: InboundActivityKey) => [k.channelId, k.conversationId, k.activityId];
