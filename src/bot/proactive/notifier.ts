import type { CloudAdapter, ConversationReference, TurnContext } from 'botbuilder';
import type { Logger } from '../../logger.js';
import type { DeliveryResult, NotificationRecord, Notifier } from '../../jobs/types.js';
import type { SkillReply } from '../../skills/types.js';
import { replyActivity } from '../cards/adaptiveCard.js';
import type { CardNonceStore } from '../cards/cardNonces.js';
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
  /**
   * Issues the nonces of write buttons (an approver's Approve / Reject) for the conversation they
   * are sent to. Absent: such buttons are left out (the text still says what to reply).
   */
  nonces?: CardNonceStore;
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
 * so a notification for a job started before a restart still arrives. Transient channel errors
 * (429/412/502/504) are retried inside the send (teams/connectorRetry.ts); if they persist the
 * error is thrown and the notify job retries later. A 403 (app uninstalled, bot removed or
 * blocked) retires the conversation and is final, like a missing reference or a refused serviceUrl.
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
      const retired = await deps.references.retirement(
        n.channelId && n.conversationId ? { channelId: n.channelId, conversationId: n.conversationId } : { userId: n.userId ?? '' },
      );
      if (retired) return { delivered: false, reason: `the conversation no longer accepts messages (${retired.reason})` };
      return { delivered: false, reason: `no conversation with ${n.userId ?? n.conversationId ?? 'the recipient'} is known yet` };
    }
    const channel = deps.channels?.find((c) => c.owns(reference));
    const reply = await withNonces(deps.nonces, n, reference);
    if (channel) {
      await channel.continueConversation(reference, async (context) => {
        await context.sendActivity(replyActivity(reply, reference.channelId, reference.serviceUrl));
      });
      return { delivered: true };
    }
    if (deps.serviceUrlPolicy && !deps.serviceUrlPolicy.isAllowed(reference.serviceUrl)) {
      deps.logger.warn({ notification: n.id }, 'notification not sent: serviceUrl not on the allow-list');
      return { delivered: false, reason: 'serviceUrl is not on the allow-list' };
    }
    try {
      await continueConversationOrThrow(deps.adapter, deps.appId, reference, async (context) => {
        await context.sendActivity(replyActivity(reply, reference.channelId, reference.serviceUrl));
      });
    } catch (err) {
      const status = statusOf(err);
      if (status === 403 && reference.channelId && reference.conversation?.id) {
        const reason = `the channel refused it (403${errorCodeOf(err) ? ` ${errorCodeOf(err)}` : ''}): the app was removed or blocked`;
        await deps.references.retire(reference.channelId, reference.conversation.id, reason);
        deps.logger.warn({ notification: n.id, channelId: reference.channelId, status }, 'notification undeliverable: conversation retired');
        return { delivered: false, reason };
      }
      deps.logger.error({ notification: n.id, channelId: reference.channelId, status, err: errorText(err) }, 'notification not sent; the outbox retries it');
      throw err;
    }
    return { delivered: true };
  };
}

/**
 * The reply with its write buttons bound to where it goes (cards/cardNonces.ts): the conversation
 * of `reference` and, for a notification addressed to a user, that user only. A nonce the job put
 * in the card is replaced: only nonces issued here are ever accepted.
 */
async function withNonces(nonces: CardNonceStore | undefined, n: NotificationRecord, reference: Partial<ConversationReference>): Promise<SkillReply> {
  const card = n.reply.card;
  if (!card?.actions?.some((a) => a.data.verb === 'do')) return n.reply;
  const channelId = reference.channelId;
  const conversationId = reference.conversation?.id;
  if (!nonces || !channelId || !conversationId) {
    return { ...n.reply, card: { ...card, actions: card.actions.filter((a) => a.data.verb !== 'do') } };
  }
  return { ...n.reply, card: await nonces.bind(card, { channelId, conversationId, userId: n.userId ?? undefined }) };
}

/**
 * `continueConversationAsync`, but a failed send is thrown to the caller. CloudAdapter runs the
 * logic inside its middleware, which hands errors to `onTurnError` (log + apology) and returns
 * normally, so a notification would count as sent when it was not; the error is caught inside
 * the logic instead and rethrown once the proactive turn is over.
 */
export async function continueConversationOrThrow(
  adapter: Pick<CloudAdapter, 'continueConversationAsync'>,
  appId: string,
  reference: Partial<ConversationReference>,
  logic: (context: TurnContext) => Promise<void>,
): Promise<void> {
  let failure: { error: unknown } | undefined;
  await adapter.continueConversationAsync(appId, reference, async (context) => {
    try {
      await logic(context);
    } catch (error) {
      failure = { error };
    }
  });
  if (failure) throw failure.error;
}

/** The HTTP status of a connector error (RestError.statusCode), if it has one. */
export function statusOf(err: unknown): number | undefined {
  const e = err as { statusCode?: unknown; response?: { status?: unknown } } | undefined;
  const status = e?.statusCode ?? e?.response?.status;
  return typeof status === 'number' ? status : undefined;
}

/** The channel's error code (`{"error":{"code":"BotNotInConversationRoster"}}`), if it sent one. */
function errorCodeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^[A-Za-z]{2,64}$/.test(code) ? code : undefined;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message.slice(0, 300) : String(err).slice(0, 300);
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
