import type { DirectLineStore, WireActivity } from './conversations.js';

export const WEBCHAT_CHANNEL_ID = 'webchat';

export interface BotAccount {
  id: string;
  name: string;
  role: string;
}

/**
 * Stores an activity the bot sent (POST) or updated (PUT) for the client, whether it came in over
 * HTTP to the connector (a reply during a turn) or straight from a proactive send in any process
 * (proactive.ts). Returns the new id; undefined when the conversation is gone.
 *
 * Every stored activity gets a new id, an update too (as Direct Line does: a client may drop an
 * id it has seen). An update keeps the original's `channelData.clientActivityID`, sequence id
 * and timestamp: Web Chat replaces the activity with the same clientActivityID in place
 * (webchat-core's upsertActivityWithSort), so a card changes where it was.
 *
 * `replyToId` is kept only when it names an activity the client was shown: Web Chat holds a reply
 * back (up to 5 s) until the activity it replies to arrives, and a proactive message "replies" to
 * the continuation event, which no client ever sees.
 */
export async function storeBotActivity(
  store: DirectLineStore,
  conversationId: string,
  bot: BotAccount,
  body: WireActivity,
  replyToId?: string,
  updateOf?: WireActivity,
): Promise<string | undefined> {
  const { serviceUrl: _hidden, replyToId: _named, ...activity } = body;
  const from = (typeof activity.from === 'object' && activity.from !== null ? activity.from : {}) as Record<string, unknown>;
  const channelData = typeof activity.channelData === 'object' && activity.channelData !== null ? activity.channelData : {};
  const next = await store.nextActivityId(conversationId);
  if (!next) return undefined;
  const { id, sequence: nextSequence } = next;
  const previous = (updateOf?.channelData ?? {}) as Record<string, unknown>;
  const sequence = updateOf ? previous['webchat:sequence-id'] : nextSequence;
  const lineage = updateOf ? String(previous.clientActivityID ?? updateOf.id) : id;
  const shownReplyTo = replyToId !== undefined && (await store.activity(conversationId, replyToId)) ? replyToId : undefined;
  const stored: WireActivity = {
    ...activity,
    id,
    channelId: WEBCHAT_CHANNEL_ID,
    conversation: { id: conversationId },
    from: { ...from, id: typeof from.id === 'string' ? from.id : bot.id, role: 'bot' },
    timestamp: updateOf?.timestamp ?? (typeof activity.timestamp === 'string' ? activity.timestamp : new Date().toISOString()),
    channelData: { ...channelData, clientActivityID: lineage, 'webchat:sequence-id': sequence },
    ...(shownReplyTo ? { replyToId: shownReplyTo } : {}),
  };
  const appended = await store.append(conversationId, stored, updateOf ? [lineage, updateOf.id as string] : []);
  return appended === undefined ? undefined : id;
}
