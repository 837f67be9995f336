/**
 * A user talking to the real server over the real endpoint (POST /api/messages): replies come
 * back in the HTTP body (`deliveryMode: expectReplies`), proactive messages arrive at the
 * ConnectorReceiver that is the conversation's serviceUrl.
 */
import { randomUUID } from 'node:crypto';
import type { ConnectorReceiver, ReceivedActivity, WireActivity } from '../../src/chat/connectorReceiver.js';
import { renderActivity } from '../../src/chat/renderActivity.js';
import { makeActivity, post } from './testApp.js';

export interface BotReply {
  /** Activity text plus the card's text lines (as the terminal chat shows them). */
  text: string;
  activity: WireActivity;
  /** Card buttons: title → submit data. */
  buttons: { title: string; value: unknown }[];
}

export function toReply(activity: WireActivity): BotReply {
  const { lines, choices } = renderActivity(activity);
  return {
    text: lines.join('\n'),
    activity,
    buttons: choices.filter((c) => c.value !== undefined).map((c) => ({ title: c.title, value: c.value })),
  };
}

export class ChatUser {
  readonly conversationId: string;
  /** The most recent buttons the bot showed this user. */
  buttons: { title: string; value: unknown }[] = [];

  constructor(
    private readonly url: () => string,
    private readonly receiver: ConnectorReceiver,
    readonly userId: string,
    readonly name: string,
    conversationId?: string,
  ) {
    this.conversationId = conversationId ?? `conv-${userId}-${randomUUID()}`;
  }

  activity(fields: Record<string, unknown>) {
    return makeActivity({
      serviceUrl: this.receiver.serviceUrl,
      conversationId: this.conversationId,
      userId: this.userId,
      from: { id: this.userId, name: this.name },
      ...fields,
    });
  }

  /** Sends one message and returns the bot's replies to it. */
  async say(text: string): Promise<BotReply[]> {
    return this.send(this.activity({ text, deliveryMode: 'expectReplies' }));
  }

  /** Clicks a button of the last card (by title), or sends `value` as a click. */
  async click(titleOrValue: string | Record<string, unknown>): Promise<BotReply[]> {
    return this.send(this.activity({ text: '', value: this.buttonValue(titleOrValue), deliveryMode: 'expectReplies' }));
  }

  buttonValue(titleOrValue: string | Record<string, unknown>): unknown {
    if (typeof titleOrValue !== 'string') return titleOrValue;
    const button = this.buttons.find((b) => b.title === titleOrValue);
    if (!button) throw new Error(`no button "${titleOrValue}" (have: ${this.buttons.map((b) => b.title).join(', ') || 'none'})`);
    return button.value;
  }

  async send(activity: ReturnType<typeof makeActivity>): Promise<BotReply[]> {
    const res = await post(`${this.url()}/api/messages`, activity);
    if (res.status !== 200) throw new Error(`POST /api/messages answered ${res.status}: ${res.text}`);
    const body = res.json as { activities?: WireActivity[] } | undefined;
    const replies = (body?.activities ?? []).map(toReply);
    const withButtons = replies.filter((r) => r.buttons.length > 0).pop();
    if (withButtons) this.buttons = withButtons.buttons;
    return replies;
  }

  /** Proactive messages this conversation received so far (optionally matching `pattern`). */
  notifications(pattern?: RegExp): BotReply[] {
    return this.receiver.received
      .filter((r) => r.conversationId === this.conversationId)
      .map((r) => toReply(r.activity))
      .filter((r) => !pattern || pattern.test(r.text));
  }

  /** Waits for `count` proactive messages matching `pattern`. */
  async waitForNotification(pattern: RegExp, timeoutMs = 15_000, count = 1): Promise<BotReply[]> {
    const hits = await this.receiver.waitFor(count, timeoutMs, (r: ReceivedActivity) => r.conversationId === this.conversationId && pattern.test(toReply(r.activity).text));
    const replies = hits.map((h) => toReply(h.activity));
    const withButtons = replies.filter((r) => r.buttons.length > 0).pop();
    if (withButtons) this.buttons = withButtons.buttons;
    return replies;
  }
}

export const allText = (replies: BotReply[]): string => replies.map((r) => r.text).join('\n');
