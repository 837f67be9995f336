import { TurnContext, type Activity, type ConversationReference } from 'botbuilder';
import type { DataSource } from 'typeorm';
import { execute } from '../../db/sql.js';
import { storableJson } from '../../db/text.js';

/**
 * Where to reach a conversation later (proactive notifications), kept in Postgres so it survives
 * restarts. Upserted on every message; an in-memory copy skips writes when nothing changed.
 */
export class ConversationReferenceStore {
  private readonly written = new Map<string, string>();

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
    const key = `${channelId}\u0000${conversationId}`;
    const json = JSON.stringify(reference, storableJson);
    if (this.written.get(key) === json) return;
    await execute(
      this.db,
      `INSERT INTO conversation_references (channel_id, conversation_id, user_id, user_name, service_url, reference, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, now())
       ON CONFLICT (channel_id, conversation_id) DO UPDATE SET user_id = EXCLUDED.user_id, user_name = EXCLUDED.user_name,
         service_url = EXCLUDED.service_url, reference = EXCLUDED.reference, updated_at = now()`,
      [channelId, conversationId, reference.user?.id ?? null, reference.user?.name ?? null, serviceUrl, json],
    );
    if (this.written.size >= this.maxCached) this.written.clear();
    this.written.set(key, json);
  }

  async forConversation(channelId: string, conversationId: string): Promise<Partial<ConversationReference> | undefined> {
    const { rows } = await execute<{ reference: Partial<ConversationReference> }>(
      this.db,
      'SELECT reference FROM conversation_references WHERE channel_id = $1 AND conversation_id = $2',
      [channelId, conversationId],
    );
    return rows[0]?.reference;
  }

  /**
   * The user's most recent one-to-one conversation with the bot (any channel). Group chats and
   * Teams channels are skipped: what is meant for one person (an approval card) is not posted
   * where others read it.
   */
  async latestForUser(userId: string): Promise<Partial<ConversationReference> | undefined> {
    const { rows } = await execute<{ reference: Partial<ConversationReference> }>(
      this.db,
      `SELECT reference FROM conversation_references
       WHERE user_id = $1
         AND COALESCE((reference->'conversation'->>'isGroup')::boolean, false) = false
         AND COALESCE(reference->'conversation'->>'conversationType', 'personal') = 'personal'
       ORDER BY updated_at DESC LIMIT 1`,
      [userId],
    );
    return rows[0]?.reference;
  }
}
