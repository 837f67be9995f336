/**
 * Native Slack end to end, on both databases: the real server (POST /api/slack/events and
 * /api/slack/interactivity, signed exactly as Slack signs) talking to a local fake of the Slack
 * Web API through SLACK_API_URL. Signatures, url_verification, event de-duplication and retries,
 * bot messages ignored, mentions answered in threads, and a whole order by chat with a button
 * click: Block Kit card → click → the card updated with the outcome → the notification, and an
 * approver reached in a DM opened with conversations.open.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../../../src/app.js';
import { databaseTargets, type TestDatabase } from '../../helpers/databases.js';
import {
  blockActionsPayload,
  eventEnvelope,
  FakeSlackApi,
  interactivityBody,
  signedPost,
  userTs,
  type Block,
  type SlackMessage,
} from '../../helpers/fakeSlackApi.js';
import { IntentTableRecognizer } from '../../helpers/intentTable.js';
import { eventually, rows, startProcurementApp, TEST_INTENT_PATTERNS, TEST_INTENTS, TEST_ROLES } from '../../helpers/procurementFixture.js';

const targets = await databaseTargets();
const SECRET = 'slack-signing-secret-for-tests-0123';
const FORM = 'application/x-www-form-urlencoded';

describe.each(targets)('native Slack on $name', (target) => {
  let t: TestDatabase;
  let app: RunningApp;
  let fake: FakeSlackApi;
  // The intent table (not the shipped model): these tests are about the channel, and the table
  // records exactly what text reached the NLU.
  const recognizer = new IntentTableRecognizer(TEST_INTENTS, TEST_INTENT_PATTERNS);

  const events = (body: unknown, options: Parameters<typeof signedPost>[3] = {}) =>
    signedPost(`${app.url}/api/slack/events`, SECRET, typeof body === 'string' ? body : JSON.stringify(body), options);
  const click = (payload: Record<string, unknown>, options: Parameters<typeof signedPost>[3] = {}) =>
    signedPost(`${app.url}/api/slack/interactivity`, SECRET, interactivityBody(payload), { contentType: FORM, ...options });
  const dmChannel = (user: string) => `D${user.slice(1)}`;
  const dm = (user: string, text: string, extra: Record<string, unknown> = {}) =>
    eventEnvelope({ type: 'message', channel: dmChannel(user), channel_type: 'im', user, text, ts: userTs(), client_msg_id: `${Math.random()}`, ...extra }, fake);
  /** Waits for the bot's next message in `channel` after the first `after` ones. */
  const nextMessage = (channel: string, after: number, what = `a message in ${channel}`) =>
    fake.waitFor(() => fake.posted(channel)[after], 15_000, what);
  const texts = (channel: string) => fake.posted(channel).map((m) => m.text);
  const eventRow = async (eventId: string) =>
    (await rows<{ status: string; attempts: number }>(app.db.dataSource, 'SELECT status, attempts FROM slack_events WHERE event_id = $1', [eventId]))[0];

  beforeAll(async () => {
    if (target.skip) return;
    fake = new FakeSlackApi();
    await fake.start();
    t = await target.create();
    await t.db.close();
    app = await startProcurementApp(t.config, {
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_BOT_TOKEN: fake.token,
      SLACK_API_URL: fake.apiUrl,
      USER_ROLES: `${TEST_ROLES},U0APPROVER=approver`,
      MAX_BODY_BYTES: '65536',
    }, { recognizer });
    // The bot asks Slack who it is at start (no SLACK_BOT_USER_ID given).
    await fake.waitFor(() => fake.callsOf('auth.test').length > 0, 10_000, 'auth.test');
  });

  afterAll(async () => {
    await app?.close();
    await fake?.stop();
    await t?.dispose();
  });

  it.skipIf(target.skip)('answers the url_verification challenge', async () => {
    const res = await events({ token: 'legacy', challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P', type: 'url_verification' });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' });
  });

  it.skipIf(target.skip)('refuses unsigned, tampered, stale, future and garbled requests with 401, before reading them', async () => {
    const calls = fake.calls.length;
    const body = JSON.stringify(dm('U0MALLORY', 'hi'));
    // Well past the 300 s window: `now` is read once, and the loop below can take seconds on a busy
    // machine (the exact ±300/301 s boundary is tested with a fixed clock in slack.unit).
    const now = Math.floor(Date.now() / 1000);
    const cases: [string, Parameters<typeof signedPost>[3]][] = [
      ['tampered body', { signedBody: body.replace('hi', 'ho') }],
      ['stale timestamp', { timestamp: now - 900 }],
      ['future timestamp', { timestamp: now + 900 }],
      ['short signature', { signature: 'v0=abc' }],
      ['garbled signature', { signature: 'not-a-signature' }],
      ['empty signature', { signature: '' }],
      ['another secret', { signature: `v0=${'0'.repeat(64)}` }],
    ];
    for (const [name, options] of cases) {
      for (const path of ['events', 'interactivity'] as const) {
        const res = await signedPost(`${app.url}/api/slack/${path}`, SECRET, path === 'events' ? body : interactivityBody({ type: 'block_actions' }), options);
        expect(res.status, `${name} on ${path}`).toBe(401);
        expect(res.json).toEqual({ error: { code: 'unauthorized', message: 'Unauthorized.' } });
      }
    }
    // No headers at all; and garbage that is not even JSON is still a 401, not a 400 or 500.
    const bare = await fetch(`${app.url}/api/slack/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(bare.status).toBe(401);
    expect((await events('{not json', { signature: 'v0=00' })).status).toBe(401);
    // A signed but malformed body is the client's fault (400), never a 500.
    expect((await events('{not json')).status).toBe(400);
    expect((await click({ type: 'block_actions' }, { contentType: FORM, signedBody: undefined })).status).toBe(200);
    expect((await signedPost(`${app.url}/api/slack/interactivity`, SECRET, 'payload=%7Bbroken', { contentType: FORM })).status).toBe(400);
    await new Promise((r) => setTimeout(r, 200));
    expect(fake.calls.length).toBe(calls);
  });

  it.skipIf(target.skip)('refuses bodies over MAX_BODY_BYTES with 413', async () => {
    const res = await events(dm('U0BIG', 'x'.repeat(70_000)));
    expect(res.status).toBe(413);
  });

  it.skipIf(target.skip)('a DM is acknowledged at once and answered in the DM', async () => {
    const envelope = dm('U0ALICE', 'hi');
    const res = await events(envelope);
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    expect(res.ms).toBeLessThan(3000);
    const reply = await nextMessage('D0ALICE', 0);
    expect(reply.text).toMatch(/^Hi! What can I do for you\?/);
    expect(reply.thread_ts).toBeUndefined();
    expect(reply.blocks).toBeUndefined();
    await eventually(async () => (await eventRow(envelope.event_id))?.status === 'done', 5_000, 'the event done');
    expect(await eventRow(envelope.event_id)).toEqual({ status: 'done', attempts: 1 });
    // The turn went through the same tracing as /api/messages.
    const traces = await eventually(async () => {
      const r = await rows<{ channel_id: string; user_id: string; intent: string }>(
        app.db.dataSource,
        "SELECT channel_id, user_id, intent FROM turn_traces WHERE conversation_id = 'D0ALICE'",
      );
      return r.length > 0 ? r : undefined;
    });
    expect(traces[0]).toEqual({ channel_id: 'slack', user_id: 'U0ALICE', intent: 'assistant.greet' });
  });

  it.skipIf(target.skip)('an app_mention in a channel is answered in its thread, with the mention stripped before the NLU', async () => {
    const ts = userTs();
    await events(eventEnvelope({ type: 'app_mention', channel: 'C0PROC', channel_type: 'channel', user: 'U0ALICE', text: '<@U0BOT> hi', ts }, fake));
    const reply = await nextMessage('C0PROC', 0);
    expect(reply.thread_ts).toBe(ts);
    expect(reply.text).toMatch(/^Hi! What can I do for you\?/);
    expect(recognizer.seen.at(-1)).toBe('hi');
    // A mention inside the thread continues the same conversation, in the same thread.
    await events(eventEnvelope({ type: 'app_mention', channel: 'C0PROC', user: 'U0ALICE', text: 'thanks <@U0BOT>, help', ts: userTs(), thread_ts: ts }, fake));
    await events(eventEnvelope({ type: 'app_mention', channel: 'C0PROC', user: 'U0ALICE', text: '<@U0BOT> help', ts: userTs(), thread_ts: ts }, fake));
    const help = await nextMessage('C0PROC', 2);
    expect(help.thread_ts).toBe(ts);
    expect(help.text).toMatch(/^I'm the operations assistant/);
    expect(recognizer.seen.slice(-2)).toEqual(['thanks, help', 'help']);
    expect(recognizer.seen.some((text) => text.includes('<@'))).toBe(false);
    // Channel messages that don't mention the bot are not for it.
    await events(eventEnvelope({ type: 'message', channel: 'C0PROC', channel_type: 'channel', user: 'U0ALICE', text: 'hi', ts: userTs() }, fake));
    await new Promise((r) => setTimeout(r, 300));
    expect(fake.posted('C0PROC')).toHaveLength(3);
  });

  it.skipIf(target.skip)("ignores the bot's own messages, other bots, edits and deletions", async () => {
    const channel = 'D0BOB';
    const ignored = [
      dm('U0BOB', 'hi', { user: 'U0BOT', bot_id: 'B0BOT', app_id: 'A0APP' }),
      dm('U0BOB', 'hi', { user: 'U0BOT' }),
      dm('U0BOB', 'hi', { subtype: 'bot_message', bot_id: 'B0OTHER', user: undefined }),
      dm('U0BOB', 'hi', { subtype: 'message_changed', message: { text: 'hi', user: 'U0BOB' } }),
      dm('U0BOB', 'hi', { subtype: 'message_deleted', previous_message: { text: 'hi' } }),
      dm('U0BOB', 'hi', { subtype: 'channel_join' }),
    ];
    for (const envelope of ignored) expect((await events(envelope)).status).toBe(200);
    await events(dm('U0BOB', 'hello')); // a barrier: answered after anything queued before it
    await nextMessage(channel, 0);
    await new Promise((r) => setTimeout(r, 300));
    expect(texts(channel)).toHaveLength(1);
    for (const envelope of ignored) expect(await eventRow(envelope.event_id)).toBeUndefined();
  });

  it.skipIf(target.skip)('a re-delivered event (same event_id, x-slack-retry-num) is answered once', async () => {
    const channel = 'D0CAROL';
    const envelope = dm('U0CAROL', 'hi');
    const [first, second] = await Promise.all([events(envelope), events(envelope, { headers: { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' } })]);
    expect([first.status, second.status]).toEqual([200, 200]);
    await nextMessage(channel, 0);
    expect((await events(envelope, { headers: { 'x-slack-retry-num': '2', 'x-slack-retry-reason': 'http_timeout' } })).status).toBe(200);
    await events(dm('U0CAROL', 'help'));
    await nextMessage(channel, 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(texts(channel)).toHaveLength(2);
    expect(await eventRow(envelope.event_id)).toEqual({ status: 'done', attempts: 1 });
  });

  it.skipIf(target.skip)('a re-delivery of an event whose first processing failed is processed', async () => {
    const channel = 'D0DAVE';
    // Slack is down for the reply and for the apology: the turn fails.
    fake.failNext('chat.postMessage', 'fatal_error', 2);
    const envelope = dm('U0DAVE', 'hi');
    expect((await events(envelope)).status).toBe(200);
    await eventually(async () => (await eventRow(envelope.event_id))?.status === 'failed', 15_000, 'the failed event');
    expect(fake.posted(channel)).toHaveLength(0);
    expect((await events(envelope, { headers: { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_error' } })).status).toBe(200);
    const reply = await nextMessage(channel, 0);
    expect(reply.text).toMatch(/^Hi! What can I do for you\?/);
    await eventually(async () => (await eventRow(envelope.event_id))?.status === 'done', 5_000, 'the event done');
    expect(await eventRow(envelope.event_id)).toEqual({ status: 'done', attempts: 2 });
  });

  it.skipIf(target.skip)('a whole order: Block Kit card → Confirm click → the card settled with the outcome → the notification', async () => {
    const channel = 'D0BUYER';
    const request = dm('U0BUYER', 'order 20 units of SKU-1001 from Acme Corp');
    await events(request);
    const card = await nextMessage(channel, 0, 'the confirmation card');
    // Fallback text for notifications; the blocks are the card.
    expect(card.text).toBe('Please confirm (or reply yes / no, or tell me what to change):');
    const blocks = card.blocks as Block[];
    expect(blocks[0]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: 'Please confirm (or reply yes / no, or tell me what to change):' } });
    expect(blocks).toContainEqual({ type: 'section', text: { type: 'mrkdwn', text: '*Create this purchase order?*' } });
    const fields = blocks.filter((b) => b.type === 'section' && b.fields).flatMap((b) => (b.fields as { type: string; text: string }[]).map((f) => f.text));
    expect(fields).toContain('*Supplier*\nAcme Corp');
    expect(fields).toContain('*SKU-1001*\nsteel bearings 6204 · 20 pieces · $4.50 · $90.00');
    expect(fields.some((f) => /^\*Total\*\n\$90\.00/.test(f))).toBe(true);
    const actions = blocks.filter((b) => b.type === 'actions');
    expect(actions).toHaveLength(1);
    const buttons = actions[0]!.elements as { action_id: string; text: { type: string; text: string }; value: string; style?: string }[];
    expect(buttons.map((b) => [b.text.type, b.text.text, b.style])).toEqual([
      ['plain_text', 'Confirm', 'primary'],
      ['plain_text', 'Edit', undefined],
      ['plain_text', 'Cancel', 'danger'],
    ]);
    const values = buttons.map((b) => JSON.parse(b.value) as Record<string, string>);
    expect(values.map((v) => v.verb)).toEqual(['confirm', 'edit', 'cancel']);
    // The nonce the server issued, and the request's own message ts as the reference.
    for (const v of values) expect(v).toEqual({ verb: v.verb, nonce: values[0]!.nonce, ref: request.event.ts });
    expect(buttons.every((b) => b.value.length <= 2000)).toBe(true);

    const res = await click(blockActionsPayload(fake, card, 'Confirm', 'U0BUYER'));
    expect(res.status).toBe(200);
    expect(res.ms).toBeLessThan(3000);
    const settled = await fake.waitFor(() => {
      const m = fake.messages.get(`${channel}/${card.ts}`);
      return m?.edited ? m : undefined;
    }, 15_000, 'the card update');
    expect(fake.callsOf('chat.update').filter((c) => c.args.ts === card.ts)).toHaveLength(1);
    const after = settled.blocks as Block[];
    expect(after.some((b) => b.type === 'actions')).toBe(false); // nobody clicks twice
    expect(after).toContainEqual({ type: 'section', text: { type: 'mrkdwn', text: '*Create this purchase order?*' } });
    expect(after.at(-2)).toEqual({ type: 'context', elements: [{ type: 'mrkdwn', text: '<@U0BUYER> chose *Confirm*' }] });
    expect((after.at(-1) as unknown as { text: { text: string } }).text.text).toMatch(/^On it: job \d+ is placing the order with Acme Corp \(20 pieces of SKU-1001, total \$90\.00\)/);
    expect(settled.text).toMatch(/^On it: job \d+/);

    const notice = await fake.waitFor(() => fake.posted(channel).find((m) => /✅ PO-\d+ is placed: Acme Corp confirmed it/.test(m.text)), 20_000, 'the notification');
    const po = /PO-\d+/.exec(notice.text)![0];
    // The outcome is in the card, not posted a second time.
    expect(fake.posted(channel).filter((m) => m.ts !== card.ts && /^On it/.test(m.text))).toHaveLength(0);
    const [order] = await rows<{ status: string; requested_by: string }>(app.db.dataSource, 'SELECT status, requested_by FROM purchase_orders WHERE number = $1', [po]);
    expect(order).toEqual({ status: 'confirmed', requested_by: 'U0BUYER' });
    const audit = await rows<{ channel_id: string; conversation_id: string }>(
      app.db.dataSource,
      "SELECT channel_id, conversation_id FROM audit_log WHERE action = 'procurement.create_order' AND actor_id = 'U0BUYER'",
    );
    expect(audit[0]).toEqual({ channel_id: 'slack', conversation_id: channel });
  });

  it.skipIf(target.skip)('an approver who never wrote to the bot gets the approval card in a DM (conversations.open) and approves with a click', async () => {
    const buyer = 'D0BUYERTWO';
    await events(dm('U0BUYERTWO', 'order 80 units of SKU-1005 from Acme Corp'));
    const card = await nextMessage(buyer, 0, 'the confirmation card');
    await click(blockActionsPayload(fake, card, 'Confirm', 'U0BUYERTWO'));
    const waiting = await fake.waitFor(() => fake.posted(buyer).find((m) => /🕒 PO-\d+ is created and waiting for approval/.test(m.text)), 20_000, 'waiting');
    const po = /PO-\d+/.exec(waiting.text)![0];

    await fake.waitFor(() => fake.callsOf('conversations.open').find((c) => c.args.users === 'U0APPROVER'), 20_000, 'conversations.open');
    const request = await fake.waitFor(() => fake.posted('D0APPROVER').find((m) => m.text.includes(`Approval needed for ${po}`)), 20_000, 'the approval card');
    const buttons = (request.blocks ?? []).filter((b) => b.type === 'actions').flatMap((b) => b.elements as { text: { text: string } }[]);
    expect(buttons.map((b) => b.text.text)).toEqual(['Approve', 'Reject']);

    await click(blockActionsPayload(fake, request, 'Approve', 'U0APPROVER'));
    const settled = await fake.waitFor(() => {
      const m: SlackMessage | undefined = fake.messages.get(`D0APPROVER/${request.ts}`);
      return m?.edited ? m : undefined;
    }, 15_000, 'the approval card update');
    expect(settled.blocks?.some((b) => b.type === 'actions')).toBe(false);
    expect(JSON.stringify(settled.blocks)).toContain('<@U0APPROVER> chose *Approve*');
    await fake.waitFor(() => fake.posted(buyer).find((m) => new RegExp(`✅ ${po} is placed`).test(m.text)), 20_000, 'the placed notification');
    const [order] = await rows<{ status: string; approved_by: string | null }>(app.db.dataSource, 'SELECT status, approved_by FROM purchase_orders WHERE number = $1', [po]);
    expect(order).toEqual({ status: 'confirmed', approved_by: 'U0APPROVER' });
  });

  it.skipIf(target.skip)('acknowledges interactivity it does not use (link buttons, shortcuts) without doing anything', async () => {
    const before = fake.posted('D0ALICE').length;
    expect((await click({ type: 'shortcut', callback_id: 'x', user: { id: 'U0ALICE' } })).status).toBe(200);
    const card: SlackMessage = {
      channel: 'D0ALICE',
      ts: '1700000000.000001',
      text: 'x',
      user: 'U0BOT',
      bot_id: 'B0BOT',
      blocks: [{ type: 'actions', elements: [{ type: 'button', action_id: 'url:0', text: { type: 'plain_text', text: 'Open' }, url: 'https://example.com' }] }],
    };
    expect((await click(blockActionsPayload(fake, card, 'Open', 'U0ALICE'))).status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(fake.posted('D0ALICE')).toHaveLength(before);
    expect(fake.callsOf('chat.update').filter((c) => c.args.ts === card.ts)).toEqual([]);
  });
});
