import type { Activity, TurnContext } from 'botbuilder';
import type { Logger } from '../../logger.js';
import { currentTrace } from '../../tracing/turnTrace.js';
import type { ConversationReferenceStore } from '../proactive/conversationReferences.js';
import { addressedToBot, botWasRemoved, isTeams, stripBotMention } from './mentions.js';
import type { InboundActivityKey, InboundActivityStore } from './redelivery.js';

export interface InboundTurnsDeps {
  /** Conversation references (absent: the bot runs without skills, nothing is sent proactively). */
  references?: ConversationReferenceStore;
  /** Teams re-delivery guard (absent: every delivery is processed). */
  redelivery?: InboundActivityStore;
  logger: Logger;
}

/**
 * What happens to every inbound activity before the bot's handlers see it:
 *
 * 1. The conversation reference is stored or refreshed (a changed serviceUrl counts from now on)
 *    — for every activity type, so an install (conversationUpdate / installationUpdate) is enough
 *    to be reachable, and any activity revives a retired conversation. An uninstall, or the bot
 *    being removed from a team or chat, retires it instead.
 * 2. Teams messages in channels and group chats are ignored unless they @mention the bot; the
 *    mention is removed from the text before NLU reads it (personal chats answer everything).
 * 3. A Teams re-delivery of an activity already processed (or still being processed) is
 *    acknowledged and dropped.
 */
export class InboundTurns {
  constructor(private readonly deps: InboundTurnsDeps) {}

  async run(context: TurnContext, turn: () => Promise<void>): Promise<void> {
    const activity = context.activity;
    await this.refreshReference(activity);
    if (!isTeams(activity)) return turn();

    if (activity.type === 'message') {
      if (!addressedToBot(activity)) {
        currentTrace()?.setAttribute('ignored', 'not_mentioned');
        this.deps.logger.debug({ conversationId: activity.conversation?.id }, 'teams: message without a mention of the bot ignored');
        return;
      }
      stripBotMention(activity);
    }

    const store = this.deps.redelivery;
    const key = redeliveryKey(activity);
    if (!store || !key) return turn();
    if (!(await store.claim(key))) {
      currentTrace()?.setAttribute('redelivery', true);
      this.deps.logger.info({ conversationId: key.conversationId, activityId: key.activityId }, 'teams: re-delivered activity ignored');
      return;
    }
    try {
      await turn();
    } catch (err) {
      await store.fail(key, err instanceof Error ? err.message : String(err)).catch((e: unknown) => this.warn(e, 'could not record a failed turn'));
      throw err;
    }
    await store.complete(key).catch((e: unknown) => this.warn(e, 'could not record a finished turn'));
  }

  private async refreshReference(activity: Activity): Promise<void> {
    const references = this.deps.references;
    if (!references) return;
    try {
      if (botWasRemoved(activity)) {
        const reason = activity.type === 'installationUpdate' ? 'the app was uninstalled' : 'the bot was removed from the conversation';
        if (activity.channelId && activity.conversation?.id) await references.retire(activity.channelId, activity.conversation.id, reason);
        return;
      }
      await references.remember(activity);
    } catch (err) {
      this.warn(err, 'could not store the conversation reference');
    }
  }

  private warn(err: unknown, message: string): void {
    this.deps.logger.warn({ err }, message);
  }
}

/** Invokes are answered in their own HTTP response (a dropped one would get no answer): never skipped. */
function redeliveryKey(activity: Partial<Activity>): InboundActivityKey | undefined {
  const { channelId, id } = activity;
  if (activity.type === 'invoke') return undefined;
  const conversationId = activity.conversation?.id;
  return channelId && conversationId && id ? { channelId, conversationId, activityId: id } : undefined;
}
