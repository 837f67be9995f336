/**
 * The storage skill by chat, end to end through POST /api/messages on both databases: goods
 * receipts against purchase orders and cleared shipments (over/under delivery, put-away, order
 * status, the buyer told), stock levels from the ledger, transfers that never go negative (also
 * under concurrent confirmations), duplicate confirmations, roles. Each case is a table of turns
 * by one or more users; assertions on the replies and on the database rows.
 */
import { describe, expect, it } from 'vitest';
import type { RunningApp } from '../../../src/app.js';
import { ConnectorReceiver } from '../../../src/chat/connectorReceiver.js';
import { loadConfig } from '../../../src/config/config.js';
import { inTransaction } from '../../../src/jobs/store.js';
import { MasterDataStore, RoleDirectory, type SkillContext } from '../../../src/skills/index.js';
import { executeWrite, idempotencyKey } from '../../../src/skills/runtime.js';
import { receiveGoodsAction, stockBalances, transferStock } from '../../../src/skills/storage/index.js';
import { allText, ChatUser, toReply } from '../../helpers/chatUser.js';
import { databaseTargets } from '../../helpers/databases.js';
import { eventually, rows, TEST_ROLES, useSkillApp } from '../../helpers/procurementFixture.js';
import { post } from '../../helpers/testApp.js';

const targets = await databaseTargets();

const ROLES = `${TEST_ROLES},wendy=clerk,walt=clerk`;

type Vars = Record<string, string>;

interface Step {
  /** Who acts (a key of the case's users); default the clerk. */
  as?: string;
  say?: string | ((vars: Vars) => string);
  click?: string;
  /** Something outside the chat happens (e.g. customs clears a shipment). */
  run?: (app: RunningApp) => Promise<void>;
  expect?: RegExp[];
  reject?: RegExp[];
  /** Wait for a proactive message to `as` matching this, capturing named groups into vars. */
  notify?: RegExp;
  buttons?: string[];
}

interface Case {
  name: string;
  steps: Step[];
  db?: (app: RunningApp, vars: Vars, users: Record<string, ChatUser>) => Promise<void>;
}

const PEOPLE: Record<string, () => { id: string; name: string }> = {
  clerk: () => ({ id: 'wendy', name: 'Wendy (clerk)' }),
  clerk2: () => ({ id: 'walt', name: 'Walt (clerk)' }),
  // The buyer who raised the demo orders (seed.ts); a new conversation each case.
  demoBuyer: () => ({ id: 'demo-buyer', name: 'Dana (demo buyer)' }),
  // A buyer of the default role, new in each case.
  buyer: () => ({ id: `buyer-${Math.random().toString(36).slice(2, 8)}`, name: 'Bea Buyer' }),
};

async function play(app: RunningApp, receiver: ConnectorReceiver, c: Case): Promise<void> {
  const users: Record<string, ChatUser> = {};
  const user = (key: string) => {
    if (!users[key]) {
      const who = PEOPLE[key]!();
      users[key] = new ChatUser(() => app.url, receiver, who.id, who.name);
    }
    return users[key];
  };
  const vars: Vars = {};
  for (const [i, step] of c.steps.entries()) {
    const u = user(step.as ?? 'clerk');
    if (step.run) {
      await step.run(app);
      continue;
    }
    if (step.notify) {
      const [hit] = await u.waitForNotification(step.notify).catch(async (err: Error) => {
        const sent = await rows(app.db.dataSource, 'SELECT kind, status, error, user_id, conversation_id, reply->>\'text\' AS text FROM notifications ORDER BY id');
        const got = u.notifications().map((n) => n.text);
        throw new Error(`${c.name} — step ${i + 1}: ${err.message}; ${u.userId} got ${JSON.stringify(got)}; outbox ${JSON.stringify(sent)}`);
      });
      Object.assign(vars, step.notify.exec(hit!.text)?.groups ?? {});
      for (const re of step.expect ?? []) expect(hit!.text, `${c.name} — step ${i + 1}; the bot said:\n${hit!.text}\n`).toMatch(re);
      continue;
    }
    const replies = step.click ? await u.click(step.click) : await u.say(typeof step.say === 'function' ? step.say(vars) : step.say!);
    const text = allText(replies);
    const where = `${c.name} — step ${i + 1}; the bot said:\n${text}\n`;
    for (const re of step.expect ?? []) expect(text, where).toMatch(re);
    for (const re of step.reject ?? []) expect(text, where).not.toMatch(re);
    if (step.buttons) expect(replies.flatMap((r) => r.buttons.map((b) => b.title)), where).toEqual(step.buttons);
  }
  await c.db?.(app, vars, users);
}

const jobsIn = (app: RunningApp, user: ChatUser) =>
  rows<{ action: string; status: string }>(app.db.dataSource, 'SELECT action, status FROM automation_jobs WHERE conversation_id = $1 ORDER BY id', [
    user.conversationId,
  ]);

const orderRow = async (app: RunningApp, po: string) =>
  (
    await rows<{ status: string; received: string[] }>(
      app.db.dataSource,
      `SELECT po.status, array_agg(l.received_quantity::text ORDER BY l.line_no) AS received
       FROM purchase_orders po JOIN purchase_order_lines l ON l.po_id = po.id WHERE po.number = $1 GROUP BY po.status`,
      [po],
    )
  )[0];

