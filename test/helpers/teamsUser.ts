/**
 * A Microsoft Teams user talking to the real server over POST /api/messages, with activities
 * shaped as Teams sends them (channelId `msteams`, `conversation.conversationType`,
 * `channelData.tenant.id`, `<at>…</at>` mentions with their `mention` entities, card clicks as
 * messages with `value` and `replyToId`). Teams never uses expectReplies: the bot's replies arrive
 * at the ConnectorReceiver that is the conversation's serviceUrl, before the POST is answered.
 */
import { randomUUID } from 'node:crypto';
import type { ConnectorReceiver, ReceivedActivity, WireActivity } from '../../src/chat/connectorReceiver.js';
import { toReply, type BotReply } from './chatUser.js';
import { post } from './testApp.js';

export const TENANT_ID = '72f988bf-86f1-41af-91ab-2d7cd011db47';
export const BOT_APP_ID = '3f6b0c1e-2a4d-4c8e-9b1a-5d7e9f0a1b2c';
export const BOT = { id: `28:${BOT_APP_ID}`, name: 'RPA Assistant' };
export const TEAM = { id: '19:QnVpbGRpbmdUZWFt@thread.tacv2', name: 'Procurement' };

export type ConversationType = 'personal' | 'channel' | 'groupChat';

let messageClock = Date.now();
/** Teams message ids are millisecond timestamps as strings. */
const nextMessageId = (): string => String(++messageClock);

export interface TeamsPlace {
  type: ConversationType;
  /** 'a:1…' (personal), '19:…@thread.tacv2;messageid=…' (channel thread), '19:…@thread.v2' (group chat). */
  conversationId: string;
}

export function personalChat(): TeamsPlace {
  return { type: 'personal', conversationId: `a:1${randomUUID().replace(/-/g, '')}` };
}

export function channelThread(): TeamsPlace {
  const channel = `19:${randomUUID().replace(/-/g, '').slice(0, 24)}@thread.tacv2`;
  return { type: 'channel', conversationId: `${channel};messageid=${nextMessageId()}` };
}

export function groupChat(): TeamsPlace {
  return { type: 'groupChat', conversationId: `19:${randomUUID().replace(/-/g, '')}@thread.v2` };
}

export interface SendResult {
  status: number;
  /** What the bot posted in reply to this activity (POSTs with its replyToId). */
  replies: BotReply[];
  /** The sent activity. */
  activity: Record<string, unknown>;
  elapsedMs: number;
}

export class TeamsUser {
  constructor(
    private readonly url: () => string,
    /** The channel's connector (Teams' serviceUrl); `via()` switches it as Teams sometimes does. */
    public receiver: ConnectorReceiver,
    readonly userId: string,
    readonly name: string,
    readonly place: TeamsPlace = personalChat(),
  ) {}

  get conversationId(): string {
    return this.place.conversationId;
  }

  /** The same user and conversation, reached through another serviceUrl (a Teams region move). */
  via(receiver: ConnectorReceiver): TeamsUser {
    return new TeamsUser(this.url, receiver, this.userId, this.name, this.place);
  }

  /** The same user in another conversation. */
  in(place: TeamsPlace): TeamsUser {
    return new TeamsUser(this.url, this.receiver, this.userId, this.name, place);
  }

  /** An activity as Teams posts it to the bot. */
  activity(fields: Record<string, unknown>): Record<string, unknown> {
    const shared = this.place.type !== 'personal';
    return {
      type: 'message',
      id: nextMessageId(),
      timestamp: new Date().toISOString(),
      localTimestamp: new Date().toISOString(),
      channelId: 'msteams',
      serviceUrl: this.receiver.serviceUrl,
      from: { id: this.userId, name: this.name, aadObjectId: randomUUID() },
      conversation: {
        ...(shared ? { isGroup: true } : {}),
        conversationType: this.place.type,
        tenantId: TENANT_ID,
        id: this.conversationId,
      },
      recipient: BOT,
      locale: 'en-US',
      channelData: {
        tenant: { id: TENANT_ID },
        ...(this.place.type === 'channel'
          ? { team: TEAM, teamsTeamId: TEAM.id, channel: { id: this.conversationId.split(';')[0] }, teamsChannelId: this.conversationId.split(';')[0] }
          : {}),
      },
      ...fields,
    };
  }

