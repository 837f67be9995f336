import {
  ActivityTypes,
  BotAdapter,
  TurnContext,
  type Activity,
  type ConversationReference,
  type ResourceResponse,
} from 'botbuilder';
import type { ProactiveChannel } from '../proactive/notifier.js';
import { WEBCHAT_CHANNEL_ID, storeBotActivity, type BotAccount } from './botActivities.js';
import type { DirectLineStore, WireActivity } from './conversations.js';
import { waitForDelayActivity } from '../delayActivity.js';

const CONNECTOR_PATH = /^\/webchat\/connector\/([A-Za-z0-9_-]+)\/?$/;

/**
 * Proactive messages into local web chat conversations, from any process (a ROLE=worker running
 * the notify outbox too): written straight to the shared store, where every replica's polls and
 * streams read them. The stored reference's serviceUrl names the replica that took the turn, which
 * may be gone or not reachable from the worker (a worker serves no web chat routes); the store is
 * reachable from everywhere.
 *
 * A reference is ours when its channel is `webchat` and its serviceUrl is this server's connector
 * path (`…/webchat/connector/<secret>`, any host: every replica has the same secret). Azure Bot
 * Service's own Web Chat channel (also `webchat`, serviceUrl on botframework.com) is not.
 */
export function createWebchatProactive(deps: {
  store: DirectLineStore;
  bot: BotAccount;
  /** The shared connector secret (keys.ts). */
  connectorSecret: () => Promise<string>;
}): ProactiveChannel {
  const adapter = new WebchatStoreAdapter(deps.store, deps.bot);
  return {
    owns: (reference) => reference.channelId === WEBCHAT_CHANNEL_ID && connectorSecretOf(reference.serviceUrl) !== undefined,
    async continueConversation(reference, logic) {
      // A connector of another deployment (another secret) is not ours to write for.
      if (connectorSecretOf(reference.serviceUrl) !== (await deps.connectorSecret())) {
        throw new Error('web chat: the reference names another server’s connector');
      }
      await adapter.continueConversation(reference, logic);
    },
  };
}

function connectorSecretOf(serviceUrl: string | undefined): string | undefined {
  if (!serviceUrl) return undefined;
  try {
    return CONNECTOR_PATH.exec(new URL(serviceUrl).pathname)?.[1];
  } catch {
    return undefined;
  }
}

/** A Bot Framework adapter whose "channel" is the web chat store. */
class WebchatStoreAdapter extends BotAdapter {
  constructor(
    private readonly store: DirectLineStore,
    private readonly bot: BotAccount,
  ) {
    super();
  }

  override async sendActivities(_context: TurnContext, activities: Partial<Activity>[]): Promise<ResourceResponse[]> {
    const responses: ResourceResponse[] = [];
    for (const activity of activities) {
      if (activity.type === 'delay') {
        await waitForDelayActivity(activity);
        responses.push({ id: '' });
        continue;
      }
      if (activity.type === ActivityTypes.Trace) {
        responses.push({ id: '' });
        continue;
      }
      const conversationId = activity.conversation?.id ?? '';
      const replyToId = typeof activity.replyToId === 'string' ? activity.replyToId : undefined;
      const id = await storeBotActivity(this.store, conversationId, this.bot, wire(activity), replyToId);
      if (id === undefined) throw conversationGone();
      responses.push({ id });
    }
    return responses;
  }

  override async updateActivity(_context: TurnContext, activity: Partial<Activity>): Promise<ResourceResponse | void> {
    const conversationId = activity.conversation?.id ?? '';
    const existing = activity.id ? await this.store.activity(conversationId, activity.id) : undefined;
    if (!existing) throw Object.assign(new Error('web chat: activity not found'), { statusCode: 404 });
    const replyToId = typeof existing.replyToId === 'string' ? existing.replyToId : undefined;
    const id = await storeBotActivity(this.store, conversationId, this.bot, wire(activity), replyToId, existing);
    if (id === undefined) throw conversationGone();
    return { id };
  }

  override async deleteActivity(): Promise<void> {
    // Direct Line has no delete for a bot; neither had the HTTP connector.
  }

  override async continueConversation(reference: Partial<ConversationReference>, logic: (context: TurnContext) => Promise<void>): Promise<void> {
    const activity = TurnContext.applyConversationReference({ type: ActivityTypes.Event, name: 'continueConversation' }, reference, true);
    const context = new TurnContext(this, activity);
    await this.middleware.run(context, () => logic(context));
  }
}

/** The activity as it would have arrived over HTTP (dates as strings, no undefined fields). */
function wire(activity: Partial<Activity>): WireActivity {
  return JSON.parse(JSON.stringify(activity)) as WireActivity;
}

/** The conversation expired or was evicted: what the HTTP connector answers (404 ConversationNotFound). */
function conversationGone(): Error {
  return Object.assign(new Error('web chat: the conversation no longer exists'), { statusCode: 404, code: 'ConversationNotFound' });
}