const balance = async (app: RunningApp, warehouse: string, bin: string, sku: string) =>
  Number(
    (
      await rows<{ quantity: string }>(
        app.db.dataSource,
        'SELECT quantity FROM stock_balances WHERE warehouse_code = $1 AND bin_code = $2 AND sku = $3',
        [warehouse, bin, sku],
      )
    )[0]?.quantity ?? 0,
  );

/** Every balance equals the sum of its ledger rows, and none is negative. */
async function expectLedgerConsistent(app: RunningApp): Promise<void> {
  const ledger = await rows<{ k: string; q: string }>(
    app.db.dataSource,
    `SELECT warehouse_code || '/' || bin_code || '/' || sku AS k, SUM(quantity)::text AS q FROM stock_movements GROUP BY 1 ORDER BY 1`,
  );
  const balances = await rows<{ k: string; q: string }>(
    app.db.dataSource,
    `SELECT warehouse_code || '/' || bin_code || '/' || sku AS k, quantity::text AS q FROM stock_balances ORDER BY 1`,
  );
  expect(Object.fromEntries(balances.map((b) => [b.k, Number(b.q)]))).toEqual(Object.fromEntries(ledger.map((l) => [l.k, Number(l.q)])));
  const [min] = await rows<{ min: string }>(app.db.dataSource, 'SELECT MIN(quantity)::text AS min FROM stock_balances');
  expect(Number(min!.min)).toBeGreaterThanOrEqual(0);
}

/** A buyer raises a 20-piece order in chat and the simulated supplier confirms it: `vars[name]` is its number. */
const raiseOrder = (name: string): Step[] => [
  { as: 'buyer', say: 'order 20 units of SKU-1001 from Acme Corp', expect: [/Please confirm/] },
  { as: 'buyer', click: 'Confirm', expect: [/^On it: job \d+ is placing the order with Acme Corp/] },
  { as: 'buyer', notify: new RegExp(`✅ (?<${name}>PO-\\d+) is placed`) },
];

// ---------------------------------------------------------------------------------------------
// Receiving

/** What the customs skill does when a shipment clears (its own tests cover that side). */
const customsClears = (shipment: string): Step => ({
  async run(app) {
    await rows(
      app.db.dataSource,
      `UPDATE customs_declarations SET status = 'cleared', cleared_at = now() WHERE shipment_id = (SELECT id FROM shipments WHERE number = $1)`,
      [shipment],
    );
    await rows(app.db.dataSource, `UPDATE shipments SET status = 'cleared', updated_at = now() WHERE number = $1`, [shipment]);
  },
});

