import type { CloudAdapter, ConversationReference, TurnContext } from 'botbuilder';
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
  /** Channels with their own adapter (native Slack): they deliver the references they own. */
  channels?: ProactiveChannel[];
}

/** A channel that sends proactive messages itself instead of through the Bot Framework adapter. */
export interface ProactiveChannel {
  /** Is this reference one of ours? */
  owns(reference: Partial<ConversationReference>): boolean;
  /**
   * Where a notification addressed to a user (not to a conversation) should go on this channel —
   * e.g. a Slack DM, opened when needed — given the user's latest known reference (if any).
   * Undefined: not this channel's user.
   */
  userReference?(userId: string, latest: Partial<ConversationReference> | undefined): Promise<Partial<ConversationReference> | undefined>;
  continueConversation(reference: Partial<ConversationReference>, logic: (context: TurnContext) => Promise<void>): Promise<void>;
}

/**
 * Sends a job notification into the conversation it belongs to with
 * `adapter.continueConversationAsync(appId, reference, logic)`. The reference comes from Postgres,
 * so a notification for a job started before a restart still arrives. A thrown error (channel
 * down) makes the notify job retry; a missing reference or a refused serviceUrl is final.
 */
export function createProactiveNotifier(deps: ProactiveNotifierDeps): Notifier {
  return async (n: NotificationRecord): Promise<DeliveryResult> => {
    const known =
      n.channelId && n.conversationId
        ? await deps.references.forConversation(n.channelId, n.conversationId)
        : n.userId
          ? await deps.references.latestForUser(n.userId)
          : undefined;
    const reference = n.channelId && n.conversationId ? known : ((await personalReference(deps.channels, n.userId, known)) ?? known);
    if (!reference?.serviceUrl) {
      return { delivered: false, reason: `no conversation with ${n.userId ?? n.conversationId ?? 'the recipient'} is known yet` };
    }
    const channel = deps.channels?.find((c) => c.owns(reference));
    if (channel) {
      await channel.continueConversation(reference, async (context) => {
        await context.sendActivity(replyActivity(n.reply, reference.channelId, reference.serviceUrl));
      });
      return { delivered: true };
    }
    if (deps.serviceUrlPolicy && !deps.serviceUrlPolicy.isAllowed(reference.serviceUrl)) {
      deps.logger.warn({ notification: n.id }, 'notification not sent: serviceUrl not on the allow-list');
      return { delivered: false, reason: 'serviceUrl is not on the allow-list' };
    }
    await deps.adapter.continueConversationAsync(deps.appId, reference, async (context) => {
      await context.sendActivity(replyActivity(n.reply, reference.channelId, reference.serviceUrl));
    });
    return { delivered: true };
  };
}

/** A channel's personal place for a user-addressed notification (a Slack DM), if one claims the user. */
async function personalReference(
  channels: ProactiveChannel[] | undefined,
  userId: string | null,
  latest: Partial<ConversationReference> | undefined,
): Promise<Partial<ConversationReference> | undefined> {
  if (!userId) return undefined;
  for (const channel of channels ?? []) {
    const personal = await channel.userReference?.(userId, latest);
    if (personal) return personal;
  }
  return undefined;
}
