import { TurnContext, type Activity, type ConversationReference } from 'botbuilder';
import type { DataSource } from 'typeorm';
import { execute } from '../../db/sql.js';
import { storableJsonString } from '../../db/text.js';

/** Why a conversation takes no more proactive messages (the channel answered 403, or the app was removed). */
export interface Retirement {
  retiredAt: Date;
  reason: string;
}

/** How long an unchanged reference is not written again (bounds how stale another replica's revive can be). */
const SKIP_UNCHANGED_MS = 60_000;

/**
 * Where to reach a conversation later (proactive notifications), kept in Postgres so it survives
 * restarts. Upserted on every inbound activity (a changed serviceUrl is picked up at once); an
 * in-memory copy skips writes when nothing changed for a while.
 *
 * A conversation the channel refuses (403: the app was uninstalled, the bot removed or blocked) is
 * *retired*: lookups skip it, so nothing more is sent there, until an inbound activity from it
 * revives it (the user reinstalled or unblocked the bot).
 */
export class ConversationReferenceStore {
  private readonly written = new Map<string, { json: string; at: number }>();

  constructor(
    private readonly db: DataSource,
    private readonly maxCached = 10_000,
  ) {}

  async remember(activity: Partial<Activity>): Promise<void> {
    const reference = TurnContext.getConversationReference(activity);
    // Proactive messages go to the conversation, not as a reply to one old message.
    delete reference.activityId;
    const channelId = reference.channelId;
    const conversationId = reference.conversation?.id;
    const serviceUrl = reference.serviceUrl;
    if (!channelId || !conversationId || !serviceUrl) return;
    const key = cacheKey(channelId, conversationId);
    const json = storableJsonString(reference);
    const cached = this.written.get(key);
    if (cached?.json === json && Date.now() - cached.at < SKIP_UNCHANGED_MS) return;
    await execute(
      this.db,
      `INSERT INTO conversation_references (channel_id, conversation_id, user_id, user_name, service_url, reference, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, now())
       ON CONFLICT (channel_id, conversation_id) DO UPDATE SET user_id = EXCLUDED.user_id, user_name = EXCLUDED.user_name,
         service_url = EXCLUDED.service_url, reference = EXCLUDED.reference, updated_at = now(),
         retired_at = NULL, retired_reason = NULL`,
      [channelId, conversationId, reference.user?.id ?? null, reference.user?.name ?? null, serviceUrl, json],
    );
    if (this.written.size >= this.maxCached) this.written.clear();
    this.written.set(key, { json, at: Date.now() });
  }

  /** Stops proactive sends to a conversation until it is heard from again. */
  async retire(channelId: string, conversationId: string, reason: string): Promise<void> {
    this.written.delete(cacheKey(channelId, conversationId));
    await execute(
      this.db,
      `UPDATE conversation_references SET retired_at = now(), retired_reason = $3
       WHERE channel_id = $1 AND conversation_id = $2 AND retired_at IS NULL`,
      [channelId, conversationId, reason.slice(0, 500)],
    );
  }

  /** The conversation's reference, unless it is retired. */
  async forConversation(channelId: string, conversationId: string): Promise<Partial<ConversationReference> | undefined> {
    const { rows } = await execute<{ reference: Partial<ConversationReference> }>(
      this.db,
      'SELECT reference FROM conversation_references WHERE channel_id = $1 AND conversation_id = $2 AND retired_at IS NULL',
      [channelId, conversationId],
    );
    return rows[0]?.reference;
  }

  /**
   * The user's most recent one-to-one conversation with the bot (any channel, not retired). Group
   * chats and Teams channels are skipped: what is meant for one person (an approval card) is not
   * posted where others read it.
   */
  async latestForUser(userId: string): Promise<Partial<ConversationReference> | undefined> {
    const { rows } = await execute<{ reference: Partial<ConversationReference> }>(
      this.db,
      `SELECT reference FROM conversation_references
       WHERE user_id = $1 AND retired_at IS NULL AND ${PERSONAL}
       ORDER BY updated_at DESC LIMIT 1`,
      [userId],
    );
    return rows[0]?.reference;
  }

  /** Why a conversation — or, given a user id, that user's latest personal one — is retired, if it is. */
  async retirement(target: { channelId: string; conversationId: string } | { userId: string }): Promise<Retirement | undefined> {
    const { rows } =
      'userId' in target
        ? await execute<{ retired_at: Date | null; retired_reason: string | null }>(
            this.db,
            `SELECT retired_at, retired_reason FROM conversation_references
             WHERE user_id = $1 AND ${PERSONAL} ORDER BY updated_at DESC LIMIT 1`,
            [target.userId],
          )
        : await execute<{ retired_at: Date | null; retired_reason: string | null }>(
            this.db,
            'SELECT retired_at, retired_reason FROM conversation_references WHERE channel_id = $1 AND conversation_id = $2',
            [target.channelId, target.conversationId],
          );
    const row = rows[0];
    return row?.retired_at ? { retiredAt: new Date(row.retired_at), reason: row.retired_reason ?? 'retired' } : undefined;
  }
}

const PERSONAL = `COALESCE((reference->'conversation'->>'isGroup')::boolean, false) = false
         AND COALESCE(reference->'conversation'->>'conversationType', 'personal') = 'personal'`;

const cacheKey = (channelId: string, conversationId: string): string => `${channelId}\u0000${conversationId}`;
