/**
 * Procurement by chat, end to end through POST /api/messages on both databases: slot filling,
 * validation against master data, corrections, confirmation, durable job, proactive notification,
 * status. Each case is a table of turns; the intent comes from the test intent table (a test
 * double for the classifier only), everything else is the real server.
 */
import { describe, expect, it } from 'vitest';
import type { RunningApp } from '../../../src/app.js';
import { allText, ChatUser } from '../../helpers/chatUser.js';
import { databaseTargets } from '../../helpers/databases.js';
import { rows, useSkillApp } from '../../helpers/procurementFixture.js';

const targets = await databaseTargets();

type Vars = Record<string, string>;

interface Step {
  /** What the user says (or a function of what earlier steps captured). */
  say?: string | ((vars: Vars) => string);
  /** Click a button of the last card, by title. */
  click?: string;
  /** The replies must match all of these. */
  expect: RegExp[];
  /** …and none of these. */
  reject?: RegExp[];
  /** Wait for a proactive message matching this, capturing named groups into vars. */
  notify?: RegExp;
  buttons?: string[];
}

interface Case {
  name: string;
  user?: { id: string; name: string };
  steps: Step[];
  /** Checks on the database afterwards. */
  db?: (app: RunningApp, user: ChatUser, vars: Vars) => Promise<void>;
}

const jobsOf = (app: RunningApp, user: ChatUser) =>
  rows<{ id: string; action: string; status: string; subject_id: string | null }>(
    app.db.dataSource,
    'SELECT id, action, status, subject_id FROM automation_jobs WHERE conversation_id = $1 ORDER BY id',
    [user.conversationId],
  );

