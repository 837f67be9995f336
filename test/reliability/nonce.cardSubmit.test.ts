/**
 * Every write needs proof of the confirmation the user saw (issue 13): a card button that runs a
 * write at once (`verb: 'do'`) counts only with a server-issued, single-use nonce bound to the
 * conversation, the user, the action and the slots (src/bot/cards/cardNonces.ts). Forged,
 * copied, reused or mismatched nonces create no job, for every write action; the real approval
 * card still works once.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { CardNonceStore } from '../../src/bot/cards/cardNonces.js';
import { loadConfig } from '../../src/config/config.js';
import { createSkillRegistry, RoleDirectory } from '../../src/skills/index.js';
import { allText, ChatUser, type BotReply } from '../helpers/chatUser.js';
import { databaseTargets } from '../helpers/databases.js';
import { IntentTableRecognizer } from '../helpers/intentTable.js';
import { rows, TEST_INTENT_PATTERNS, TEST_INTENTS, TEST_ROLES, useSkillApp } from '../helpers/procurementFixture.js';

const targets = await databaseTargets();

/** Plausible slots a forger would send for each write action (flat: card data holds strings and numbers only). */
const FORGED_SLOTS: Record<string, Record<string, string | number>> = {
  'procurement.create_order': { supplier: 'Acme Corp', sku: 'SKU-1001', quantity: 20 },
  'procurement.cancel_order': { order: 'PO-1003' },
  'procurement.approve_order': { order: 'PO-1004' },
  'procurement.reject_order': { order: 'PO-1004' },
  'storage.receive_goods': { po: 'PO-1002', shipment: 'SH-2001' },
  'storage.transfer_stock': { sku: 'SKU-1001', quantity: 100, fromWarehouse: 'WH-A', toWarehouse: 'WH-B' },
  'customs.file_declaration': { shipment: 'SH-2001' },
};

const config = loadConfig({ USER_ROLES: TEST_ROLES });
const registry = createSkillRegistry({ settings: { approvalThreshold: config.procurement.approvalThreshold, currency: 'USD' }, roles: new RoleDirectory(config.roles) });
const WRITE_ACTIONS = registry.actions.filter((a) => a.kind === 'write').map((a) => a.name);

describe('the forged-submit cases cover every write action', () => {
  it('has slots for each', () => {
    expect(WRITE_ACTIONS.length).toBeGreaterThanOrEqual(7);
    for (const name of WRITE_ACTIONS) expect(Object.keys(FORGED_SLOTS), name).toContain(name);
  });
});

