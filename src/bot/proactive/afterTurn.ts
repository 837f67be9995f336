import type { Logger } from '../../logger.js';
import type { Notifier } from '../../jobs/types.js';
import { isTurnLockTimeout, type ConversationLock } from '../state/conversationLock.js';

/** The key turns of a conversation are serialized on (AssistantBot's turn lock). */
export function conversationLockKey(channelId: string, conversationId: string): string {
  return `${channelId}/conversations/${conversationId}`;
}

/**
 * A notification to a conversation waits for the turn running in it, if any, to end.
 *
 * A job is committed inside the turn that confirmed it and a fast automation can finish before
 * that turn has posted its own reply, so "✅ PO-1140 is placed" could reach the user before
 * "On it: job 40 is placing the order". The turn holds the conversation's lock until its replies
 * are sent, so taking the same lock puts the notification after them; it also never lands between
 * two replies of one turn. A turn that holds the lock past its timeout does not hold the
 * notification back any longer: it is sent anyway (late is worse than out of order).
 */
export function afterConversationTurn(lock: ConversationLock, notifier: Notifier, logger?: Logger): Notifier {
  return async (n) => {
    if (!n.channelId || !n.conversationId) return notifier(n);
    try {
      return await lock.run(conversationLockKey(n.channelId, n.conversationId), () => notifier(n));
    } catch (err) {
      if (!isTurnLockTimeout(err)) throw err;
      logger?.warn({ notification: n.id, waitedMs: err.waitedMs }, 'notification sent without waiting for the conversation turn any longer');
      return notifier(n);
    }
  };
}