const CASES: Case[] = [
  {
    name: 'happy path: order → confirm → job → notification → status',
    steps: [
      {
        say: 'order 20 units of SKU-1001 from Acme Corp',
        expect: [/Please confirm/, /Create this purchase order\?/, /Supplier: Acme Corp/, /SKU-1001: steel bearings 6204 · 20 pieces · \$4\.50 · \$90\.00/],
        buttons: ['Confirm', 'Edit', 'Cancel'],
      },
      { click: 'Confirm', expect: [/^On it: job \d+ is placing the order with Acme Corp \(20 pieces of SKU-1001, total \$90\.00\)/] },
      { notify: /✅ (?<po>PO-\d+) is placed: Acme Corp confirmed it \(ref SIM-/, expect: [] },
      {
        say: (v) => `what is the status of ${v.po}`,
        expect: [/^PO-\d+ with Acme Corp is confirmed \(supplier ref SIM-[A-Z]+-\d+\)\./, /SKU-1001: steel bearings 6204 · 20 pieces/, /Job \d+: succeeded — PO-\d+ confirmed by Acme Corp/],
      },
    ],
    async db(app, user, vars) {
      const [order] = await rows<{ status: string; total: string; requested_by: string }>(
        app.db.dataSource,
        'SELECT status, total, requested_by FROM purchase_orders WHERE number = $1',
        [vars.po],
      );
      expect(order).toEqual({ status: 'confirmed', total: '90.00', requested_by: user.userId });
      const jobs = await jobsOf(app, user);
      expect(jobs).toEqual([{ id: expect.any(String), action: 'procurement.create_order', status: 'succeeded', subject_id: vars.po }]);
      const events = await rows<{ kind: string }>(app.db.dataSource, 'SELECT kind FROM automation_job_events WHERE job_id = $1 ORDER BY id', [jobs[0]!.id]);
      expect(events.map((e) => e.kind)).toEqual(
        expect.arrayContaining(['queued', 'started', 'po_created', 'approved', 'dispatching', 'result', 'po_status', 'succeeded', 'notified']),
      );
      const audit = await rows<{ action: string; outcome: string; activity_id: string | null }>(
        app.db.dataSource,
        `SELECT action, outcome, activity_id FROM audit_log WHERE conversation_id = $1 ORDER BY id`,
        [user.conversationId],
      );
      expect(audit[0]).toMatchObject({ action: 'procurement.create_order', outcome: 'submitted' });
      expect(audit[0]?.activity_id).toBeTruthy();
    },
  },
  {
    name: 'missing slots are asked for one at a time',
    steps: [
      { say: 'I want to place an order', expect: [/^What would you like to order\? For example SKU-1001 steel bearings 6204/] },
      { say: 'nitrile gloves', expect: [/^How many nitrile gloves \(box of 100\) \(SKU-1003\)\? They are priced per box at \$9\.90\./] },
      { say: '300', expect: [/^Which supplier should I order from: Acme Corp, Globex, Initech or Northwind Traders\?/] },
      { say: 'Northwind', expect: [/SKU-1003: nitrile gloves \(box of 100\) · 300 boxes · \$9\.90 · \$2,970\.00/, /Supplier: Northwind Traders/, /Total: \$2,970\.00/] },
      { say: 'yes', expect: [/^On it: job \d+ is placing the order with Northwind Traders/] },
      { notify: /✅ PO-\d+ is placed: Northwind Traders confirmed it/, expect: [] },
    ],
  },
  {
    name: 'an unknown supplier gets the closest match suggested',
    steps: [
      { say: 'order 5 euro pallets from Acma', expect: [/^I don't know a supplier called "Acma"\. Did you mean Acme Corp\?/] },
      { say: 'yes', expect: [/Supplier: Acme Corp/, /SKU-1004: euro pallets · 5 pallets · \$14\.00 · \$70\.00/] },
      { click: 'Confirm', expect: [/^On it: job \d+ is placing the order with Acme Corp/] },
    ],
  },
  {
    name: 'an unknown product: suggestion declined, then another product',
    steps: [
      { say: 'order 5 units of SKU-1009 from Acme Corp', expect: [/^I can't find SKU-1009 in the product list\. Did you mean SKU-1001 \(steel bearings 6204\)\?/] },
      { say: 'no', expect: [/^What would you like to order\?/] },
      { say: 'SKU-1002', expect: [/SKU-1002: A4 copy paper \(box\) · 5 boxes · \$28\.00 · \$140\.00/, /Supplier: Acme Corp/] },
      { say: 'no', expect: [/^OK, cancelled\. Nothing was changed\./] },
    ],
    async db(app, user) {
      expect(await jobsOf(app, user)).toEqual([]);
    },
  },
  {
    name: 'a correction at the confirmation ("make it 300") re-confirms with the new total',
    steps: [
      { say: 'order 20 units of SKU-1001 from Acme Corp', expect: [/Total: \$90\.00/] },
      { say: 'make it 300', expect: [/SKU-1001: steel bearings 6204 · 300 pieces · \$4\.50 · \$1,350\.00/, /Total: \$1,350\.00/] },
      { say: 'from Globex instead', expect: [/Supplier: Globex/, /Total: \$1,350\.00/] },
      { click: 'Confirm', expect: [/^On it: job \d+ is placing the order with Globex \(300 pieces of SKU-1001, total \$1,350\.00\)/] },
      { notify: /✅ (?<po>PO-\d+) is placed: Globex confirmed it/, expect: [] },
    ],
    async db(app, _user, vars) {
      const lines = await rows<{ quantity: string }>(
        app.db.dataSource,
        'SELECT l.quantity FROM purchase_order_lines l JOIN purchase_orders p ON p.id = l.po_id WHERE p.number = $1',
        [vars.po],
      );
      expect(lines).toEqual([{ quantity: '300.000' }]);
    },
  },
  {
    name: 'Edit on the card, then a change, then a new confirmation',
    steps: [
      { say: 'order 20 units of SKU-1001 from Acme Corp', expect: [/Deliver to: WH-A Main/] },
      { click: 'Edit', expect: [/^What would you like to change\? For example "make it 300", "from Globex instead" or "ship to Dallas"\./] },
      { say: 'ship to Dallas', expect: [/Deliver to: WH-B Dallas/] },
      { click: 'Confirm', expect: [/^On it: job \d+/] },
    ],
  },
  {
    name: '"cancel" in the middle of slot filling stops without doing anything',
    steps: [
      { say: 'I want to place an order', expect: [/^What would you like to order\?/] },
      { say: 'cancel', expect: [/^OK, I've stopped\. Nothing was changed\./] },
      { say: 'hello', expect: [/^Hi! What can I do for you\?/] },
    ],
    async db(app, user) {
      expect(await jobsOf(app, user)).toEqual([]);
    },
  },
  {
    name: '"help" in the middle of slot filling explains and asks again',
    steps: [
      { say: 'I want to place an order', expect: [/^What would you like to order\?/] },
      { say: 'help', expect: [/To raise a purchase order I need the product/, /What would you like to order\?/] },
      { say: 'cancel', expect: [/Nothing was changed/] },
    ],
  },
  {
    name: 'a declined confirmation changes nothing',
    steps: [
      { say: 'order 20 units of SKU-1001 from Acme Corp', expect: [/Please confirm/] },
      { say: 'no', expect: [/^OK, cancelled\. Nothing was changed\./] },
    ],
    async db(app, user) {
      expect(await jobsOf(app, user)).toEqual([]);
      const keys = await rows(app.db.dataSource, 'SELECT 1 FROM audit_log WHERE conversation_id = $1', [user.conversationId]);
      expect(keys).toEqual([]);
    },
  },
  {
    name: 'two lines in one request',
    steps: [
      {
        say: 'order 12 boxes of copy paper and 30 boxes of gloves from Globex',
        expect: [/SKU-1002: A4 copy paper \(box\) · 12 boxes · \$28\.00 · \$336\.00/, /SKU-1003: nitrile gloves \(box of 100\) · 30 boxes · \$9\.90 · \$297\.00/, /Total: \$633\.00/],
      },
      { say: 'yes', expect: [/^On it: job \d+ is placing the order with Globex \(12 boxes of SKU-1002, 30 boxes of SKU-1003, total \$633\.00\)/] },
    ],
  },
  {
    name: 'unknown ids get a plain answer',
    steps: [
      { say: 'what is the status of PO-99999', expect: [/^I can't find PO-99999\./] },
      { say: 'cancel PO-99999', expect: [/^I can't find PO-99999\./] },
      { say: 'where is my order', expect: [/^Which purchase order\? For example PO-1001\./] },
      { say: '1002', expect: [/^PO-1002 with Globex is confirmed \(supplier ref GLX-55102\)/] },
    ],
  },
  {
    name: 'status, lists and jobs from the database',
    steps: [
      { say: 'what is the status of PO-1002', expect: [/^PO-1002 with Globex is confirmed \(supplier ref GLX-55102\)\./, /SKU-1002: A4 copy paper \(box\) · 40 boxes/] },
      { say: 'show me pending orders', expect: [/^1 pending approval purchase order:/, /PO-1004: Acme Corp · pending approval · \$15,120\.00 · Dana \(demo buyer\)/] },
      { say: 'my open orders', expect: [/^No open purchase orders raised by you found\./] },
      { say: 'orders from Globex this week', reject: [/PO-1002/], expect: [/purchase orders? with Globex since \d{4}-\d{2}-\d{2}/] },
      { say: "what's still running?", expect: [/^Nothing is running for you right now\./] },
      { say: 'show all jobs', expect: [/automation jobs:/, /\d+: create order · PO-\d+ · succeeded/] },
    ],
  },
  {
    name: 'orders that cannot be cancelled say why; cancelling a confirmed order goes through the supplier',
    steps: [
      { say: 'cancel PO-1001', expect: [/^PO-1001 can't be cancelled: it is already received\./] },
      {
        say: 'cancel PO-1003',
        expect: [/^You can't cancel PO-1003: Dana \(demo buyer\) raised it, and cancelling someone else's order needs the approver or admin role \(yours: buyer\)\./],
      },
      { say: 'order 20 units of SKU-1001 from Acme Corp', expect: [/Please confirm/] },
      { say: 'yes', expect: [/^On it/] },
      { notify: /✅ (?<po>PO-\d+) is placed/, expect: [] },
      {
        say: (v) => `cancel ${v.po}`,
        expect: [/Cancel PO-\d+\?/, /Status: confirmed/, /Total: \$90\.00/, /SKU-1001: steel bearings 6204 · 20 pieces/, /I'll ask Acme Corp to cancel it too\./],
      },
      { say: 'yes', expect: [/^On it: job \d+ is cancelling PO-\d+\./] },
      { notify: /🗑️ PO-\d+ with Acme Corp is cancelled\./, expect: [] },
    ],
    async db(app, _user, vars) {
      const [order] = await rows<{ status: string }>(app.db.dataSource, 'SELECT status FROM purchase_orders WHERE number = $1', [vars.po]);
      expect(order?.status).toBe('cancelled');
    },
  },
  {
    name: 'a buyer reaches the other skills too: stock is answered, filing customs needs the broker role',
    steps: [
      { say: 'file a declaration for SH-2001', expect: [/needs the broker or admin role \(yours: buyer\)/] },
      { say: 'how many SKU-1001 in WH-B', expect: [/WH-B .* has 400 pieces of steel bearings 6204 \(SKU-1001\)/] },
    ],
  },
];

describe.each(targets)('procurement conversations on $name', (target) => {
  const fixture = useSkillApp(target);

  it.skipIf(target.skip).each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const who = c.user ?? { id: `buyer-${Math.random().toString(36).slice(2, 8)}`, name: 'Alice Buyer' };
    const user = new ChatUser(() => fixture.app.url, fixture.receiver, who.id, who.name);
    const vars: Vars = {};
    for (const [i, step] of c.steps.entries()) {
      const where = `${c.name} — step ${i + 1}`;
      if (step.notify) {
        const [hit] = await user.waitForNotification(step.notify);
        Object.assign(vars, step.notify.exec(hit!.text)?.groups ?? {});
        continue;
      }
      const replies = step.click
        ? await user.click(step.click)
        : await user.say(typeof step.say === 'function' ? step.say(vars) : step.say!);
      const text = allText(replies);
      for (const re of step.expect) expect(text, where).toMatch(re);
      for (const re of step.reject ?? []) expect(text, where).not.toMatch(re);
      if (step.buttons) expect(replies.flatMap((r) => r.buttons.map((b) => b.title)), where).toEqual(step.buttons);
    }
    await c.db?.(fixture.app, user, vars);
  });
});
