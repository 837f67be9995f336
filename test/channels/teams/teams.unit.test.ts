/**
 * The Teams building blocks on their own: retry timing and policy, mention handling, who is
 * welcomed, the outcome card, and the proactive-send error gap (CloudAdapter hands a failed send
 * to onTurnError and returns normally; the notifier's wrapper makes it throw).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { ClaimsIdentity } from 'botframework-connector';
import type { Activity } from 'botbuilder';
import { createAdapter } from '../../../src/bot/adapter.js';
import { outcomeLine, settledCard, updatesCards } from '../../../src/bot/cards/cardOutcome.js';
import { continueConversationOrThrow, statusOf } from '../../../src/bot/proactive/notifier.js';
import {
  CONNECTOR_RETRY_POLICY,
  RetryingBotFrameworkAuthentication,
  connectorRetryPolicy,
  installRetryPolicy,
  parseRetryAfter,
  retryDelay,
} from '../../../src/bot/teams/connectorRetry.js';
import { addressedToBot, botWasRemoved, membersToWelcome, mentionsRecipient, stripBotMention } from '../../../src/bot/teams/mentions.js';
import { ConnectorReceiver } from '../../../src/chat/connectorReceiver.js';
import { loadConfig } from '../../../src/config/config.js';
import { createLogger } from '../../../src/logger.js';
import { ConfigurationServiceClientCredentialFactory } from 'botbuilder';

const BOT = { id: '28:bot-app-id', name: 'RPA Assistant' };
const at = `<at>${BOT.name}</at>`;
const mention = { type: 'mention', mentioned: BOT, text: at };

function teamsMessage(fields: Partial<Activity> & Record<string, unknown>): Partial<Activity> {
  return {
    type: 'message',
    channelId: 'msteams',
    recipient: BOT,
    from: { id: '29:alice', name: 'Alice' },
    conversation: { id: 'a:1', conversationType: 'personal', isGroup: false, name: '' },
    ...fields,
  } as Partial<Activity>;
}
const inChannel = { conversation: { id: '19:c@thread.tacv2;messageid=1', conversationType: 'channel', isGroup: true, name: '' } };
const inGroup = { conversation: { id: '19:g@thread.v2', conversationType: 'groupChat', isGroup: true, name: '' } };

function memoryLogger() {
  const lines: { level: number; msg: string; [k: string]: unknown }[] = [];
  return { lines, logger: pino({ level: 'debug' }, { write: (l: string) => void lines.push(JSON.parse(l)) }) };
}

describe('Retry-After and backoff', () => {
  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter('0.5')).toBe(500);
    expect(parseRetryAfter(new Date(10_000 + 3000).toUTCString(), 10_000)).toBe(3000);
    expect(parseRetryAfter('Thu, 01 Jan 1970 00:00:00 GMT', 10_000)).toBe(0);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });

  it('backs off exponentially with jitter, capped; never sooner than Retry-After; gives up on a longer one', () => {
    const opts = { retries: 4, baseDelayMs: 100, maxDelayMs: 1000 };
    expect([0, 1, 2, 3, 4].map((r) => retryDelay(r, undefined, { ...opts, random: () => 0 }))).toEqual([50, 100, 200, 400, 500]);
    expect([0, 1, 2, 3, 4].map((r) => retryDelay(r, undefined, { ...opts, random: () => 1 }))).toEqual([100, 200, 400, 800, 1000]);
    expect(retryDelay(0, 700, { ...opts, random: () => 0 })).toBe(700);
    expect(retryDelay(0, 700, { ...opts, random: () => 1 })).toBeGreaterThan(700);
    expect(retryDelay(0, 700, { ...opts, random: () => 1 })).toBeLessThanOrEqual(800);
    expect(retryDelay(0, 5000, opts)).toBeUndefined();
  });
});

describe('connector retry policy', () => {
  const response = (status: number, headers: Record<string, string> = {}) => ({ status, headers: { get: (n: string) => headers[n.toLowerCase()] } });
  const request = { method: 'POST', url: 'https://smba.trafficmanager.net/amer/v3/conversations/a%3A1/activities/1?x=secret' };

  async function run(statuses: { status: number; headers?: Record<string, string> }[], retries = 3) {
    const { lines, logger } = memoryLogger();
    const waits: number[] = [];
    const policy = connectorRetryPolicy({ retries, baseDelayMs: 10, maxDelayMs: 2000, random: () => 0.5, sleep: async (ms) => void waits.push(ms) }, logger);
    let calls = 0;
    const final = await policy.sendRequest(request, async () => {
      const next = statuses[Math.min(calls, statuses.length - 1)]!;
      calls += 1;
      return response(next.status, next.headers);
    });
    return { final: final.status, calls, waits, lines };
  }

  it.each([429, 412, 502, 504])('retries %i, then succeeds', async (status) => {
    const result = await run([{ status }, { status: 200 }]);
    expect(result).toMatchObject({ final: 200, calls: 2 });
    expect(result.lines.map((l) => l.msg)).toEqual(['connector call failed: retrying']);
  });

  it.each([400, 401, 403, 404, 500, 503])('does not retry %i', async (status) => {
    expect(await run([{ status }, { status: 200 }])).toMatchObject({ final: status, calls: 1, waits: [] });
  });

  it('honours Retry-After on a 429', async () => {
    const result = await run([{ status: 429, headers: { 'retry-after': '1' } }, { status: 200 }]);
    expect(result.waits[0]).toBeGreaterThanOrEqual(1000);
  });

  it('gives up after the retries with an error log (path only, no query string)', async () => {
    const result = await run([{ status: 502 }], 3);
    expect(result).toMatchObject({ final: 502, calls: 4, waits: [8, 15, 30] });
    const last = result.lines.at(-1)!;
    expect(last).toMatchObject({ level: 50, msg: 'connector call failed: giving up after retries', status: 502, attempt: 4 });
    expect(last.path).toBe('/amer/v3/conversations/a%3A1/activities/1');
  });

  it('gives up at once when Retry-After asks for longer than it waits', async () => {
    const result = await run([{ status: 429, headers: { 'retry-after': '30' } }, { status: 200 }]);
    expect(result).toMatchObject({ final: 429, calls: 1, waits: [] });
  });

  it("replaces the SDK's retry policy on the connector clients the adapter's authentication creates", async () => {
    const settings = { MicrosoftAppId: '', MicrosoftAppPassword: '' };
    const auth = new RetryingBotFrameworkAuthentication(
      settings,
      new ConfigurationServiceClientCredentialFactory(settings),
      { retries: 1, baseDelayMs: 1, maxDelayMs: 1 },
      createLogger('silent'),
    );
    const client = await auth.createConnectorFactory(new ClaimsIdentity([], true)).create('http://127.0.0.1:9', undefined);
    const names = (client as unknown as { client: { pipeline: { getOrderedPolicies(): { name: string }[] } } }).client.pipeline
      .getOrderedPolicies()
      .map((p) => p.name);
    expect(names).toContain(CONNECTOR_RETRY_POLICY);
    expect(names).not.toContain('defaultRetryPolicy');
    expect(installRetryPolicy(client, { name: CONNECTOR_RETRY_POLICY, sendRequest: async (r, next) => next(r) })).toBe(true);
  });
});

describe('proactive sends: failures reach the caller', () => {
  const receiver = new ConnectorReceiver();
  const config = loadConfig({ LOG_LEVEL: 'silent', BOT_SEND_RETRIES: '0' });
  const reference = () => ({ channelId: 'msteams', serviceUrl: receiver.serviceUrl, conversation: { id: 'a:proactive' }, bot: BOT, user: { id: '29:alice' } });
  beforeAll(() => receiver.start());
  afterAll(() => receiver.stop());

  it('CloudAdapter.continueConversationAsync alone returns normally when the send failed (the gap); the wrapper throws', async () => {
    const remove = receiver.inject({ status: 403, code: 'BotNotInConversationRoster' });
    try {
      const adapter = createAdapter(config, createLogger('silent'));
      let sent = false;
      await adapter.continueConversationAsync('', reference() as never, async (context) => {
        await context.sendActivity('hello');
        sent = true;
      });
      expect(sent).toBe(false); // the send threw, onTurnError swallowed it

      const error = await continueConversationOrThrow(adapter, '', reference() as never, async (context) => {
        await context.sendActivity('hello');
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(statusOf(error)).toBe(403);
      expect(receiver.received).toEqual([]);
    } finally {
      remove();
    }
    await continueConversationOrThrow(createAdapter(config, createLogger('silent')), '', reference() as never, async (context) => {
      await context.sendActivity('hello again');
    });
    expect(receiver.received.map((r) => r.activity.text)).toEqual(['hello again']);
  });
});

describe('turn replies: the same retry policy as proactive sends', () => {
  const receiver = new ConnectorReceiver();
  beforeAll(() => receiver.start());
  afterAll(() => receiver.stop());

  // The SDK's default policy (what a turn's clients had before) does not retry 412: Teams answers it
  // to concurrent updates and asks for a retry.
  it.each([
    { retries: '2', statuses: [412, 200], delivered: ['hello'] },
    { retries: '0', statuses: [412], delivered: [] },
  ])('a reply answered 412 once, BOT_SEND_RETRIES=$retries → attempts $statuses', async ({ retries, statuses, delivered }) => {
    const config = loadConfig({ LOG_LEVEL: 'silent', BOT_SEND_RETRIES: retries, BOT_SEND_RETRY_BASE_MS: '5', BOT_SEND_RETRY_MAX_MS: '20' });
    const conversation = `a:turn-412-${retries}`;
    const remove = receiver.inject({ match: (a) => a.conversationId === conversation, status: 412, times: 1 });
    try {
      const adapter = createAdapter(config, createLogger('silent'));
      const inbound = { type: 'message', id: 'in-1', text: 'hi', channelId: 'msteams', serviceUrl: receiver.serviceUrl, from: { id: '29:u', name: 'U' }, recipient: BOT, conversation: { id: conversation } };
      let failed: unknown;
      await adapter.processInbound('', inbound as never, async (context) => {
        await context.sendActivity('hello').catch((e: unknown) => (failed = e));
      });
      expect(receiver.attempts.filter((a) => a.conversationId === conversation).map((a) => a.status)).toEqual(statuses);
      expect(receiver.received.filter((r) => r.conversationId === conversation).map((r) => r.activity.text)).toEqual(delivered);
      expect(failed === undefined).toBe(delivered.length > 0);
    } finally {
      remove();
    }
  });
});

describe('Teams mentions', () => {
  it('personal chats answer everything; channels and group chats only an @mention or a card click', () => {
    expect(addressedToBot(teamsMessage({ text: 'hi' }))).toBe(true);
    expect(addressedToBot(teamsMessage({ ...inChannel, text: 'hi' }))).toBe(false);
    expect(addressedToBot(teamsMessage({ ...inGroup, text: 'hi' }))).toBe(false);
    expect(addressedToBot(teamsMessage({ ...inChannel, text: `${at} hi`, entities: [mention] }))).toBe(true);
    expect(addressedToBot(teamsMessage({ ...inGroup, value: { verb: 'confirm', nonce: 'n' } }))).toBe(true);
    const someoneElse = { type: 'mention', mentioned: { id: '29:bob', name: 'Bob' }, text: '<at>Bob</at>' };
    expect(addressedToBot(teamsMessage({ ...inChannel, text: '<at>Bob</at> hi', entities: [someoneElse] }))).toBe(false);
  });

  it.each([
    [`${at} what is the status of PO-1002`, 'what is the status of PO-1002'],
    [`${at}\u00a0hi`, 'hi'],
    [`${at}, approve PO-1004`, 'approve PO-1004'],
    [`please ${at} show me pending orders`, 'please show me pending orders'],
    [`${at} hi ${at}`, 'hi'],
  ])('strips the mention: %j → %j', (text, expected) => {
    const activity = teamsMessage({ ...inChannel, text, entities: [mention, { type: 'clientInfo', locale: 'en-US' }] });
    stripBotMention(activity);
    expect(activity.text).toBe(expected);
  });

  it('never throws on malformed entities, and leaves text without a bot mention alone', () => {
    const activity = teamsMessage({
      ...inChannel,
      text: `${at} hi`,
      entities: [{ type: 'mention' }, { mentioned: BOT }, null, { type: 'mention', mentioned: BOT }] as never,
    });
    expect(mentionsRecipient(activity)).toBe(true);
    expect(() => stripBotMention(activity)).not.toThrow();
    expect(activity.text).toBe(`${at} hi`); // no mention text to remove: left as it is
    const plain = teamsMessage({ text: '  hi  ' });
    stripBotMention(plain);
    expect(plain.text).toBe('  hi  ');
  });

  it('welcomes once when the bot is added in Teams, nobody when others join; elsewhere each new member', () => {
    const added = (members: { id: string }[], channelId = 'msteams') =>
      membersToWelcome({ type: 'conversationUpdate', channelId, recipient: BOT, from: { id: '29:alice', name: 'Alice' }, membersAdded: members } as never);
    expect(added([{ id: BOT.id }])).toEqual([{ id: '29:alice', name: 'Alice' }]);
    expect(added([{ id: BOT.id }, { id: '29:bob' }])).toHaveLength(1);
    expect(added([{ id: '29:bob' }, { id: '29:carol' }])).toEqual([]);
    expect(added([{ id: 'user-1' }, { id: BOT.id }], 'webchat')).toEqual([{ id: 'user-1' }]);
  });

  it('knows when the bot was removed', () => {
    expect(botWasRemoved({ type: 'installationUpdate', action: 'remove' })).toBe(true);
    expect(botWasRemoved({ type: 'installationUpdate', action: 'add' })).toBe(false);
    expect(botWasRemoved({ type: 'conversationUpdate', recipient: BOT, membersRemoved: [{ id: BOT.id, name: '' }] } as never)).toBe(true);
    expect(botWasRemoved({ type: 'conversationUpdate', recipient: BOT, membersRemoved: [{ id: '29:bob', name: '' }] } as never)).toBe(false);
  });
});

describe('outcome cards', () => {
  it.each([
    [{ kind: 'decided', verb: 'confirm' }, '✅ Confirmed by Alice'],
    [{ kind: 'decided', verb: 'cancel' }, '✖️ Cancelled by Alice'],
    [{ kind: 'decided', verb: 'do', action: 'procurement.approve_order' }, '✅ Approved by Alice'],
    [{ kind: 'decided', verb: 'do', action: 'procurement.reject_order' }, '❌ Rejected by Alice'],
    [{ kind: 'decided', verb: 'do', action: 'storage.move_stock' }, '✅ Done by Alice'],
    [{ kind: 'refused', text: "PO-1 isn't waiting for approval: it is confirmed." }, "⚠️ Not done (Alice): PO-1 isn't waiting for approval: it is confirmed."],
  ] as const)('%j → %s', (outcome, line) => {
    expect(outcomeLine(outcome, 'Alice')).toBe(line);
  });

  it('keeps what the card showed, drops its buttons, stays Adaptive Cards 1.5', () => {
    const card = settledCard('✅ Confirmed by Alice', {
      title: 'Order from Acme Corp',
      facts: [{ title: 'Total', value: '$100.00' }],
      actions: [{ title: 'Confirm', data: { verb: 'confirm', nonce: 'n' } }],
    });
    expect(card).toMatchObject({ type: 'AdaptiveCard', version: '1.5' });
    expect(card.actions).toBeUndefined();
    expect(JSON.stringify(card.body)).toContain('Order from Acme Corp');
    expect((card.body as { text?: string }[]).at(-1)!.text).toBe('✅ Confirmed by Alice');
  });

  it('is not used where the channel settles cards itself (native Slack) or shows none', () => {
    expect(updatesCards('msteams')).toBe(true);
    expect(updatesCards('webchat')).toBe(true);
    expect(updatesCards('slack', 'http://127.0.0.1:1/api/')).toBe(false);
    expect(updatesCards('sms')).toBe(false);
  });
});
