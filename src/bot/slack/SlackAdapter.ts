import {
  ActivityTypes,
  BotAdapter,
  TurnContext,
  type Activity,
  type Attachment,
  type ConversationReference,
  type InvokeResponse,
  type ResourceResponse,
} from 'botbuilder';
import type { KnownBlock, WebClient } from '@slack/web-api';
import type { Logger } from '../../logger.js';
import { ADAPTIVE_CARD_TYPE, renderForSlack, settledBlocks, type SlackMessageContent } from './blockKit.js';
import { parseSlackConversationId, type SlackPlace } from './conversation.js';
import { waitForDelayActivity } from '../delayActivity.js';

/**
 * A Bot Framework adapter whose channel is Slack itself: the bot, its dialogs and state run
 * unchanged, and what they send becomes Web API calls.
 *
 *   sendActivities   → chat.postMessage (to the conversation's channel and thread; cards as Block Kit;
 *                      binary attachments → files.uploadV2)
 *   updateActivity   → chat.update        deleteActivity → chat.delete
 *   continueConversation(Async) → a proactive turn on a stored reference (job notifications)
 *
 * Inbound activities are built by the Slack channel (channel.ts) and enter through
 * `processInbound`, the same entry point the Bot Framework adapter offers the turn runner. A
 * button click (`block_actions`) is registered with `expectClick` first: the first plain-text
 * reply to a card button is written *into* the clicked message (chat.update: buttons gone, who
 * chose what, the outcome), so nobody clicks twice; any other reply is posted as usual.
 */

/** A card button click being answered (see `expectClick`). */
export interface SlackClick {
  channel: string;
  /** The clicked message. */
  ts: string;
  /** Its blocks and text as Slack sent them in the payload. */
  blocks: unknown;
  text: string;
  title: string;
  userId: string;
  /** Card submit (fold the outcome into the message) or a quick reply (just settle it). */
  kind: 'submit' | 'imBack';
}

interface ClickState extends SlackClick {
  settled: boolean;
  sent: number;
  failed: boolean;
}

export interface OutgoingFile {
  filename: string;
  content: Buffer;
  title?: string;
  /** Message posted with the file. */
  initialComment?: string;
}

const CLICK = Symbol('slack.click');

/** What identifies one inbound activity (its conversation and id). */
type ActivityKey = { id?: string; conversation?: { id?: string } };

const turnKey = (activity: ActivityKey): string => `${activity.conversation?.id ?? ''}|${activity.id ?? ''}`;

export class SlackAdapter extends BotAdapter {
  private readonly clicks = new Map<string, SlackClick>();
  private readonly failures = new Map<string, unknown>();

  constructor(
    private readonly client: WebClient,
    private readonly logger: Logger,
  ) {
    super();
  }

  // ------------------------------------------------------------------------------- inbound

  /** Registers the click an activity about to be processed stands for. */
  expectClick(activity: ActivityKey, click: SlackClick): void {
    this.clicks.set(turnKey(activity), click);
  }

  /**
   * After a turn: the error it ended with (its apology was sent), once; undefined when it went
   * well. Also forgets a registered click the turn never reached (refused before the bot).
   */
  takeFailure(activity: ActivityKey): unknown {
    const key = turnKey(activity);
    const failure = this.failures.get(key);
    this.failures.delete(key);
    this.clicks.delete(key);
    return failure;
  }

  /** Runs one inbound activity through the middleware and the bot (the turn runner's entry point). */
  async processInbound(
    _authHeader: string,
    activity: Activity,
    logic: (context: TurnContext) => Promise<void>,
  ): Promise<InvokeResponse | undefined> {
    const key = turnKey(activity);
    const registered = this.clicks.get(key);
    this.clicks.delete(key);
    const click: ClickState | undefined = registered ? { ...registered, settled: false, sent: 0, failed: false } : undefined;
    const context = new TurnContext(this, activity);
    if (activity.locale) context.locale = activity.locale;
    if (click) context.turnState.set(CLICK, click);
    try {
      await this.middleware.run(context, () => logic(context));
    } catch (err) {
      this.failures.set(key, err);
      if (this.failures.size > 1000) this.failures.delete(this.failures.keys().next().value as string);
      // The apology goes out as a message; the card keeps its buttons so the user can try again.
      if (click) click.failed = true;
      if (!this.onTurnError) throw err;
      await this.onTurnError(context, err instanceof Error ? err : new Error(String(err)));
    }
    if (click && !click.settled && !click.failed && click.sent > 0) {
      // The replies were cards or questions: still take the buttons off the clicked message.
      await this.settle(click).catch((err: unknown) => this.logger.warn({ err }, 'slack: could not update the clicked message'));
    }
    return undefined;
  }

  // ------------------------------------------------------------------------------ outbound

  override async sendActivities(context: TurnContext, activities: Partial<Activity>[]): Promise<ResourceResponse[]> {
    const click = context.turnState.get(CLICK) as ClickState | undefined;
    const responses: ResourceResponse[] = [];
    for (const activity of activities) {
      if (activity.type === 'delay') {
        await waitForDelayActivity(activity);
        responses.push({ id: '' });
        continue;
      }
      // typing, trace, event, endOfConversation…: nothing in Slack's Web API for a bot to send.
      if (activity.type !== ActivityTypes.Message) {
        responses.push({ id: '' });
        continue;
      }
      const place = parseSlackConversationId(activity.conversation?.id);
      const content = this.render(activity);
      const files = binaryAttachments(activity);
      let id = '';
      const plain = !content.blocks && content.text.trim() && files.length === 0;
      if (click && click.kind === 'submit' && !click.settled && !click.failed && plain) {
        await this.settle(click, activity.text ?? '');
        id = click.ts;
      } else {
        if (content.text.trim() || content.blocks) id = await this.post(place, content);
        for (const file of files) await this.uploadFile(place, file);
      }
      if (click) click.sent += 1;
      responses.push({ id });
    }
    return responses;
  }

