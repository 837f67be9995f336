/**
 * Approvals on both databases: an order over the limit waits for an approver; approvers get a
 * card in their own conversation; another approver approves (card or text); nobody approves
 * their own order; non-approvers are refused; every refusal says why and is audited.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { allText, ChatUser } from '../../helpers/chatUser.js';
import { databaseTargets } from '../../helpers/databases.js';
import { eventually, rows, useSkillApp } from '../../helpers/procurementFixture.js';

const targets = await databaseTargets();

describe.each(targets)('approvals on $name', (target) => {
  let alice: ChatUser; // buyer
  let bob: ChatUser; // approver
  let carol: ChatUser; // buyer + approver
  let dave: ChatUser; // approver
  let erin: ChatUser; // admin, only ever seen in a group chat
  let alicePo = '';
  let carolPo = '';

  const fixture = useSkillApp(target);

  beforeAll(async () => {
    if (target.skip) return;
    const url = () => fixture.app.url;
    alice = new ChatUser(url, fixture.receiver, 'alice', 'Alice');
    bob = new ChatUser(url, fixture.receiver, 'bob', 'Bob');
    carol = new ChatUser(url, fixture.receiver, 'carol', 'Carol');
    dave = new ChatUser(url, fixture.receiver, 'dave', 'Dave');
    erin = new ChatUser(url, fixture.receiver, 'erin', 'Erin');
    // Approvers have talked to the bot before: that is where their approval cards go.
    for (const u of [bob, dave]) expect(allText(await u.say('hi'))).toMatch(/^Hi!/);
    await erin.send(erin.activity({ text: 'hi', conversation: { id: erin.conversationId, isGroup: true }, deliveryMode: 'expectReplies' }));
  });

  it.skipIf(target.skip)('an order over the limit is confirmed with a warning and waits for approval', async () => {
    const confirm = allText(await alice.say('order 80 units of SKU-1005 from Acme Corp'));
    expect(confirm).toMatch(/Total: \$15,120\.00/);
    expect(confirm).toMatch(/Approval: needed \(over \$10,000\.00\)/);
    expect(allText(await alice.click('Confirm'))).toMatch(/It is above the approval limit, so it will wait for an approver\./);
    const [waiting] = await alice.waitForNotification(/🕒 PO-\d+ is created and waiting for approval/);
    alicePo = /PO-\d+/.exec(waiting!.text)![0];
    const [order] = await rows<{ status: string }>(fixture.app.db.dataSource, 'SELECT status FROM purchase_orders WHERE number = $1', [alicePo]);
    expect(order?.status).toBe('pending_approval');
  });

  it.skipIf(target.skip)('approvers get an approval card in their own conversation', async () => {
    for (const approver of [bob, dave]) {
      const [card] = await approver.waitForNotification(new RegExp(`Approval needed for ${alicePo}`));
      expect(card!.text).toMatch(/\$15,120\.00, raised by Alice/);
      expect(card!.buttons.map((b) => b.title)).toEqual(['Approve', 'Reject']);
    }
    // Erin (admin) was only seen in a group chat: her card is not posted where others read it.
    const erins = await eventually(async () => {
      const found = await rows<{ status: string; error: string }>(
        fixture.app.db.dataSource,
        `SELECT status, error FROM notifications WHERE user_id = 'erin' AND kind = 'approval_request'`,
      );
      return found.every((n) => n.status !== 'pending') && found;
    });
    expect(erins).toEqual([{ status: 'undeliverable', error: 'no conversation with erin is known yet' }]);
    expect(erin.notifications()).toEqual([]);
  });

  it.skipIf(target.skip)('a buyer without the approver role is refused, and told why', async () => {
    const text = allText(await alice.say(`approve ${alicePo}`));
    expect(text).toBe("You can't approve purchase orders: that needs the approver role (yours: buyer).");
  });

  it.skipIf(target.skip)('nobody approves their own order', async () => {
    expect(allText(await carol.say('order 60 units of SKU-1005 from Globex'))).toMatch(/Approval: needed/);
    await carol.click('Confirm');
    const [waiting] = await carol.waitForNotification(/🕒 PO-\d+ is created and waiting for approval/);
    carolPo = /PO-\d+/.exec(waiting!.text)![0];
    const text = allText(await carol.say(`approve ${carolPo}`));
    expect(text).toBe(
      `You can't approve ${carolPo}: you raised it yourself, and nobody approves their own order. Another approver has to decide.`,
    );
  });

  it.skipIf(target.skip)('another approver approves from the card; requester and approver are told', async () => {
    await bob.waitForNotification(new RegExp(`Approval needed for ${alicePo}`));
    const reply = allText(await bob.click('Approve'));
    expect(reply).toMatch(new RegExp(`^On it: job \\d+ is approving ${alicePo} and sending it to the supplier\\.`));
    await bob.waitForNotification(new RegExp(`✅ ${alicePo} is placed: Acme Corp confirmed it`));
    await alice.waitForNotification(new RegExp(`✅ ${alicePo} is placed: Acme Corp confirmed it`));
    const [order] = await rows<{ status: string; approved_by: string }>(
      fixture.app.db.dataSource,
      'SELECT status, approved_by FROM purchase_orders WHERE number = $1',
      [alicePo],
    );
    expect(order).toEqual({ status: 'confirmed', approved_by: 'bob' });
    // The same click again (a re-delivery) returns the first outcome; no second job.
    expect(allText(await bob.click(bob.buttonValue('Approve') as Record<string, unknown>))).toBe(reply);
    const jobs = await rows(fixture.app.db.dataSource, `SELECT 1 FROM automation_jobs WHERE action = 'procurement.approve_order' AND subject_id = $1`, [alicePo]);
    expect(jobs).toHaveLength(1);
  });

  it.skipIf(target.skip)('a second approver finds it already decided', async () => {
    await dave.waitForNotification(new RegExp(`Approval needed for ${alicePo}`));
    expect(allText(await dave.click('Approve'))).toBe(`${alicePo} isn't waiting for approval: it is confirmed.`);
  });

  it.skipIf(target.skip)('approve_order works from text, with a confirmation', async () => {
    const confirm = allText(await dave.say(`approve ${carolPo}`));
    expect(confirm).toMatch(new RegExp(`Approve ${carolPo}\\?`));
    expect(confirm).toMatch(/Requested by Carol\. Once approved I'll send it to Globex\./);
    expect(confirm).toMatch(/Total: \$11,340\.00/);
    expect(confirm).toMatch(/SKU-1005: lithium-ion battery packs · 60 pieces/);
    expect(allText(await dave.say('yes'))).toMatch(/^On it: job \d+ is approving/);
    await carol.waitForNotification(new RegExp(`✅ ${carolPo} is placed: Globex confirmed it`));
    await dave.waitForNotification(new RegExp(`✅ ${carolPo} is placed`));
  });

  it.skipIf(target.skip)('asking an approver which order lists what waits; wrong states are refused', async () => {
    expect(allText(await bob.say('approve an order'))).toMatch(/^Which order should I approve\? Waiting for approval: PO-1004 \(Acme Corp, \$15,120\.00, by Dana \(demo buyer\)\)\./);
    expect(allText(await bob.say('cancel'))).toMatch(/Nothing was changed/);
    expect(allText(await bob.say('approve PO-1001'))).toBe("PO-1001 isn't waiting for approval: it is received.");
    expect(allText(await bob.say('approve PO-99999'))).toMatch(/^I can't find PO-99999\./);
  });

  it.skipIf(target.skip)('refusals are in the audit log with who, what and from which message', async () => {
    const refused = await rows<{ actor_id: string; action: string; activity_id: string | null; details: { reason: string } }>(
      fixture.app.db.dataSource,
      `SELECT actor_id, action, activity_id, details FROM audit_log WHERE outcome = 'refused' ORDER BY id`,
    );
    expect(refused.map((r) => [r.actor_id, r.action])).toEqual(
      expect.arrayContaining([
        ['alice', 'procurement.approve_order'],
        ['carol', 'procurement.approve_order'],
      ]),
    );
    expect(refused.every((r) => r.activity_id && r.details.reason.length > 0)).toBe(true);
  });
});