describe.each(targets)('write buttons need a server-issued nonce on $name', (target) => {
  const fixture = useSkillApp(target, {}, { recognizer: new IntentTableRecognizer(TEST_INTENTS, TEST_INTENT_PATTERNS) });
  let nonces: CardNonceStore;
  const jobCount = async () => (await rows<{ n: number }>(fixture.app.db.dataSource, 'SELECT count(*)::int AS n FROM automation_jobs'))[0]!.n;
  const press = (user: ChatUser, action: string, slots: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    user.click({ verb: 'do', action, ...slots, ref: `approval:${String(slots.order ?? 'x')}`, ...extra });
  const expectNothingRan = (replies: BotReply[], where: string) => {
    const text = allText(replies);
    expect(text, where).not.toMatch(/^On it/m);
    expect(text, where).toMatch(/^(I couldn't verify that button, so I haven't done anything\.|That button is no longer valid here, so nothing was done\.)/);
  };

  beforeAll(() => {
    if (!target.skip) nonces = new CardNonceStore(fixture.app.db.dataSource);
  });

  it.skipIf(target.skip)('forged submits — no nonce, a made-up one, one for another conversation, user, action or slots, a used one — create no job, for every write action', async () => {
    const before = await jobCount();
    for (const action of WRITE_ACTIONS) {
      const slots = FORGED_SLOTS[action]!;
      const fresh = () => new ChatUser(() => fixture.app.url, fixture.receiver, 'erin', 'Erin', `forge-${randomUUID()}`);
      const cases: [string, (u: ChatUser) => Promise<Record<string, unknown>>][] = [
        ['no nonce', async () => ({})],
        ['a made-up nonce', async () => ({ nonce: randomUUID() })],
        ['a nonce issued for another conversation', async (u) => ({ nonce: await nonces.issue({ channelId: 'test', conversationId: `other-${u.conversationId}`, userId: 'erin' }, [action], slots) })],
        ['a nonce issued to another user', async (u) => ({ nonce: await nonces.issue({ channelId: 'test', conversationId: u.conversationId, userId: 'bob' }, [action], slots) })],
        ['a nonce issued for another action', async (u) => ({ nonce: await nonces.issue({ channelId: 'test', conversationId: u.conversationId, userId: 'erin' }, ['procurement.none'], slots) })],
        ['a nonce issued for other slots', async (u) => ({ nonce: await nonces.issue({ channelId: 'test', conversationId: u.conversationId, userId: 'erin' }, [action], { ...slots, extra: 'x' }) })],
        [
          'a nonce already used',
          async (u) => {
            const binding = { channelId: 'test', conversationId: u.conversationId, userId: 'erin' };
            const nonce = await nonces.issue(binding, [action], slots);
            expect(await nonces.consume(nonce, { ...binding, action, slots })).toBe(true);
            return { nonce };
          },
        ],
      ];
      for (const [name, make] of cases) {
        const user = fresh();
        const replies = await press(user, action, slots, await make(user));
        expectNothingRan(replies, `${action}: ${name}`);
        // The dialog it started waits for a yes that never comes: still nothing.
        expect(await jobCount(), `${action}: ${name}`).toBe(before);
      }
    }
  }, 120_000);

  it.skipIf(target.skip)('the approval card sent to an approver works once, only for that approver, only in that conversation', async () => {
    const url = () => fixture.app.url;
    const alice = new ChatUser(url, fixture.receiver, 'alice', 'Alice');
    const bob = new ChatUser(url, fixture.receiver, 'bob', 'Bob');
    const dave = new ChatUser(url, fixture.receiver, 'dave', 'Dave');
    for (const u of [bob, dave]) expect(allText(await u.say('hi'))).toMatch(/^Hi!/);
    expect(allText(await alice.say('order 80 units of SKU-1005 from Acme Corp'))).toMatch(/Approval: needed/);
    await alice.click('Confirm');
    const [waiting] = await alice.waitForNotification(/🕒 PO-\d+ is created and waiting for approval/);
    const po = /PO-\d+/.exec(waiting!.text)![0];
    await bob.waitForNotification(new RegExp(`Approval needed for ${po}`));
    await dave.waitForNotification(new RegExp(`Approval needed for ${po}`));
    const bobsApprove = bob.buttonValue('Approve') as Record<string, unknown>;
    const davesApprove = dave.buttonValue('Approve') as Record<string, unknown>;
    expect(bobsApprove.nonce).toEqual(expect.any(String));
    expect(bobsApprove.nonce).not.toBe(davesApprove.nonce);
    const stored = await rows(fixture.app.db.dataSource, 'SELECT user_id, actions FROM card_nonces WHERE nonce = $1', [bobsApprove.nonce]);
    expect(stored).toEqual([{ user_id: 'bob', actions: ['procurement.approve_order', 'procurement.reject_order'] }]);

    const before = await jobCount();
    // Dave's button pressed by Bob (in Bob's conversation), and Bob's button for another order: refused.
    expectNothingRan(await bob.click(davesApprove), "dave's nonce pressed by bob");
    await bob.say('cancel');
    expectNothingRan(await bob.click({ ...bobsApprove, order: 'PO-1003' }), 'bob\'s nonce on another order');
    await bob.say('cancel');
    // Bob's button sent from Dave's conversation by Dave: refused too.
    expectNothingRan(await dave.click(bobsApprove), "bob's nonce pressed by dave");
    await dave.say('cancel');
    expect(await jobCount()).toBe(before);

    // The real press: runs once.
    const approved = allText(await bob.click(bobsApprove));
    expect(approved).not.toMatch(/couldn't verify/);
    expect(await jobCount()).toBe(before + 1);
    const [order] = await rows<{ status: string }>(fixture.app.db.dataSource, 'SELECT status FROM purchase_orders WHERE number = $1', [po]);
    expect(order?.status).not.toBe('pending_approval');
    // Pressed again (a double click, a copy): the first outcome, no second job.
    await bob.click(bobsApprove);
    await bob.click({ ...bobsApprove, action: 'procurement.reject_order' });
    expect(await jobCount()).toBe(before + 1);
  }, 60_000);
});
