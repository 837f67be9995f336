/**
 * The Slack channel and adapter with a recording bot (no database: de-duplication in memory),
 * against the fake Slack Web API: files in (bytes reach the bot; Slack's sign-in page is caught
 * and explained; the bot token never leaves Slack's hosts), files out (files.uploadV2), updates
 * and deletes, proactive sends and DMs, order per conversation, a failed click.
 */
import type { AddressInfo } from 'node:net';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActivityHandler, CardFactory, type Activity, type ConversationReference, type TurnContext } from 'botbuilder';
import type restify from 'restify';
import { createLogger } from '../../../src/logger.js';
import { createHttpServer } from '../../../src/bot/server.js';
import { createSlackChannel, type SlackChannel, type SlackChannelOptions } from '../../../src/bot/slack/channel.js';
import type { ClaimResult, SlackEventDedupe } from '../../../src/bot/slack/eventStore.js';
import { TurnTrace, type TraceRecord } from '../../../src/tracing/turnTrace.js';
import { eventEnvelope, FakeSlackApi, signedPost, userTs, blockActionsPayload, interactivityBody, type SlackMessage } from '../../helpers/fakeSlackApi.js';

const SECRET = 'channel-test-signing-secret';
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

class RecordingBot extends ActivityHandler {
  readonly received: Activity[] = [];
  handler?: (context: TurnContext) => Promise<void>;
  constructor() {
    super();
    this.onMessage(async (context, next) => {
      this.received.push(context.activity);
      await this.handler?.(context);
      await next();
    });
  }
}

class MemoryDedupe implements SlackEventDedupe {
  readonly status = new Map<string, string>();
  async claim(eventId: string): Promise<ClaimResult> {
    const s = this.status.get(eventId);
    if (s && s !== 'failed') return { claimed: false };
    this.status.set(eventId, 'processing');
    return { claimed: true, attempt: 1 };
  }
  async complete(eventId: string) {
    this.status.set(eventId, 'done');
  }
  async fail(eventId: string) {
    this.status.set(eventId, 'failed');
  }
}

interface Harness {
  url: string;
  channel: SlackChannel;
  bot: RecordingBot;
  traces: TraceRecord[];
  close(): Promise<void>;
}