const RECEIVING: Case[] = [
  {
    name: 'who may receive, and what cannot be received (not sent, received, in transit, held at customs)',
    steps: [
      { as: 'buyer', say: 'receive goods for PO-1007', expect: [/^I can't receive goods for you: that needs the clerk role \(warehouse staff\), and yours is buyer\./] },
      { say: 'receive PO-99999', expect: [/^I can't find PO-99999\. Nothing was booked\./] },
      { say: 'receive PO-1001', expect: [/^PO-1001 is already fully received, so there is nothing left to receive on it\./] },
      { say: 'receive PO-1004', expect: [/^PO-1004 hasn't been sent to Acme Corp yet \(it is pending approval\), so there is nothing to receive on it\./] },
      {
        say: 'receive PO-1003',
        expect: [/^I can't receive PO-1003 yet: its goods are on SH-2002, and SH-2002 is still in transit \(ETA \d{4}-\d{2}-\d{2}\) and has not cleared customs yet\. Nothing was booked\./],
      },
      {
        say: 'receive goods from SH-2001',
        expect: [/^I can't receive SH-2001: SH-2001 is still held at customs \(declaration CD-3001 is submitted\)\. Nothing was booked\. I can receive it once customs has cleared it\./],
      },
      { say: 'receive 40 SKU-1002 against PO-1002', expect: [/^I can't receive PO-1002 yet: its goods are on SH-2001, and SH-2001 is still held at customs/] },
      {
        say: 'receive goods for PO-1007',
        expect: [/^I can't receive PO-1007 yet: its goods are on SH-2003, and SH-2003 is still held at customs \(no declaration filed yet\)\. Nothing was booked\./],
      },
      { say: 'receive 5 SKU-1009 against PO-1007', expect: [/^I can't receive PO-1007 yet/] },
    ],
    async db(app, _vars, users) {
      expect(await rows(app.db.dataSource, 'SELECT 1 FROM goods_receipts')).toEqual([]);
      expect(await jobsIn(app, users.clerk!)).toEqual([]);
      const refused = await rows<{ action: string; outcome: string }>(
        app.db.dataSource,
        `SELECT action, outcome FROM audit_log WHERE conversation_id = $1 ORDER BY id`,
        [users.buyer!.conversationId],
      );
      expect(refused).toEqual([{ action: 'storage.receive_goods', outcome: 'refused' }]);
    },
  },
  {
    name: 'a partial receipt (after an unknown SKU), then the rest with an over-delivery inside the 10% tolerance; beyond it is refused',
    steps: [
      ...raiseOrder('po'),
      {
        say: (v) => `receive goods for ${v.po}`,
        expect: [/^What arrived for PO-\d+\? It still expects 20 pieces of SKU-1001 steel bearings 6204\. Say for example "20 SKU-1001", or "everything"\./],
      },
      { say: '5 SKU-1009', expect: [/^SKU-1009 isn't on PO-\d+, which has SKU-1001 steel bearings 6204\. Which product arrived\?/] },
      {
        say: '15 SKU-1001',
        expect: [
          /Receive these goods\?/,
          /Warehouse: WH-A Main/,
          /SKU-1001: steel bearings 6204 · 20 pieces · 0 pieces · 15 pieces · A-01-01 \(already holds it\)/,
          /Under-delivery: 5 pieces of SKU-1001 still outstanding on PO-\d+\./,
          /Order after this: partially received/,
        ],
      },
      { say: 'yes', expect: [/^On it: job \d+ is booking the receipt of 15 SKU-1001 against PO-\d+ into WH-A\./] },
      {
        notify: /📦 GR-\d+ booked into WH-A Main\. PO-\d+ is now partially received\./,
        expect: [/SKU-1001: steel bearings 6204 · 20 pieces · 0 pieces · 15 pieces · A-01-01 \(already holds it\)/, /Under-delivery: 5 pieces of SKU-1001 still outstanding/],
      },
      { as: 'buyer', notify: /📦 Goods arrived for your PO-\d+ \(Acme Corp\): Wendy \(clerk\) booked GR-\d+ into WH-A Main\. PO-\d+ is now partially received\./ },
      {
        say: (v) => `receive 10 SKU-1001 against ${v.po}`,
        expect: [
          /^I can't book 10 pieces of SKU-1001: PO-\d+ ordered 20 pieces and 15 pieces were already received, and I accept at most 10% over the order \(22 pieces in all, so 7 pieces now\)\. Count again, or ask the buyer to amend the order first\. How many should I book\?/,
        ],
      },
      {
        say: '7',
        expect: [
          /SKU-1001: steel bearings 6204 · 20 pieces · 15 pieces · 7 pieces · A-01-01 \(already holds it\)/,
          /Over-delivery: 2 pieces of SKU-1001 more than ordered \(22 pieces received of 20 pieces\); accepted within the 10% tolerance and noted on the receipt\./,
          /Order after this: received/,
        ],
      },
      { click: 'Confirm', expect: [/^On it: job \d+ is booking the receipt of 7 SKU-1001/] },
      { notify: /📦 (?<gr2>GR-\d+) booked into WH-A Main\. PO-\d+ is now received\./, expect: [/Over-delivery: 2 pieces of SKU-1001/, /Order status: received/] },
      { say: (v) => `receive 1 SKU-1001 against ${v.po}`, expect: [/^PO-\d+ is already fully received \(GR-\d+ and GR-\d+\), so there is nothing left to receive on it\./] },
    ],
    async db(app, vars) {
      expect(await orderRow(app, vars.po!)).toEqual({ status: 'received', received: ['22.000'] });
      const lines = await rows(
        app.db.dataSource,
        `SELECT l.quantity::text AS quantity, l.previously_received::text AS before, l.over_quantity::text AS over
         FROM goods_receipt_lines l JOIN goods_receipts r ON r.id = l.receipt_id JOIN purchase_orders po ON po.id = r.po_id
         WHERE po.number = $1 ORDER BY r.id`,
        [vars.po],
      );
      expect(lines).toEqual([
        { quantity: '15.000', before: '0.000', over: '0.000' },
        { quantity: '7.000', before: '15.000', over: '2.000' },
      ]);
      const audit = await rows(app.db.dataSource, `SELECT outcome FROM audit_log WHERE action = 'storage.goods_received' AND details->>'receipt' = $1`, [vars.gr2]);
      expect(audit).toEqual([{ outcome: 'received' }]);
      expect(await balance(app, 'WH-A', 'A-01-01', 'SKU-1001')).toBe(1222);
    },
  },
  {
    name: 'customs clears the Shenzhen container → full receipt of PO-1007: put-away (same SKU bin, else a free one), the buyer is told',
    steps: [
      { as: 'demoBuyer', say: 'hi', expect: [/^Hi!/] },
      { say: 'receive goods from SH-2003', expect: [/^I can't receive SH-2003: SH-2003 is still held at customs \(no declaration filed yet\)\./] },
      customsClears('SH-2003'),
      { say: 'receive SH-2003 into WH-Z', expect: [/^I don't know warehouse WH-Z\. Which one are the goods for: WH-A Main, WH-B Dallas or WH-C Rotterdam\? \(SH-2003 delivers to WH-B\.\)/] },
      {
        say: 'WH-B',
        expect: [
          /Receive these goods\?/,
          /Purchase order: PO-1007 \(Acme Corp\)/,
          /Warehouse: WH-B Dallas/,
          /Shipment: SH-2003 \(COSCO Shipping\)/,
          /Order after this: received/,
          /SKU · Product · Ordered · Received before · Now · Bin/,
          /SKU-1001: steel bearings 6204 · 1,000 pieces · 600 pieces · 400 pieces · B-01-02 \(already holds it\)/,
          /SKU-1005: lithium-ion battery packs · 10 pieces · 0 pieces · 10 pieces · B-02-01 \(free bin\)/,
        ],
        buttons: ['Confirm', 'Edit', 'Cancel'],
      },
      { click: 'Confirm', expect: [/^On it: job \d+ is booking the receipt of 400 SKU-1001, 10 SKU-1005 against PO-1007 \(SH-2003\) into WH-B\./] },
      {
        notify: /📦 (?<gr>GR-\d+) booked into WH-B Dallas\. PO-1007 is now received\. SH-2003 is delivered\./,
        expect: [
          /SKU-1001: steel bearings 6204 · 1,000 pieces · 600 pieces · 400 pieces · B-01-02 \(already holds it\)/,
          /SKU-1005: lithium-ion battery packs · 10 pieces · 0 pieces · 10 pieces · B-02-01 \(free bin\)/,
        ],
      },
      {
        as: 'demoBuyer',
        notify: /📦 Goods arrived for your PO-1007 \(Acme Corp\): Wendy \(clerk\) booked GR-\d+ into WH-B Dallas\. PO-1007 is now received\. SH-2003 is delivered\./,
        expect: [/Shipment: SH-2003 \(COSCO Shipping\)/, /Order status: received/],
      },
      { say: 'receive goods from SH-2003', expect: [/^I can't receive SH-2003: SH-2003 was already received \(GR-\d+\)\. Nothing was booked\./] },
    ],
    async db(app, vars, users) {
      expect(await orderRow(app, 'PO-1007')).toEqual({ status: 'received', received: ['1000.000', '10.000'] });
      expect(await jobsIn(app, users.clerk!)).toEqual([{ action: 'storage.receive_goods', status: 'succeeded' }]);
      const receipt = await rows(
        app.db.dataSource,
        `SELECT r.number, r.warehouse_code, r.received_by, s.number AS shipment, s.status AS shipment_status
         FROM goods_receipts r JOIN shipments s ON s.id = r.shipment_id WHERE r.number = $1`,
        [vars.gr],
      );
      expect(receipt).toEqual([{ number: vars.gr, warehouse_code: 'WH-B', received_by: 'wendy', shipment: 'SH-2003', shipment_status: 'delivered' }]);
      const ledger = await rows(
        app.db.dataSource,
        `SELECT sku, warehouse_code, bin_code, quantity::text AS quantity, kind FROM stock_movements WHERE reference_type = 'goods_receipt' AND reference_id = $1 ORDER BY sku`,
        [vars.gr],
      );
      expect(ledger).toEqual([
        { sku: 'SKU-1001', warehouse_code: 'WH-B', bin_code: 'B-01-02', quantity: '400.000', kind: 'receipt' },
        { sku: 'SKU-1005', warehouse_code: 'WH-B', bin_code: 'B-02-01', quantity: '10.000', kind: 'receipt' },
      ]);
      expect(await balance(app, 'WH-B', 'B-01-02', 'SKU-1001')).toBe(800);
      expect(await balance(app, 'WH-B', 'B-02-01', 'SKU-1005')).toBe(10);
      const toBuyer = await rows<{ status: string }>(app.db.dataSource, `SELECT status FROM notifications WHERE user_id = 'demo-buyer'`);
      expect(toBuyer).toEqual([{ status: 'sent' }]);
      await expectLedgerConsistent(app);
    },
  },
  {
    name: 'customs clears SH-2001 (declaration CD-3001) → received in two parts (short first), which closes PO-1002',
    steps: [
      customsClears('SH-2001'),
      { as: 'demoBuyer', say: 'hi', expect: [/^Hi!/] },
      {
        say: 'receive 30 SKU-1002 from SH-2001',
        expect: [
          /Purchase order: PO-1002 \(Globex\)/,
          /Warehouse: WH-C Rotterdam/,
          /Shipment: SH-2001 \(Maersk\)/,
          /Order after this: partially received/,
          /Shipment after this: open \(more to receive\)/,
          /SKU-1002: A4 copy paper \(box\) · 40 boxes · 0 boxes · 30 boxes · C-03-01 \(free bin\)/,
          /Under-delivery: 10 boxes of SKU-1002 still outstanding on PO-1002\./,
        ],
      },
      { say: 'yes', expect: [/^On it: job \d+ is booking the receipt of 30 SKU-1002 against PO-1002 \(SH-2001\) into WH-C\./] },
      { notify: /📦 GR-\d+ booked into WH-C Rotterdam\. PO-1002 is now partially received\. SH-2001 stays open: 10 SKU-1002 on it not received yet\./ },
      { as: 'demoBuyer', notify: /📦 Goods arrived for your PO-1002 \(Globex\): Wendy \(clerk\) booked GR-\d+ into WH-C Rotterdam\. PO-1002 is now partially received\./ },
      {
        say: 'receive goods from SH-2001',
        expect: [
          /Order after this: received/,
          /Shipment after this: delivered/,
          /SKU-1002: A4 copy paper \(box\) · 40 boxes · 30 boxes · 10 boxes · C-03-01 \(already holds it\)/,
        ],
      },
      { click: 'Confirm', expect: [/^On it: job \d+ is booking the receipt of 10 SKU-1002 against PO-1002 \(SH-2001\) into WH-C\./] },
      { notify: /📦 (?<gr>GR-\d+) booked into WH-C Rotterdam\. PO-1002 is now received\. SH-2001 is delivered\./ },
      { as: 'demoBuyer', notify: /📦 Goods arrived for your PO-1002 \(Globex\): Wendy \(clerk\) booked GR-\d+ into WH-C Rotterdam\. PO-1002 is now received\. SH-2001 is delivered\./ },
      { say: 'receive goods from SH-2001', expect: [/^I can't receive SH-2001: SH-2001 was already received \(GR-\d+ and GR-\d+\)\. Nothing was booked\./] },
      { say: 'receive 40 SKU-1002 against PO-1002', expect: [/^PO-1002 is already fully received \(GR-\d+ and GR-\d+\)/] },
    ],
    async db(app) {
      const [shipment] = await rows<{ status: string }>(app.db.dataSource, `SELECT status FROM shipments WHERE number = 'SH-2001'`);
      expect(shipment?.status).toBe('delivered');
      expect(await orderRow(app, 'PO-1002')).toEqual({ status: 'received', received: ['40.000'] });
      const receipts = await rows(
        app.db.dataSource,
        `SELECT s.number AS shipment, l.quantity::text AS quantity, l.bin_code FROM goods_receipts r JOIN shipments s ON s.id = r.shipment_id
         JOIN goods_receipt_lines l ON l.receipt_id = r.id WHERE s.number = 'SH-2001' ORDER BY r.id`,
      );
      expect(receipts).toEqual([
        { shipment: 'SH-2001', quantity: '30.000', bin_code: 'C-03-01' },
        { shipment: 'SH-2001', quantity: '10.000', bin_code: 'C-03-01' },
      ]);
      expect(await balance(app, 'WH-C', 'C-03-01', 'SKU-1002')).toBe(40);
      await expectLedgerConsistent(app);
    },
  },
  {
    name: 'storage jobs show in the job list',
    steps: [{ say: 'show all jobs', expect: [/automation jobs:/, /\d+: receive goods · PO-1002 · succeeded/, /\d+: receive goods · PO-1007 · succeeded/] }],
  },
];

describe.each(targets)('receiving goods on $name', (target) => {
  const fixture = useSkillApp(target, { USER_ROLES: ROLES });

  it.skipIf(target.skip).each(RECEIVING.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    await play(fixture.app, fixture.receiver, c);
  });

  it.skipIf(target.skip)('10 concurrent deliveries of one Confirm book one receipt', async () => {
    const vars: Vars = {};
    const buyer = new ChatUser(() => fixture.app.url, fixture.receiver, 'buyer-dup', 'Dup Buyer');
    await buyer.say('order 20 units of SKU-1001 from Acme Corp');
    await buyer.click('Confirm');
    const [placed] = await buyer.waitForNotification(/✅ PO-\d+ is placed/);
    vars.po = /PO-\d+/.exec(placed!.text)![0];
    const clerk = new ChatUser(() => fixture.app.url, fixture.receiver, 'wendy', 'Wendy (clerk)');
    expect(allText(await clerk.say(`receive goods for ${vars.po}`))).toMatch(/^What arrived for PO-\d+\?/);
    expect(allText(await clerk.say('everything'))).toMatch(/SKU-1001: steel bearings 6204 · 20 pieces · 0 pieces · 20 pieces · A-01-01/);
    const confirm = clerk.buttonValue('Confirm');
    const copies = Array.from({ length: 10 }, () => clerk.activity({ text: '', value: confirm }));
    const responses = await Promise.all(copies.map((a) => post(`${fixture.app.url}/api/messages`, a)));
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
    await clerk.waitForNotification(/📦 GR-\d+ booked/);
    await new Promise((r) => setTimeout(r, 500)); // anything a duplicate might still send

    const receipts = await rows(
      fixture.app.db.dataSource,
      'SELECT r.number FROM goods_receipts r JOIN purchase_orders po ON po.id = r.po_id WHERE po.number = $1',
      [vars.po],
    );
    expect(receipts).toHaveLength(1);
    expect(await jobsIn(fixture.app, clerk)).toEqual([{ action: 'storage.receive_goods', status: 'succeeded' }]);
    expect((await orderRow(fixture.app, vars.po))?.received).toEqual(['20.000']);
    const said = fixture.receiver.received.filter((r) => r.conversationId === clerk.conversationId).map((r) => toReply(r.activity).text);
    expect(said.filter((s) => /^On it: job \d+/.test(s))).toHaveLength(1);
    expect(said.filter((s) => /📦 GR-\d+ booked/.test(s))).toHaveLength(1);
  });

  it.skipIf(target.skip)('the action factory works for a spreadsheet row: { po, lines } → check → executeWrite, once per key', async () => {
    const buyer = new ChatUser(() => fixture.app.url, fixture.receiver, 'buyer-sheet', 'Sheet Buyer');
    await buyer.say('order 20 units of SKU-1001 from Acme Corp');
    await buyer.click('Confirm');
    const [placed] = await buyer.waitForNotification(/✅ PO-\d+ is placed/);
    const po = /PO-\d+/.exec(placed!.text)![0];
    const roles = new RoleDirectory(loadConfig({ USER_ROLES: ROLES }).roles);
    const ctx: SkillContext = {
      actor: { id: 'wendy', name: 'Wendy (clerk)', roles: roles.rolesOf('wendy') },
      origin: { channelId: 'excel', conversationId: 'import-1' },
      env: {
        db: fixture.app.db.dataSource,
        jobs: fixture.app.jobs,
        masterData: new MasterDataStore(fixture.app.db.dataSource),
        roles,
        settings: { approvalThreshold: 10_000, currency: 'USD' },
        now: () => new Date(),
      },
    };
    const action = receiveGoodsAction();
    // A row with a spreadsheet-typed quantity and an unknown SKU: a plain problem, nothing booked.
    const bad = await action.check({ po, lines: [{ sku: 'SKU-1009', quantity: '5' }] }, ctx);
    expect(bad).toMatchObject({ status: 'ask', text: expect.stringMatching(/^SKU-1009 isn't on PO-\d+/) });
    expect(await action.check({ po: "PO-1'; DROP TABLE stock_movements; --", lines: [] }, ctx)).toMatchObject({
      status: 'refuse',
      reply: { text: expect.stringMatching(/isn't a purchase order number \(like PO-1007\), so I did nothing\.$/) },
    });
    expect(await action.check({ po, lines: [{ sku: 'SKU-1001', quantity: 20 }] }, { ...ctx, actor: { ...ctx.actor, roles: ['buyer'] } })).toMatchObject({
      status: 'refuse',
    });

    const check = await action.check({ po, lines: [{ sku: 'SKU-1001', quantity: '20' }], warehouse: 'wh-a', bin: 'a-03-01' }, ctx);
    expect(check).toEqual({ status: 'ready', slots: { po, lines: [{ sku: 'SKU-1001', quantity: 20 }], warehouse: 'WH-A', bin: 'A-03-01' } });
    if (check.status !== 'ready') return;
    const key = idempotencyKey(ctx.origin, `row-2:${po}`, 'import-nonce');
    const [first, again] = [await executeWrite(action, check.slots, ctx, key), await executeWrite(action, check.slots, ctx, key)];
    expect(first.replayed).toBe(false);
    expect(again).toMatchObject({ replayed: true, jobId: first.jobId, reply: first.reply });
    await eventually(async () => (await orderRow(fixture.app, po))?.status === 'received', 15_000, `${po} received`);
    const booked = await rows(
      fixture.app.db.dataSource,
      `SELECT l.bin_code, l.quantity::text AS quantity FROM goods_receipt_lines l JOIN goods_receipts r ON r.id = l.receipt_id
       JOIN purchase_orders po ON po.id = r.po_id WHERE po.number = $1`,
      [po],
    );
    expect(booked).toEqual([{ bin_code: 'A-03-01', quantity: '20.000' }]);
  });
});

// ---------------------------------------------------------------------------------------------
// Stock levels and transfers

const STOCK: Case[] = [
  {
    name: 'stock levels by product, by warehouse, both, and everything (anyone may ask)',
    steps: [
      { as: 'buyer', say: 'how many SKU-1001 do we have in WH-A', expect: [/^WH-A Main has 1,200 pieces of steel bearings 6204 \(SKU-1001\): 1,200 in A-01-01\. Elsewhere: 400 in WH-B\./] },
      {
        as: 'buyer',
        say: 'how many SKU-1001 do we have',
        expect: [/^We have 1,600 pieces of steel bearings 6204 \(SKU-1001\) on hand: 1,200 in WH-A Main \(A-01-01\) and 400 in WH-B Dallas \(B-01-02\)\./],
      },
      {
        as: 'buyer',
        say: 'what stock do we have in WH-A',
        expect: [
          /^WH-A Main holds 3 products:/,
          /SKU-1001: steel bearings 6204 · A-01-01 · 1,200 pieces/,
          /SKU-1002: A4 copy paper \(box\) · A-01-02 · 340 boxes/,
          /SKU-1003: nitrile gloves \(box of 100\) · A-02-01 · 150 boxes/,
        ],
      },
      { as: 'buyer', say: 'how much copy paper is in Rotterdam', expect: [/^WH-C Rotterdam has no A4 copy paper \(box\) \(SKU-1002\) on hand\. Elsewhere: 340 in WH-A\./] },
      {
        as: 'buyer',
        say: 'what stock do we have',
        expect: [/^On hand across 3 warehouses:/, /SKU · Product · WH-A · WH-B · WH-C · Total/, /SKU-1003: nitrile gloves \(box of 100\) · 150 · 0 · 80 · 230/],
      },
      { as: 'buyer', say: 'how many SKU-9999 do we have', expect: [/^I don't know a product SKU-9999\. Products: SKU-1001, SKU-1002, SKU-1003, SKU-1004, SKU-1005/] },
      { as: 'buyer', say: 'stock in WH-Z', expect: [/^I don't know warehouse WH-Z\. Warehouses: WH-A Main, WH-B Dallas and WH-C Rotterdam\./] },
    ],
  },
  {
    name: 'a transfer between warehouses: confirm, job, notification, ledger',
    steps: [
      {
        say: 'move 100 SKU-1001 from WH-A to WH-B',
        expect: [
          /Move this stock\?/,
          /Product: SKU-1001 steel bearings 6204/,
          /Quantity: 100 pieces/,
          /From: WH-A Main · A-01-01 \(100\)/,
          /To: WH-B Dallas · B-01-02 \(already holds it\)/,
          /Left at source: 1,100 pieces/,
        ],
        buttons: ['Confirm', 'Edit', 'Cancel'],
      },
      // Edit offers storage examples (not procurement's), and a correction re-confirms.
      { click: 'Edit', expect: [/^What would you like to change\? For example "make it 50" or "from bin A-01-01 to bin A-03-01"\./] },
      { say: 'make it 90', expect: [/Move this stock\?/, /Quantity: 90 pieces/] },
      { say: 'make it 100', expect: [/Move this stock\?/, /Quantity: 100 pieces/] },
      { click: 'Confirm', expect: [/^On it: job \d+ is moving 100 SKU-1001 from WH-A to WH-B\./] },
      {
        notify:
          /✅ (?<tr>TR-\d+): moved 100 pieces of steel bearings 6204 \(SKU-1001\) from WH-A Main \(A-01-01\) to WH-B Dallas, bin B-01-02 \(already holds it\)\. WH-A now has 1,100 pieces, WH-B 500 pieces\./,
      },
      { say: 'how many SKU-1001 do we have in WH-A', expect: [/^WH-A Main has 1,100 pieces of steel bearings 6204 \(SKU-1001\): 1,100 in A-01-01\. Elsewhere: 500 in WH-B\./] },
    ],
    async db(app, vars) {
      const ledger = await rows(
        app.db.dataSource,
        `SELECT warehouse_code, bin_code, quantity::text AS quantity, kind, actor FROM stock_movements WHERE reference_id = $1 ORDER BY id`,
        [vars.tr],
      );
      expect(ledger).toEqual([
        { warehouse_code: 'WH-A', bin_code: 'A-01-01', quantity: '-100.000', kind: 'transfer_out', actor: 'wendy' },
        { warehouse_code: 'WH-B', bin_code: 'B-01-02', quantity: '100.000', kind: 'transfer_in', actor: 'wendy' },
      ]);
      expect(await balance(app, 'WH-A', 'A-01-01', 'SKU-1001')).toBe(1100);
      expect(await balance(app, 'WH-B', 'B-01-02', 'SKU-1001')).toBe(500);
      await expectLedgerConsistent(app);
    },
  },
  {
    name: 'more than on hand is refused; a move between bins; a product named by its unit',
    steps: [
      {
        say: 'transfer 5000 SKU-1001 from WH-A to WH-B',
        expect: [/^I can't move 5,000 pieces: WH-A has only 1,100 pieces of steel bearings 6204 \(SKU-1001\) on hand, and stock never goes below zero\. How many should I move instead\?/],
      },
      { say: 'cancel', expect: [/^OK, I've stopped\. Nothing was changed\./] },
      {
        say: 'move 50 SKU-1001 from bin A-01-01 to bin A-03-01',
        expect: [/Quantity: 50 pieces/, /From: WH-A Main · A-01-01 \(50\)/, /To: WH-A Main · A-03-01 \(as you asked\)/],
      },
      { say: 'yes', expect: [/^On it: job \d+ is moving 50 SKU-1001 from WH-A A-01-01 to WH-A A-03-01\./] },
      { notify: /✅ TR-\d+: moved 50 pieces .* from WH-A Main \(A-01-01\) to WH-A Main, bin A-03-01 \(as you asked\)\. WH-A still has 1,100 pieces in all\./ },
      { say: 'move 20 pallets from WH-B to WH-C', expect: [/Product: SKU-1004 euro pallets/, /Quantity: 20 pallets/, /To: WH-C Rotterdam · C-03-01 \(free bin\)/] },
      { say: 'no', expect: [/^OK, cancelled\. Nothing was changed\./] },
    ],
    async db(app, _vars, users) {
      expect(await jobsIn(app, users.clerk!)).toEqual([{ action: 'storage.transfer_stock', status: 'succeeded' }]);
      expect(await balance(app, 'WH-A', 'A-01-01', 'SKU-1001')).toBe(1050);
      expect(await balance(app, 'WH-A', 'A-03-01', 'SKU-1001')).toBe(50);
      expect(await balance(app, 'WH-B', 'B-01-01', 'SKU-1004')).toBe(60);
    },
  },
  {
    name: 'only warehouse staff move stock',
    steps: [{ as: 'buyer', say: 'move 100 SKU-1001 from WH-A to WH-B', expect: [/^I can't move stock for you: that needs the clerk role \(warehouse staff\), and yours is buyer\./] }],
  },
  {
    name: 'storage jobs show in the job list',
    steps: [{ say: 'show all jobs', expect: [/\d+: transfer stock · SKU-1001 · succeeded/] }],
  },
];

describe.each(targets)('stock levels and transfers on $name', (target) => {
  const fixture = useSkillApp(target, { USER_ROLES: ROLES, JOB_WORKERS: '2' });

  it.skipIf(target.skip).each(STOCK.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    await play(fixture.app, fixture.receiver, c);
  });

  it.skipIf(target.skip)('two clerks confirm transfers that together would go negative at the same time: exactly one wins', async () => {
    const before = (await stockBalances(fixture.app.db.dataSource, { warehouse: 'WH-A', sku: 'SKU-1001' })).reduce((s, r) => s + r.quantity, 0);
    expect(before).toBe(1100); // 1,050 in A-01-01 + 50 in A-03-01 after the cases above
    const clerks = [new ChatUser(() => fixture.app.url, fixture.receiver, 'wendy', 'Wendy (clerk)'), new ChatUser(() => fixture.app.url, fixture.receiver, 'walt', 'Walt (clerk)')];
    for (const clerk of clerks) {
      expect(allText(await clerk.say('move 1000 SKU-1001 from WH-A to WH-C'))).toMatch(/Left at source: 100 pieces/);
    }
    const replies = await Promise.all(clerks.map((c) => c.click('Confirm')));
    for (const r of replies) expect(allText(r)).toMatch(/^On it: job \d+ is moving 1,000 SKU-1001 from WH-A to WH-C\./);
    const outcomes = await Promise.all(clerks.map(async (c) => (await c.waitForNotification(/✅ TR-\d+|❌ I couldn't move/))[0]!.text));
    expect(outcomes.filter((o) => o.startsWith('✅'))).toHaveLength(1);
    const loser = outcomes.find((o) => o.startsWith('❌'));
    expect(loser).toMatch(
      /^❌ I couldn't move 1,000 pieces of steel bearings 6204 \(SKU-1001\) from WH-A Main: only 100 pieces on hand there now — the stock changed after you confirmed \(another transfer came first\)\. Nothing was moved\./,
    );
    const after = await stockBalances(fixture.app.db.dataSource, { sku: 'SKU-1001' });
    expect(after.filter((r) => r.warehouse === 'WH-A').reduce((s, r) => s + r.quantity, 0)).toBe(100);
    expect(after.filter((r) => r.warehouse === 'WH-C').reduce((s, r) => s + r.quantity, 0)).toBe(1000);
    const jobs = await rows<{ status: string }>(
      fixture.app.db.dataSource,
      `SELECT status FROM automation_jobs WHERE action = 'storage.transfer_stock' AND conversation_id = ANY($1::text[]) ORDER BY status`,
      [clerks.map((c) => c.conversationId)],
    );
    expect(jobs.map((j) => j.status)).toEqual(['failed', 'succeeded']);
    await expectLedgerConsistent(fixture.app);
  });

  it.skipIf(target.skip)('in the database: a transfer waits for a concurrent one on the same stock, then sees the reduced balance', async () => {
    const ds = fixture.app.db.dataSource;
    const req = { sku: 'SKU-1004', quantity: 40, fromWarehouse: 'WH-B', toWarehouse: 'WH-C' }; // 60 pallets in WH-B
    const meta = { jobId: null, actor: 'test' };
    let booked!: () => void;
    const firstBooked = new Promise<void>((r) => (booked = r));
    let release!: () => void;
    const hold = new Promise<void>((r) => (release = r));
    const first = inTransaction(ds, async (tx) => {
      const outcome = await transferStock(tx, req, meta);
      booked();
      await hold; // keep the transaction (and its row locks) open
      return outcome;
    });
    await firstBooked;
    const started = Date.now();
    const second = inTransaction(ds, (tx) => transferStock(tx, req, meta));
    await new Promise((r) => setTimeout(r, 300));
    release();
    const [a, b] = await Promise.all([first, second]);
    expect(a.status).toBe('moved');
    expect(b).toEqual({ status: 'insufficient', onHand: 20 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(await balance(fixture.app, 'WH-B', 'B-01-01', 'SKU-1004')).toBe(20);
    await expectLedgerConsistent(fixture.app);
  });

  it.skipIf(target.skip)('the database itself refuses a negative balance and any change to the ledger', async () => {
    const ds = fixture.app.db.dataSource;
    await expect(
      rows(
        ds,
        `INSERT INTO stock_movements (sku, warehouse_code, bin_code, quantity, kind, actor) VALUES ('SKU-1005', 'WH-C', 'C-01-01', -25, 'issue', 'test')`,
      ),
    ).rejects.toThrow(/check constraint/);
    await expect(rows(ds, `UPDATE stock_movements SET quantity = 1 WHERE kind = 'opening'`)).rejects.toThrow(/append-only/);
    await expect(rows(ds, `DELETE FROM stock_movements`)).rejects.toThrow(/append-only/);
    expect(await balance(fixture.app, 'WH-C', 'C-01-01', 'SKU-1005')).toBe(24);
    // An outgoing movement within the balance is fine (the first ledger trigger refused every one).
    await rows(
      ds,
      `INSERT INTO stock_movements (sku, warehouse_code, bin_code, quantity, kind, actor) VALUES ('SKU-1005', 'WH-C', 'C-01-01', -4, 'issue', 'test')`,
    );
    expect(await balance(fixture.app, 'WH-C', 'C-01-01', 'SKU-1005')).toBe(20);
    await expectLedgerConsistent(fixture.app);
  });
});