  override async updateActivity(_context: TurnContext, activity: Partial<Activity>): Promise<ResourceResponse | void> {
    const { channel } = parseSlackConversationId(activity.conversation?.id);
    if (!activity.id) throw new Error('slack: updateActivity needs the message id (ts)');
    const content = this.render(activity);
    // `blocks: []` removes the old blocks (omitting it would keep them).
    await this.client.chat.update({ channel, ts: activity.id, text: content.text || ' ', blocks: content.blocks ?? [] });
    return { id: activity.id };
  }

  override async deleteActivity(_context: TurnContext, reference: Partial<ConversationReference>): Promise<void> {
    const { channel } = parseSlackConversationId(reference.conversation?.id);
    if (!reference.activityId) throw new Error('slack: deleteActivity needs the message id (ts)');
    await this.client.chat.delete({ channel, ts: reference.activityId });
  }

  /**
   * A proactive turn on a stored conversation reference. Errors are thrown, not apologised for:
   * the notification job sees them and retries.
   */
  override async continueConversation(
    reference: Partial<ConversationReference>,
    logic: (context: TurnContext) => Promise<void>,
  ): Promise<void> {
    const activity = TurnContext.applyConversationReference({ type: ActivityTypes.Event, name: 'continueConversation' }, reference, true);
    const context = new TurnContext(this, activity);
    await this.middleware.run(context, () => logic(context));
  }

  /** CloudAdapter's signature (app id or claims, reference, [audience,] logic); no credentials are involved here. */
  override async continueConversationAsync(
    _botAppIdOrClaims: unknown,
    reference: Partial<ConversationReference>,
    logicOrAudience: ((context: TurnContext) => Promise<void>) | string,
    maybeLogic?: (context: TurnContext) => Promise<void>,
  ): Promise<void> {
    const logic = typeof logicOrAudience === 'function' ? logicOrAudience : maybeLogic;
    if (!logic) throw new TypeError('continueConversationAsync: missing logic');
    await this.continueConversation(reference, logic);
  }

  // -------------------------------------------------------------------------- Slack calls

  /** chat.postMessage to a channel (and thread); returns the message ts. */
  async post(place: SlackPlace, content: { text: string; blocks?: KnownBlock[] }): Promise<string> {
    const result = await this.client.chat.postMessage({
      channel: place.channel,
      ...(place.threadTs ? { thread_ts: place.threadTs } : {}),
      text: content.text || ' ',
      ...(content.blocks ? { blocks: content.blocks } : {}),
      unfurl_links: false,
      unfurl_media: false,
    });
    return result.ts ?? '';
  }

  /** Posts plain text to a conversation outside a turn (e.g. "I couldn't read that file"). */
  async say(conversationId: string, text: string): Promise<string> {
    return this.post(parseSlackConversationId(conversationId), this.render({ type: ActivityTypes.Message, text }));
  }

  /**
   * Uploads a file into a conversation (its channel and thread) with files.uploadV2
   * (files.getUploadURLExternal → upload → files.completeUploadExternal). Returns the file ids.
   */
  async uploadFile(target: SlackPlace | string, file: OutgoingFile): Promise<string[]> {
    const place = typeof target === 'string' ? parseSlackConversationId(target) : target;
    const common = {
      file: file.content,
      filename: file.filename,
      title: file.title ?? file.filename,
      ...(file.initialComment ? { initial_comment: file.initialComment } : {}),
    };
    const result = place.threadTs
      ? await this.client.filesUploadV2({ ...common, channel_id: place.channel, thread_ts: place.threadTs })
      : await this.client.filesUploadV2({ ...common, channel_id: place.channel });
    return result.files.flatMap((f) => (f.files ?? []).map((x) => x.id ?? '')).filter(Boolean);
  }

  private render(activity: Partial<Activity>): SlackMessageContent {
    const content = renderForSlack(activity);
    if (content.dropped.length > 0) this.logger.debug({ dropped: content.dropped }, 'slack: parts of a message could not be rendered');
    return content;
  }

  /** The clicked message without its buttons, saying who chose what (and the outcome). */
  private async settle(click: ClickState, outcome?: string): Promise<void> {
    click.settled = true;
    const blocks = settledBlocks(click.blocks, { userId: click.userId, title: click.title }, outcome);
    const text = outcome?.trim() ? outcome.trim() : click.text || `${click.title} chosen`;
    await this.client.chat.update({ channel: click.channel, ts: click.ts, text, blocks });
  }
}

/** Attachments with bytes (exports) — sent as Slack files; cards are rendered, links ignored. */
function binaryAttachments(activity: Partial<Activity>): OutgoingFile[] {
  const out: OutgoingFile[] = [];
  for (const a of activity.attachments ?? []) {
    if (a.contentType === ADAPTIVE_CARD_TYPE) continue;
    const bytes = attachmentBytes(a);
    if (bytes) out.push({ filename: a.name || 'file', content: bytes });
  }
  return out;
}

function attachmentBytes(a: Attachment): Buffer | undefined {
  if (Buffer.isBuffer(a.content)) return a.content;
  const match = typeof a.contentUrl === 'string' ? /^data:[^;,]*;base64,(.*)$/s.exec(a.contentUrl) : null;
  return match ? Buffer.from(match[1] ?? '', 'base64') : undefined;
}