async function harness(fake: FakeSlackApi, token: string, options: SlackChannelOptions = {}): Promise<Harness> {
  const bot = new RecordingBot();
  const traces: TraceRecord[] = [];
  const logger = createLogger('silent');
  const channel = createSlackChannel({
    config: { signingSecret: SECRET, botToken: token, apiUrl: fake.apiUrl, botUserId: fake.botUserId },
    maxBodyBytes: 256 * 1024,
    logger,
    dedupe: new MemoryDedupe(),
    bot,
    tracer: { startTurn: (ids) => new TurnTrace(ids, (r) => traces.push(r)) },
    options,
  });
  const server: restify.Server = createHttpServer({
    logger,
    messages: async () => undefined,
    readiness: async () => ({ ready: true, checks: {} }),
    traces: { recent: async () => [], summary: async () => ({}) },
    isOperator: () => false,
    routes: [channel.install],
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    channel,
    bot,
    traces,
    async close() {
      await channel.idle();
      server.server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('Slack channel and adapter', () => {
  let fake: FakeSlackApi;
  let h: Harness;
  const send = (target: Harness, event: Record<string, unknown>) => signedPost(`${target.url}/api/slack/events`, SECRET, JSON.stringify(eventEnvelope(event, fake)));
  const dmEvent = (user: string, extra: Record<string, unknown>) => ({ type: 'message', channel: `D${user.slice(1)}`, channel_type: 'im', user, ts: userTs(), ...extra });

  beforeAll(async () => {
    fake = new FakeSlackApi({ tokensWithoutFilesRead: ['xoxb-no-files-read'] });
    await fake.start();
    h = await harness(fake, fake.token);
  });
  afterAll(async () => {
    await h?.close();
    await fake?.stop();
  });

  it('downloads shared files with the bot token and hands the bytes to the bot as attachments', async () => {
    const bytes = Buffer.from('PK\u0003\u0004 pretend this is a workbook');
    const file = fake.addFile('orders.xlsx', XLSX, bytes);
    // Slack's behaviour, which the fake reproduces: without the bearer token, a sign-in page.
    const anonymous = await fetch(file.url_private_download as string);
    expect(anonymous.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await anonymous.text()).toMatch(/Sign in to Slack/);

    expect((await send(h, dmEvent('U0FILES', { subtype: 'file_share', text: 'import these <@U0BOT>', files: [file] }))).status).toBe(200);
    await h.channel.idle();
    const activity = h.bot.received.at(-1)!;
    expect(activity).toMatchObject({ type: 'message', channelId: 'slack', text: 'import these', from: { id: 'U0FILES' }, conversation: { id: 'D0FILES' } });
    expect(activity.attachments).toHaveLength(1);
    const [attachment] = activity.attachments!;
    expect(attachment).toMatchObject({ contentType: XLSX, name: 'orders.xlsx' });
    expect(Buffer.isBuffer(attachment!.content)).toBe(true);
    expect((attachment!.content as Buffer).equals(bytes)).toBe(true);
  });

  it("reports Slack's sign-in page (token without files:read) clearly instead of passing it on as the file", async () => {
    const noScope = await harness(fake, 'xoxb-no-files-read');
    try {
      const file = fake.addFile('prices.xlsx', XLSX, Buffer.from('bytes'));
      const before = noScope.bot.received.length;
      await send(noScope, dmEvent('U0NOSCOPE', { subtype: 'file_share', text: '', files: [file] }));
      const reply = await fake.waitFor(() => fake.posted('D0NOSCOPE')[0], 10_000, 'the explanation');
      expect(reply.text).toBe(
        'I couldn\'t read "prices.xlsx": Slack sent me its sign-in page instead of the file, so this app is not allowed to read files. An admin needs to add the files:read scope to the Slack app and reinstall it.',
      );
      await noScope.channel.idle();
      expect(noScope.bot.received.length).toBe(before);
    } finally {
      await noScope.close();
    }
  });

  it('never sends the bot token outside Slack, and refuses files over the limit', async () => {
    const seen: (string | undefined)[] = [];
    const evil = http.createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.end('x');
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', () => resolve()));
    const small = await harness(fake, fake.token, { maxFileBytes: 4 });
    try {
      const port = (evil.address() as AddressInfo).port;
      await send(h, dmEvent('U0EVIL', { subtype: 'file_share', files: [{ id: 'F1', name: 'x.csv', mimetype: 'text/csv', size: 1, url_private_download: `http://127.0.0.1:${port}/x.csv` }] }));
      const refused = await fake.waitFor(() => fake.posted('D0EVIL')[0], 10_000, 'the refusal');
      expect(refused.text).toMatch(/^I couldn't download "x\.csv" from Slack \(refusing to send the bot token to http:\/\/127\.0\.0\.1:\d+\)/);
      expect(seen).toEqual([]);

      const big = fake.addFile('big.csv', 'text/csv', Buffer.from('0123456789'));
      await send(small, dmEvent('U0BIGFILE', { subtype: 'file_share', files: [big] }));
      const tooLarge = await fake.waitFor(() => fake.posted('D0BIGFILE')[0], 10_000, 'too large');
      expect(tooLarge.text).toBe('"big.csv" is too large for me (10 bytes; the limit is 4).');
    } finally {
      await small.close();
      await new Promise<void>((resolve) => evil.close(() => resolve()));
    }
  });

  it('uploads exports with files.uploadV2 into the conversation and its thread', async () => {
    const content = Buffer.from('number,supplier,total\nPO-1001,Acme Corp,90.00\n');
    const ids = await h.channel.uploadFile('C0PROC:1700000000.000100', { filename: 'orders.csv', content, title: 'Open orders', initialComment: 'Here you go' });
    expect(ids).toHaveLength(1);
    const upload = fake.uploads.get(ids[0]!);
    expect(upload).toMatchObject({ filename: 'orders.csv', length: content.length, channel: 'C0PROC', thread_ts: '1700000000.000100', title: 'Open orders' });
    expect(upload!.bytes!.equals(content)).toBe(true);
    expect(fake.callsOf('files.getUploadURLExternal').at(-1)!.args).toMatchObject({ filename: 'orders.csv', length: String(content.length) });
    expect(fake.callsOf('files.completeUploadExternal').at(-1)!.args).toMatchObject({ channel_id: 'C0PROC', thread_ts: '1700000000.000100', initial_comment: 'Here you go' });
  });

  it('sends, updates and deletes through the Web API; binary attachments become files; typing is dropped', async () => {
    h.bot.handler = async (context) => {
      await context.sendActivity({ type: 'typing' });
      const card = CardFactory.adaptiveCard({ type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlock', text: 'Export ready', weight: 'Bolder' }] });
      const sent = await context.sendActivity({ type: 'message', text: 'Here:', attachments: [card, { contentType: 'text/csv', name: 'export.csv', content: Buffer.from('a,b\n1,2\n') }] });
      await context.updateActivity({ id: sent!.id, type: 'message', conversation: context.activity.conversation, text: 'Here (updated)' });
      const doomed = await context.sendActivity('temporary');
      await context.deleteActivity(doomed!.id);
    };
    try {
      const ts = userTs();
      await send(h, { type: 'app_mention', channel: 'C0OUT', user: 'U0OUT', text: '<@U0BOT> export', ts });
      await h.channel.idle();
      const [message, ...rest] = fake.posted('C0OUT');
      expect(rest).toEqual([]); // "temporary" was deleted
      expect(message).toMatchObject({ text: 'Here (updated)', thread_ts: ts, edited: true });
      expect(message!.blocks).toBeUndefined(); // chat.update with blocks: [] cleared the card
      const update = fake.callsOf('chat.update').at(-1)!;
      expect(update.args).toMatchObject({ channel: 'C0OUT', ts: message!.ts, blocks: [] });
      const upload = [...fake.uploads.values()].find((u) => u.filename === 'export.csv');
      expect(upload).toMatchObject({ channel: 'C0OUT', thread_ts: ts });
      expect(fake.callsOf('chat.delete')).toHaveLength(1);
      expect(h.traces.at(-1)).toMatchObject({ channelId: 'slack', conversationId: `C0OUT:${ts}`, userId: 'U0OUT', outcome: 'ok' });
      expect(Object.keys(h.traces.at(-1)!.stages)).toEqual(expect.arrayContaining(['receive', 'send']));
    } finally {
      h.bot.handler = undefined;
    }
  });

  it('processes one conversation in order, even when Slack delivers faster than the bot answers', async () => {
    h.bot.handler = async (context) => {
      if (context.activity.text === 'first') await new Promise((r) => setTimeout(r, 300));
      await context.sendActivity(`got ${context.activity.text}`);
    };
    try {
      await send(h, dmEvent('U0ORDER', { text: 'first' }));
      await send(h, dmEvent('U0ORDER', { text: 'second' }));
      await h.channel.idle();
      expect(fake.posted('D0ORDER').map((m) => m.text)).toEqual(['got first', 'got second']);
    } finally {
      h.bot.handler = undefined;
    }
  });

  it('a click whose turn fails keeps the buttons (the apology is a new message)', async () => {
    h.bot.handler = async (context) => {
      if (context.activity.value) throw new Error('boom');
      await context.sendActivity({
        type: 'message',
        text: 'Pick one',
        attachments: [CardFactory.adaptiveCard({ type: 'AdaptiveCard', body: [], actions: [{ type: 'Action.Submit', title: 'Go', data: { verb: 'go' } }] })],
      });
    };
    try {
      await send(h, dmEvent('U0CLICK', { text: 'card please' }));
      const card: SlackMessage = await fake.waitFor(() => fake.posted('D0CLICK')[0], 10_000, 'the card');
      const updates = fake.callsOf('chat.update').length;
      const res = await signedPost(`${h.url}/api/slack/interactivity`, SECRET, interactivityBody(blockActionsPayload(fake, card, 'Go', 'U0CLICK')), {
        contentType: 'application/x-www-form-urlencoded',
      });
      expect(res.status).toBe(200);
      await h.channel.idle();
      expect(h.bot.received.at(-1)).toMatchObject({ value: { verb: 'go' }, replyToId: card.ts, from: { id: 'U0CLICK' } });
      expect(fake.callsOf('chat.update').length).toBe(updates);
      expect(fake.posted('D0CLICK').map((m) => m.text)).toEqual(['Pick one', 'Sorry, something went wrong on my side. Please try again.']);
      expect(fake.messages.get(`D0CLICK/${card.ts}`)!.blocks!.some((b) => b.type === 'actions')).toBe(true);
    } finally {
      h.bot.handler = undefined;
    }
  });

  it('proactive: sends to a stored reference, throws when Slack fails (so the notification is retried), opens DMs for users', async () => {
    const reference = {
      channelId: 'slack',
      serviceUrl: h.channel.serviceUrl,
      conversation: { id: 'C0NOTE:1700000000.000200' },
      user: { id: 'U0NOTE' },
      bot: { id: 'U0BOT' },
    } as Partial<ConversationReference>;
    expect(h.channel.proactive.owns(reference)).toBe(true);
    expect(h.channel.proactive.owns({ ...reference, serviceUrl: 'https://slack.botframework.com/' })).toBe(false);
    await h.channel.proactive.continueConversation(reference, async (context) => {
      await context.sendActivity('job 7 finished');
    });
    expect(fake.posted('C0NOTE')[0]).toMatchObject({ text: 'job 7 finished', thread_ts: '1700000000.000200' });
    fake.failNext('chat.postMessage', 'channel_not_found');
    await expect(h.channel.proactive.continueConversation(reference, (c) => c.sendActivity('lost').then(() => undefined))).rejects.toThrow(/channel_not_found/);

    const userReference = h.channel.proactive.userReference!;
    const opens = fake.callsOf('conversations.open').length;
    // A user last seen in a channel thread gets personal notifications in a DM…
    expect(await userReference('U0NOTE', reference)).toMatchObject({ channelId: 'slack', conversation: { id: 'D0NOTE', conversationType: 'personal' }, user: { id: 'U0NOTE' } });
    // …as does a Slack user the bot has never talked to; a DM reference is used as it is.
    expect(await userReference('U0NEW', undefined)).toMatchObject({ conversation: { id: 'D0NEW' } });
    const direct = { ...reference, conversation: { id: 'D0NOTE' } } as Partial<ConversationReference>;
    expect(await userReference('U0NOTE', direct)).toBe(direct);
    expect(fake.callsOf('conversations.open').length).toBe(opens + 2);
    // Not Slack users: left to the other channels.
    expect(await userReference('bob', undefined)).toBeUndefined();
    const teams = { channelId: 'msteams', serviceUrl: 'https://smba.trafficmanager.net/', conversation: { id: 'a:1' } } as Partial<ConversationReference>;
    expect(await userReference('U0TEAMS', teams)).toBeUndefined();
  });

  it('with SLACK_BOT_USER_ID set it does not call auth.test', async () => {
    const before = fake.callsOf('auth.test').length;
    const other = await harness(fake, fake.token);
    await other.close();
    expect(fake.callsOf('auth.test').length).toBe(before);
  });
});