  /** A message; `mention: true` puts `<at>RPA Assistant</at>` in front with its mention entity. */
  message(text: string, options: { mention?: boolean } = {}): Record<string, unknown> {
    const at = `<at>${BOT.name}</at>`;
    return this.activity({
      textFormat: 'plain',
      text: options.mention ? `${at} ${text}` : text,
      entities: [
        ...(options.mention ? [{ type: 'mention', mentioned: BOT, text: at }] : []),
        { type: 'clientInfo', locale: 'en-US', country: 'US', platform: 'Web', timezone: 'Europe/Berlin' },
      ],
    });
  }

  async say(text: string, options: { mention?: boolean } = {}): Promise<SendResult> {
    return this.send(this.message(text, options));
  }

  /** A card button click: Action.Submit posts a message with the button's data, replying to the card. */
  click(card: ReceivedActivity, title: string): Promise<SendResult> {
    return this.send(this.clickActivity(card, title));
  }

  clickActivity(card: ReceivedActivity, title: string): Record<string, unknown> {
    const value = buttons(card.activity).find((b) => b.title === title)?.value;
    if (!value) throw new Error(`no button "${title}" on the card (have: ${buttons(card.activity).map((b) => b.title).join(', ')})`);
    return this.activity({ replyToId: card.activity.id, value, channelData: { tenant: { id: TENANT_ID }, source: { name: 'message' } } });
  }

  /** The bot added to this conversation: installationUpdate (add) and conversationUpdate (membersAdded: the bot). */
  async install(): Promise<SendResult[]> {
    const from = { id: this.userId, name: this.name, aadObjectId: randomUUID() };
    return [
      await this.send(this.activity({ type: 'installationUpdate', action: 'add', from })),
      await this.send(this.activity({ type: 'conversationUpdate', membersAdded: [{ id: BOT.id }], from })),
    ];
  }

  async uninstall(): Promise<SendResult> {
    return this.send(this.activity({ type: 'installationUpdate', action: 'remove' }));
  }

  async send(activity: Record<string, unknown>): Promise<SendResult> {
    const start = Date.now();
    const res = await post(`${this.url()}/api/messages`, activity);
    const elapsedMs = Date.now() - start;
    const replies = this.receiver.received
      .filter((r) => r.method === 'POST' && r.conversationId === this.conversationId && r.activity.replyToId === activity.id)
      .map((r) => toReply(r.activity));
    return { status: res.status, replies, activity, elapsedMs };
  }

  /** Everything the bot posted (POST) into this conversation through this user's receiver. */
  posted(pattern?: RegExp): ReceivedActivity[] {
    return this.receiver.received.filter(
      (r) => r.method === 'POST' && r.conversationId === this.conversationId && (!pattern || pattern.test(toReply(r.activity).text)),
    );
  }

  /** Card updates (PUT) in this conversation, optionally of one activity. */
  updates(activityId?: string): ReceivedActivity[] {
    return this.receiver.received.filter(
      (r) => r.method === 'PUT' && r.conversationId === this.conversationId && (!activityId || r.activity.id === activityId),
    );
  }

  /** Waits for a message (POST) in this conversation whose text matches. */
  async waitFor(pattern: RegExp, timeoutMs = 15_000, count = 1): Promise<ReceivedActivity[]> {
    return this.receiver.waitFor(count, timeoutMs, (r) => r.method === 'POST' && r.conversationId === this.conversationId && pattern.test(toReply(r.activity).text));
  }
}

/** Card buttons of an activity (title → Action.Submit data). */
export function buttons(activity: WireActivity): { title: string; value: unknown }[] {
  return toReply(activity).buttons;
}

export const textOf = (activity: WireActivity): string => toReply(activity).text;
