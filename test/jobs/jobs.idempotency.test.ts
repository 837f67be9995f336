/**
 * Exactly once per request, on both databases. Channels re-deliver a confirmation when the bot is
 * slow, sometimes under a new activity id, and pg-boss delivers at least once. Ten concurrent
 * deliveries of one confirmation plus a late copy with a new activity id must create one purchase
 * order, one job, and one reply + one notification in the conversation.
 */
import { describe, expect, it } from 'vitest';
import { QUEUES } from '../../src/jobs/JobSystem.js';
import { idempotencyKey } from '../../src/skills/runtime.js';
import { allText, ChatUser, toReply } from '../helpers/chatUser.js';
import { databaseTargets } from '../helpers/databases.js';
import { eventually, rows, useSkillApp } from '../helpers/procurementFixture.js';
import { post } from '../helpers/testApp.js';

const targets = await databaseTargets();

describe('idempotency keys', () => {
  it('depend on channel, conversation, the request activity and the nonce — not on the confirming activity', () => {
    const origin = { channelId: 'msteams', conversationId: 'a:1' };
    const key = idempotencyKey(origin, 'activity-1', 'nonce-1');
    expect(key).toMatch(/^rpa1-[0-9a-f]{64}$/);
    expect(idempotencyKey({ ...origin }, 'activity-1', 'nonce-1')).toBe(key);
    expect(idempotencyKey(origin, 'activity-1', 'nonce-2')).not.toBe(key);
    expect(idempotencyKey(origin, 'activity-2', 'nonce-1')).not.toBe(key);
    expect(idempotencyKey({ ...origin, conversationId: 'a:2' }, 'activity-1', 'nonce-1')).not.toBe(key);
    expect(idempotencyKey({ ...origin, channelId: 'slack' }, 'activity-1', 'nonce-1')).not.toBe(key);
  });
});

