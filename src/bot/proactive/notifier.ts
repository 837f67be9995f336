import type { CloudAdapter } from 'botbuilder';
import type { Logger } from '../../logger.js';
import type { DeliveryResult, NotificationRecord, Notifier } from '../../jobs/types.js';
import { replyActivity } from '../cards/adaptiveCard.js';
import type { ServiceUrlPolicy } from '../http/serviceUrlPolicy.js';
import type { ConversationReferenceStore } from './conversationReferences.js';

export interface ProactiveNotifierDeps {
  adapter: CloudAdapter;
  /** MicrosoftAppId ('' when auth is off). */
  appId: string;
  references: ConversationReferenceStore;
  /** Set when auth is off: only allow-listed serviceUrl hosts are contacted. */
  serviceUrlPolicy?: ServiceUrlPolicy;
  logger: Logger;
}

/**
 * Sends a job notification into the conversation it belongs to with
 * `adapter.continueConversationAsync(appId, reference, logic)`. The reference comes from Postgres,
 * so a notification for a job started before a restart still arrives. A thrown error (channel
 * down) makes the notify job retry; a missing reference or a refused serviceUrl is final.
 */
export function createProactiveNotifier(deps: ProactiveNotifierDeps): Notifier {
  return async (n: NotificationRecord): Promise<DeliveryResult> => {
    const reference =
      n.channelId && n.conversationId
        ? await deps.references.forConversation(n.channelId, n.conversationId)
        : n.userId
          ? await deps.references.latestForUser(n.userId)
          : undefined;
    if (!reference?.serviceUrl) {
      return { delivered: false, reason: `no conversation with ${n.userId ?? n.conversationId ?? 'the recipient'} is known yet` };
    }
    if (deps.serviceUrlPolicy && !deps.serviceUrlPolicy.isAllowed(reference.serviceUrl)) {
      deps.logger.warn({ notification: n.id }, 'notification not sent: serviceUrl not on the allow-list');
      return { delivered: false, reason: 'serviceUrl is not on the allow-list' };
    }
    await deps.adapter.continueConversationAsync(deps.appId, reference, async (context) => {
      await context.sendActivity(replyActivity(n.reply, reference.channelId));
    });
    return { delivered: true };
  };
}