describe.each(targets)('exactly once on $name', (target) => {
  const fixture = useSkillApp(target, { SIMULATOR_DELAY_MS: '200' });

  const ordersOf = (user: ChatUser) =>
    rows<{ number: string }>(fixture.app.db.dataSource, 'SELECT number FROM purchase_orders WHERE requested_by = $1', [user.userId]);
  const jobsOf = (user: ChatUser) =>
    rows<{ id: string; idempotency_key: string }>(fixture.app.db.dataSource, 'SELECT id, idempotency_key FROM automation_jobs WHERE requested_by = $1', [
      user.userId,
    ]);

  it.skipIf(target.skip)('10 concurrent deliveries of one Confirm + a late copy with a new activity id → one order, one reply, one notification', async () => {
    const user = new ChatUser(() => fixture.app.url, fixture.receiver, 'dup-channel', 'Dup Channel');
    await user.say('order 20 units of SKU-1001 from Acme Corp');
    const confirm = user.buttonValue('Confirm');
    // As a channel re-delivers: same payload, each copy with its own activity id, replies posted
    // to the serviceUrl (no expectReplies) — what the user would see.
    const copies = Array.from({ length: 10 }, () => user.activity({ text: '', value: confirm }));
    const responses = await Promise.all(copies.map((a) => post(`${fixture.app.url}/api/messages`, a)));
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));

    const [placed] = await user.waitForNotification(/✅ PO-\d+ is placed/);
    const late = await post(`${fixture.app.url}/api/messages`, user.activity({ text: '', value: confirm }));
    expect(late.status).toBe(200);
    await new Promise((r) => setTimeout(r, 500)); // anything a duplicate might still send

    expect(await ordersOf(user)).toHaveLength(1);
    expect(await jobsOf(user)).toHaveLength(1);
    expect(placed!.text).toContain((await ordersOf(user))[0]!.number);
    const inConversation = fixture.receiver.received.filter((r) => r.conversationId === user.conversationId).map((r) => toReply(r.activity).text);
    expect(inConversation.filter((text) => /^On it: job \d+/.test(text))).toHaveLength(1);
    expect(inConversation.filter((text) => /is placed/.test(text))).toHaveLength(1);
    // pg-boss got one message for it, sent in the same transaction as the key.
    const [job] = await jobsOf(user);
    const boss = await rows(fixture.app.db.dataSource, `SELECT 1 FROM pgboss.job WHERE name = $1 AND (data->>'jobId')::bigint = $2`, [QUEUES.run, job!.id]);
    expect(boss).toHaveLength(1);
  });

  it.skipIf(target.skip)('with expectReplies every copy gets the stored first outcome in its own response', async () => {
    const user = new ChatUser(() => fixture.app.url, fixture.receiver, 'dup-body', 'Dup Body');
    await user.say('order 20 units of SKU-1001 from Acme Corp');
    const confirm = user.buttonValue('Confirm');
    const replies = await Promise.all(
      Array.from({ length: 10 }, () => user.send(user.activity({ text: '', value: confirm, deliveryMode: 'expectReplies' }))),
    );
    const texts = replies.map(allText);
    expect(texts[0]).toMatch(/^On it: job \d+ is placing the order with Acme Corp/);
    expect(new Set(texts).size).toBe(1);
    await user.waitForNotification(/✅ PO-\d+ is placed/);
    // Late, new activity id, after the dialog is over: still the same stored outcome.
    expect(allText(await user.send(user.activity({ text: '', value: confirm, deliveryMode: 'expectReplies' })))).toBe(texts[0]);
    // A late plain-text "yes" re-delivered after the dialog ended gets it too, and creates nothing.
    expect(allText(await user.say('yes'))).toBe(texts[0]);
    expect(await ordersOf(user)).toHaveLength(1);
    expect(await jobsOf(user)).toHaveLength(1);
  });

  it.skipIf(target.skip)('a new confirmation (after an edit) is a new request; an old card is ignored', async () => {
    const user = new ChatUser(() => fixture.app.url, fixture.receiver, 'edit-user', 'Edit User');
    await user.say('order 20 units of SKU-1001 from Acme Corp');
    const firstConfirm = user.buttonValue('Confirm');
    expect(allText(await user.say('make it 30'))).toMatch(/30 pieces/);
    expect(allText(await user.click(firstConfirm as Record<string, unknown>))).toBe(
      'That card is out of date, so I ignored it. Please use the latest one above.',
    );
    expect(allText(await user.click('Confirm'))).toMatch(/^On it: job \d+ is placing the order with Acme Corp \(30 pieces/);
    await user.waitForNotification(/✅ PO-\d+ is placed/);
    expect(allText(await user.click(firstConfirm as Record<string, unknown>))).toBe(
      'That confirmation has expired, so nothing was done. Just ask again if you still need it.',
    );
    expect(await ordersOf(user)).toHaveLength(1);
  });

  it.skipIf(target.skip)('a pg-boss re-delivery of a finished job changes nothing', async () => {
    const user = new ChatUser(() => fixture.app.url, fixture.receiver, 'redeliver', 'Re Deliver');
    await user.say('order 20 units of SKU-1001 from Acme Corp');
    await user.click('Confirm');
    await user.waitForNotification(/✅ PO-\d+ is placed/);
    const [job] = await jobsOf(user);
    // At-least-once: the same message again, as after a crash between the work and pg-boss's ack.
    const sent = await rows<{ id: string }>(
      fixture.app.db.dataSource,
      `INSERT INTO pgboss.job (name, data) VALUES ($1, $2::jsonb) RETURNING id`,
      [QUEUES.run, JSON.stringify({ jobId: Number(job!.id) })],
    );
    expect(sent).toHaveLength(1);
    await eventually(async () => {
      const [state] = await rows<{ state: string }>(fixture.app.db.dataSource, 'SELECT state FROM pgboss.job WHERE id = $1', [sent[0]!.id]);
      return state?.state === 'completed';
    }, 15_000, 'the duplicate message to be processed');
    expect(await ordersOf(user)).toHaveLength(1);
    expect(user.notifications(/is placed/)).toHaveLength(1);
  });
});
