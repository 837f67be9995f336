/**
 * Customs by chat, end to end through POST /api/messages on both databases: filing a declaration
 * for a shipment (by number or description), missing HS codes, confirmation, the two durable jobs,
 * the simulated customs authority's rules (clear / hold for an invalid code / hold for inspection /
 * reject a restricted origin), proactive notifications at every step, status by declaration,
 * shipment or description, HS classification with duty estimates, roles, unknown ids and
 * injection-looking input. Each case is a table of turns plus checks on the database.
 */
import { describe, expect, it } from 'vitest';
import type { RunningApp } from '../../../src/app.js';
import { execute } from '../../../src/db/sql.js';
import { allText, ChatUser, toReply } from '../../helpers/chatUser.js';
import { databaseTargets } from '../../helpers/databases.js';
import { eventually, rows, TEST_ROLES, useSkillApp } from '../../helpers/procurementFixture.js';
import { post } from '../../helpers/testApp.js';

const targets = await databaseTargets();

type Vars = Record<string, string>;

interface Step {
  say?: string | ((vars: Vars) => string);
  click?: string;
  /** The replies must match all of these (named groups are captured into vars). */
  expect: RegExp[];
  reject?: RegExp[];
  /** Wait for a proactive message matching this, capturing named groups into vars. */
  notify?: RegExp;
  buttons?: string[];
}

interface Case {
  name: string;
  user: { id: string; name: string };
  steps: Step[];
  db?: (app: RunningApp, user: ChatUser, vars: Vars) => Promise<void>;
}

const BROKER = { id: 'frank', name: 'Frank Broker' };
const OTHER_BROKER = { id: 'gina', name: 'Gina Broker' };
const BUYER = { id: 'customs-buyer', name: 'Bea Buyer' };
const CLERK = { id: 'wes', name: 'Wes (clerk)' };

/** Shipments only these tests use (the demo data has SH-2001…SH-2004). */
const FIXTURE_SHIPMENTS = [
  // Solar inverters (no HS code in the product master), by air from Ningbo.
  { number: 'SH-2901', mode: 'air', origin: 'CN', port: 'Ningbo', warehouse: 'WH-A', lines: [['SKU-1006', 3]] },
  // 100 battery packs: $18,900, over the test's $10,000 inspection threshold.
  { number: 'SH-2902', mode: 'sea', origin: 'CN', port: 'Qingdao', warehouse: 'WH-C', lines: [['SKU-1005', 100]] },
  // Copy paper by air from Frankfurt (the duplicate-confirmation case).
  { number: 'SH-2903', mode: 'air', origin: 'DE', port: 'Frankfurt', warehouse: 'WH-A', lines: [['SKU-1002', 10]] },
] as const;

async function addFixtureShipments(app: RunningApp): Promise<void> {
  for (const s of FIXTURE_SHIPMENTS) {
    const { rows: inserted } = await execute<{ id: string }>(
      app.db.dataSource,
      `INSERT INTO shipments (number, direction, supplier_id, carrier, mode, origin_country, origin_port, warehouse_code, status)
       VALUES ($1, 'inbound', (SELECT id FROM suppliers WHERE name = 'Acme Corp'), 'Test Freight', $2, $3, $4, $5, 'at_customs') RETURNING id`,
      [s.number, s.mode, s.origin, s.port, s.warehouse],
    );
    let lineNo = 0;
    for (const [sku, quantity] of s.lines) {
      lineNo += 1;
      await execute(app.db.dataSource, 'INSERT INTO shipment_lines (shipment_id, line_no, sku, quantity) VALUES ($1, $2, $3, $4)', [
        inserted[0]!.id,
        lineNo,
        sku,
        quantity,
      ]);
    }
  }
}

interface DeclarationRow {
  number: string;
  status: string;
  authority_reference: string | null;
  status_reason: string | null;
  customs_value: string;
  duty_estimate: string | null;
  duty_amount: string | null;
  filed_by: string;
}

const declarationsOf = (app: RunningApp, shipment: string) =>
  rows<DeclarationRow>(
    app.db.dataSource,
    `SELECT d.number, d.status, d.authority_reference, d.status_reason, d.customs_value, d.duty_estimate, d.duty_amount, d.filed_by
     FROM customs_declarations d JOIN shipments s ON s.id = d.shipment_id WHERE s.number = $1 ORDER BY d.id`,
    [shipment],
  );

const shipmentStatus = async (app: RunningApp, number: string) =>
  (await rows<{ status: string }>(app.db.dataSource, 'SELECT status FROM shipments WHERE number = $1', [number]))[0]?.status;

const jobsOf = (app: RunningApp, user: ChatUser) =>
  rows<{ id: string; action: string; status: string; subject_id: string | null }>(
    app.db.dataSource,
    'SELECT id, action, status, subject_id FROM automation_jobs WHERE conversation_id = $1 ORDER BY id',
    [user.conversationId],
  );

const CASES: Case[] = [
  {
    name: 'happy path: "the Shenzhen container" → confirm → submitted → under review → cleared, with a notification at each step',
    user: BROKER,
    steps: [
      {
        say: 'file a declaration for the Shenzhen container',
        expect: [
          /File this import declaration for SH-2003\?/,
          /sea, COSCO Shipping, Shenzhen \(China\) → WH-B Dallas/,
          /Shipment: SH-2003 \(PO-1007, Acme Corp\)/,
          /SKU-1001: steel bearings 6204 · 8482\.10 · CN · 400 pieces · \$1,800\.00 · 8% = \$144\.00/,
          /SKU-1005: lithium-ion battery packs · 8507\.60 · CN · 10 pieces · \$1,890\.00 · 2\.7% = \$51\.03/,
          /Customs value: \$3,690\.00/,
          /Estimated duty: \$195\.03/,
          /Duty rates are illustrative/,
        ],
        buttons: ['Confirm', 'Edit', 'Cancel'],
      },
      {
        click: 'Confirm',
        expect: [/^📝 (?<cd>CD-\d+) is drafted for SH-2003; submitting it to customs now \(job \d+; job \d+ waits for their decision\)\./],
      },
      { notify: /^📨 (?<acked>CD-\d+) for SH-2003 is submitted and under review: customs acknowledged it \(ref SIM-CUS-\d+\)\./, expect: [] },
      {
        notify: /^✅ (?<cleared>CD-\d+) for SH-2003 is cleared by customs \(ref SIM-CUS-\d+\); duty assessed \$195\.03\. SH-2003 is ready to receive into WH-B Dallas\./,
        expect: [],
      },
      {
        say: 'did the Shenzhen container clear customs?',
        expect: [/^Yes — CD-\d+ for SH-2003 \(sea, COSCO Shipping, Shenzhen \(China\) → WH-B Dallas\) is cleared\. Customs cleared it/, /SH-2003 is ready to receive into WH-B Dallas\./],
      },
      { say: (v) => `what is the status of ${v.cd}`, expect: [/^CD-\d+ for SH-2003 .* is cleared\./, /Duty assessed: \$195\.03/, /Customs ref: SIM-CUS-\d+/] },
      { say: 'show all jobs', expect: [/\d+: file declaration · CD-\d+ · succeeded/, /\d+: await decision · CD-\d+ · succeeded/] },
    ],
    async db(app, user, vars) {
      expect(vars.acked).toBe(vars.cd);
      expect(vars.cleared).toBe(vars.cd);
      const [d] = await declarationsOf(app, 'SH-2003');
      expect(d).toMatchObject({ number: vars.cd, status: 'cleared', customs_value: '3690.00', duty_estimate: '195.03', duty_amount: '195.03', filed_by: 'frank' });
      expect(d?.authority_reference).toMatch(/^SIM-CUS-\d+$/);
      const lines = await rows(
        app.db.dataSource,
        `SELECT l.sku, l.hs_code, l.origin_country, l.quantity, l.value, l.duty_rate FROM customs_declaration_lines l
         JOIN customs_declarations d ON d.id = l.declaration_id WHERE d.number = $1 ORDER BY l.line_no`,
        [vars.cd],
      );
      expect(lines).toEqual([
        { sku: 'SKU-1001', hs_code: '848210', origin_country: 'CN', quantity: '400.000', value: '1800.00', duty_rate: '8.000' },
        { sku: 'SKU-1005', hs_code: '850760', origin_country: 'CN', quantity: '10.000', value: '1890.00', duty_rate: '2.700' },
      ]);
      expect(await shipmentStatus(app, 'SH-2003')).toBe('cleared');
      const jobs = await jobsOf(app, user);
      expect(jobs.map((j) => [j.action, j.status, j.subject_id])).toEqual([
        ['customs.file_declaration', 'succeeded', vars.cd],
        ['customs.await_decision', 'succeeded', vars.cd],
      ]);
      const events = await rows<{ message: string }>(
        app.db.dataSource,
        `SELECT e.message FROM automation_job_events e JOIN automation_jobs j ON j.id = e.job_id
         WHERE j.conversation_id = $1 AND e.kind = 'declaration_status' ORDER BY e.id`,
        [user.conversationId],
      );
      expect(events.map((e) => e.message.replace(/CD-\d+/, 'CD'))).toEqual([
        'CD submitted',
        expect.stringMatching(/^CD is under review \(ref SIM-CUS-\d+\)$/),
        'CD cleared',
      ]);
      const sent = await rows<{ kind: string; status: string }>(
        app.db.dataSource,
        `SELECT n.kind, n.status FROM notifications n JOIN automation_jobs j ON j.id = n.job_id WHERE j.conversation_id = $1 ORDER BY n.id`,
        [user.conversationId],
      );
      expect(sent).toEqual([
        { kind: 'info', status: 'sent' },
        { kind: 'completed', status: 'sent' },
      ]);
      const audit = await rows<{ action: string; outcome: string }>(
        app.db.dataSource,
        `SELECT action, outcome FROM audit_log WHERE conversation_id = $1 ORDER BY id`,
        [user.conversationId],
      );
      expect(audit).toEqual([
        { action: 'customs.file_declaration', outcome: 'submitted' },
        { action: 'customs.declaration_submitted', outcome: 'under_review' },
        { action: 'customs.declaration_decided', outcome: 'cleared' },
      ]);
    },
  },
  {
    name: 'a product without an HS code: the tariff table suggests one, "yes" takes it',
    user: BROKER,
    steps: [
      {
        say: 'file a customs declaration for SH-2004',
        expect: [
          /^Line 1 of SH-2004, 2 pieces of solar inverters \(SKU-1006\), has no HS code in the product master\. The tariff table suggests 8504\.40 — Static converters \(inverters, rectifiers, chargers, power supplies\)\. Use 8504\.40\?/,
        ],
      },
      { say: 'yes', expect: [/File this import declaration for SH-2004\?/, /air, Cathay Cargo, Hong Kong → WH-A Main/, /SKU-1006: solar inverters · 8504\.40 · CN · 2 pieces · \$840\.00 · 2\.5% = \$21\.00/] },
      { say: 'yes', expect: [/^📝 CD-\d+ is drafted for SH-2004/] },
      { notify: /^✅ (?<cd>CD-\d+) for SH-2004 is cleared by customs .*; duty assessed \$21\.00\. SH-2004 is ready to receive into WH-A Main\./, expect: [] },
    ],
    async db(app, _user, vars) {
      const lines = await rows(
        app.db.dataSource,
        `SELECT l.hs_code FROM customs_declaration_lines l JOIN customs_declarations d ON d.id = l.declaration_id WHERE d.number = $1`,
        [vars.cd],
      );
      expect(lines).toEqual([{ hs_code: '850440' }]);
      // The declaration carries the code; the product master is left for a person to classify.
      expect(await rows(app.db.dataSource, `SELECT hs_code FROM products WHERE sku = 'SKU-1006'`)).toEqual([{ hs_code: null }]);
    },
  },
  {
    name: 'an invalid HS code gets the declaration held; a corrected declaration replaces it and clears',
    user: OTHER_BROKER,
    steps: [
      { say: 'file a declaration for SH-2901', expect: [/The tariff table suggests 8504\.40/] },
      { say: 'no', expect: [/^Then what is its HS code\? Give 6 to 10 digits/] },
      { say: '12345', expect: [/^"12345" isn't an HS code\. What is the HS code of 3 pieces of solar inverters \(SKU-1006\)\?/] },
      {
        say: '770000',
        expect: [
          /SKU-1006: solar inverters · 7700\.00 · CN · 3 pieces · \$1,260\.00 · —/,
          /⚠️ Line 1 \(solar inverters\): 7700\.00 is not a valid HS code: chapter 77 is reserved; customs will hold the declaration\./,
        ],
      },
      { say: 'yes', expect: [/^📝 (?<first>CD-\d+) is drafted for SH-2901/] },
      {
        notify:
          /^⚠️ (?<held>CD-\d+) for SH-2901 is held by customs \(ref SIM-CUS-\d+\): line 1 \(solar inverters\): 7700\.00 is not a valid HS code: chapter 77 is reserved\. File a corrected declaration \("file a declaration for SH-2901"\) and it replaces this one\./,
        expect: [],
      },
      { say: 'file a declaration for SH-2901', expect: [/The tariff table suggests 8504\.40/] },
      { say: 'yes', expect: [/8504\.40 · CN · 3 pieces · \$1,260\.00/, /It replaces CD-\d+, which customs held \(line 1 \(solar inverters\): 7700\.00 is not a valid HS code/] },
      { say: 'yes', expect: [/^📝 (?<second>CD-\d+) is drafted for SH-2901; .* It replaces CD-\d+, which I withdrew\./] },
      { notify: /^✅ (?<cleared>CD-\d+) for SH-2901 is cleared by customs/, expect: [] },
    ],
    async db(app, _user, vars) {
      expect(vars.held).toBe(vars.first);
      expect(vars.cleared).toBe(vars.second);
      const ds = await declarationsOf(app, 'SH-2901');
      expect(ds.map((d) => [d.number, d.status, d.status_reason])).toEqual([
        [vars.first, 'cancelled', `replaced by ${vars.second}`],
        [vars.second, 'cleared', null],
      ]);
      expect(await shipmentStatus(app, 'SH-2901')).toBe('cleared');
    },
  },
  {
    name: 'a customs value over the inspection threshold is held for inspection',
    user: BROKER,
    steps: [
      { say: 'file a declaration for SH-2902', expect: [/Customs value: \$18,900\.00/, /Estimated duty: \$510\.30/] },
      { say: 'yes', expect: [/^📝 CD-\d+ is drafted for SH-2902/] },
      { notify: /^📨 CD-\d+ for SH-2902 is submitted and under review/, expect: [] },
      {
        notify:
          /^⚠️ (?<cd>CD-\d+) for SH-2902 is held by customs \(ref SIM-CUS-\d+\): selected for physical inspection: customs value 18,900\.00 USD is over 10,000\.00 USD\. The goods stay at customs until the inspection is done\./,
        expect: [],
      },
      { say: 'has SH-2902 cleared?', expect: [/^No — CD-\d+ for SH-2902 \(sea, Test Freight, Qingdao \(China\) → WH-C Rotterdam\) is held\. Customs is holding it \(customs ref SIM-CUS-\d+\): selected for physical inspection/] },
    ],
    async db(app, _user, vars) {
      const [d] = await declarationsOf(app, 'SH-2902');
      expect(d).toMatchObject({ number: vars.cd, status: 'held', duty_amount: null });
      expect(d?.status_reason).toMatch(/^selected for physical inspection/);
      expect(await shipmentStatus(app, 'SH-2902')).toBe('at_customs');
    },
  },
  {
    name: 'goods of a restricted origin are rejected',
    user: BROKER,
    steps: [
      { say: 'file a declaration for SH-2002', expect: [/SKU-1003: nitrile gloves \(box of 100\) · 4015\.19 · MY · 100 boxes · \$990\.00 · 2\.7% = \$26\.73/] },
      { say: 'yes', expect: [/^📝 CD-\d+ is drafted for SH-2002/] },
      { notify: /^❌ (?<cd>CD-\d+) for SH-2002 was rejected by customs \(ref SIM-CUS-\d+\): goods of origin MY are not admissible \(restricted origin\)\./, expect: [] },
    ],
    async db(app, _user, vars) {
      const [d] = await declarationsOf(app, 'SH-2002');
      expect(d).toMatchObject({ number: vars.cd, status: 'rejected' });
      expect(await shipmentStatus(app, 'SH-2002')).toBe('in_transit');
    },
  },
  {
    name: 'status by declaration, by shipment and by description; unknown ids; ambiguous and unknown descriptions',
    user: BUYER,
    steps: [
      {
        say: 'what is the status of CD-3001',
        expect: [/^CD-3001 for SH-2001 \(sea, Maersk, Hamburg \(Germany\) → WH-C Rotterdam\) is submitted\. It was submitted yesterday; customs hasn't reported back yet\./],
      },
      { say: 'customs status of SH-2001', expect: [/^CD-3001 for SH-2001 .* is submitted\./] },
      { say: 'what is the status of CD-99999', expect: [/^I can't find declaration CD-99999\./] },
      { say: 'what is the status of the customs declaration for SH-99999', expect: [/^I can't find shipment SH-99999\./] },
      { say: 'has the Frankfurt shipment cleared?', expect: [/^Not yet — SH-2903 \(air, Test Freight, Frankfurt \(Germany\) → WH-A Main\) is at customs and has no customs declaration yet\./] },
      {
        say: "what's the customs status of the container",
        expect: [/^Which one do you mean: SH-2902 from Qingdao, or SH-2003 from Shenzhen, or SH-2001 from Hamburg\?/],
      },
      { say: 'SH-2001', expect: [/^CD-3001 for SH-2001 .* is submitted\./] },
      { say: "what's the customs status of the Atlantis container", expect: [/^I couldn't tell which shipment you mean\. Give a shipment \(e\.g\. SH-2003\) or a declaration/] },
      { say: 'cancel', expect: [/Nothing was changed/] },
    ],
  },
  {
    name: 'classify goods: exact match, unsure matches, duty estimates, no match, a value too large',
    user: BUYER,
    steps: [
      {
        say: "what's the HS code for nitrile gloves",
        expect: [/^HS 4015\.19 — Gloves, mittens and mitts of vulcanised rubber, other\. Illustrative duty rate: 2\.7%\./, /Your product master lists nitrile gloves \(box of 100\) \(SKU-1003\) under 4015\.19\./],
      },
      {
        say: 'HS code for tyres',
        expect: [
          /^I'm not sure which subheading fits "tyres"\. The closest in the tariff table:/,
          /• 4011\.10 — New pneumatic rubber tyres, of a kind used on motor cars \(4\.5%\)/,
          /• 4011\.80 — New pneumatic rubber tyres for construction, mining or industrial handling vehicles \(4%\)/,
          /• 4012\.90 — Solid or cushion tyres/,
        ],
      },
      {
        say: "what's the HS code for lithium-ion battery packs worth $5,000 from China",
        expect: [/^HS 8507\.60 — Lithium-ion accumulators\./, /Duty estimate: 2\.7% of \$5,000\.00 = \$135\.00 for goods of origin China/],
      },
      {
        say: 'HS code for coffee beans from Brazil worth $2,000',
        expect: [/^HS 0901\.11 — Coffee, not roasted, not decaffeinated\./, /Duty estimate: 0% of \$2,000\.00 = \$0\.00 for goods of origin Brazil/, /Also close: 0901\.21/],
      },
      { say: 'HS code for solar inverters', expect: [/^HS 8504\.40 — Static converters/, /solar inverters \(SKU-1006\) has no HS code in your product master yet\./] },
      { say: 'HS code for widgets', expect: [/^I couldn't find anything close to "widgets" in the tariff table — it covers \d+ common HS 2022 subheadings/] },
      {
        say: 'what is the duty on 10,000,000,000,000 dollars of solar inverters from China',
        expect: [/^\$10,000,000,000,000\.00 is more than I estimate duty for \(up to \$1,000,000,000\.00\)\./],
      },
    ],
  },
  {
    name: 'a buyer cannot file; injection-looking input changes nothing and is answered safely',
    user: BUYER,
    steps: [
      {
        say: 'file a declaration for SH-2003; DROP TABLE shipments',
        expect: [/^Filing customs declarations needs the broker or admin role \(yours: buyer\)\./],
      },
      { say: "status of CD-3001'; UPDATE customs_declarations SET status='cleared';--", expect: [/^(Not yet — )?CD-3001 for SH-2001 .* is submitted\./] },
      { say: 'HS code for <script>alert(1)</script> gloves', expect: [/tariff table/], reject: [/<script>|<\/script>/] },
    ],
    async db(app, user) {
      expect(await rows(app.db.dataSource, `SELECT status FROM customs_declarations WHERE number = 'CD-3001'`)).toEqual([{ status: 'submitted' }]);
      expect(Number((await rows<{ n: string }>(app.db.dataSource, 'SELECT count(*) AS n FROM shipments'))[0]!.n)).toBeGreaterThan(5);
      expect(await jobsOf(app, user)).toEqual([]);
      const refused = await rows<{ action: string; outcome: string }>(
        app.db.dataSource,
        `SELECT action, outcome FROM audit_log WHERE conversation_id = $1 ORDER BY id`,
        [user.conversationId],
      );
      expect(refused).toEqual([{ action: 'customs.file_declaration', outcome: 'refused' }]);
    },
  },
  {
    name: 'which shipment? is asked; unknown and already-declared shipments are refused',
    user: BROKER,
    steps: [
      { say: 'I need to file a customs declaration', expect: [/^Which shipment should I declare\? Give its number \(e\.g\. SH-2003\) or describe it\. Shipments waiting for one: .*SH-2903 from Frankfurt/] },
      { say: 'SH-99999', expect: [/^I can't find shipment SH-99999\./] },
      { say: 'file a declaration for SH-99999', expect: [/^I can't find shipment SH-99999\./] },
      { say: 'file a declaration for SH-2001', expect: [/^SH-2001 already has declaration CD-3001, which is submitted\. Ask "status of CD-3001" to follow it\./] },
    ],
  },
];

describe.each(targets)('customs conversations on $name', (target) => {
  const fixture = useSkillApp(
    target,
    {
      USER_ROLES: `${TEST_ROLES},${BROKER.id}=broker,${OTHER_BROKER.id}=broker,${CLERK.id}=clerk`,
      CUSTOMS_REVIEW_MS: '500',
      CUSTOMS_INSPECTION_THRESHOLD: '10000',
      CUSTOMS_RESTRICTED_ORIGINS: 'MY',
    },
    {},
    addFixtureShipments,
  );

  it.skipIf(target.skip).each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const user = new ChatUser(() => fixture.app.url, fixture.receiver, c.user.id, c.user.name);
    const vars: Vars = {};
    for (const [i, step] of c.steps.entries()) {
      const where = `${c.name} — step ${i + 1}`;
      if (step.notify) {
        const [hit] = await user.waitForNotification(step.notify);
        Object.assign(vars, step.notify.exec(hit!.text)?.groups ?? {});
        continue;
      }
      const replies = step.click ? await user.click(step.click) : await user.say(typeof step.say === 'function' ? step.say(vars) : step.say!);
      const text = allText(replies);
      for (const re of step.expect) {
        expect(text, where).toMatch(re);
        Object.assign(vars, re.exec(text)?.groups ?? {});
      }
      for (const re of step.reject ?? []) expect(text, where).not.toMatch(re);
      if (step.buttons) expect(replies.flatMap((r) => r.buttons.map((b) => b.title)), where).toEqual(step.buttons);
    }
    await c.db?.(fixture.app, user, vars);
  });

  it.skipIf(target.skip)('cross-skill: customs cleared SH-2003 → a clerk receives it → PO-1007 is closed', async () => {
    // The happy path cleared SH-2003 ("the Shenzhen container") through the simulated authority.
    expect(await shipmentStatus(fixture.app, 'SH-2003')).toBe('cleared');
    const clerk = new ChatUser(() => fixture.app.url, fixture.receiver, CLERK.id, CLERK.name);
    const asked = allText(await clerk.say('receive goods from SH-2003'));
    expect(asked).not.toMatch(/customs/i);
    expect(asked).toMatch(/SH-2003/);
    expect(asked).toMatch(/PO-1007/);
    expect(allText(await clerk.click('Confirm'))).toMatch(/^On it: job \d+ is booking the receipt of 400 SKU-1001, 10 SKU-1005 against PO-1007 \(SH-2003\) into WH-B\./);
    await clerk.waitForNotification(/📦 GR-\d+ booked into WH-B Dallas\. PO-1007 is now received\. SH-2003 is delivered\./, 30_000);
    expect(await shipmentStatus(fixture.app, 'SH-2003')).toBe('delivered');
    const { rows: po } = await execute<{ status: string }>(fixture.app.db.dataSource, `SELECT status FROM purchase_orders WHERE number = 'PO-1007'`);
    expect(po[0]?.status).toBe('received');
    // …and "what's still running?" lists the jobs of both skills.
    const jobs = allText(await clerk.say('show all jobs'));
    expect(jobs).toMatch(/\d+: file declaration · CD-\d+ · succeeded/);
    expect(jobs).toMatch(/\d+: await decision · CD-\d+ · succeeded · .* cleared by customs/);
    expect(jobs).toMatch(/\d+: receive goods · PO-1007 · succeeded · .* GR-\d+ booked; PO-1007 received/);
  });

  it.skipIf(target.skip)('a confirmation delivered 10 times at once (and once more, late) files one declaration', async () => {
    const user = new ChatUser(() => fixture.app.url, fixture.receiver, BROKER.id, BROKER.name);
    expect(allText(await user.say('file a declaration for SH-2903'))).toMatch(/File this import declaration for SH-2903\?/);
    const confirm = user.buttonValue('Confirm');
    const copies = Array.from({ length: 10 }, () => user.activity({ text: '', value: confirm }));
    const responses = await Promise.all(copies.map((a) => post(`${fixture.app.url}/api/messages`, a)));
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
    await user.waitForNotification(/^✅ CD-\d+ for SH-2903 is cleared by customs/);
    expect((await post(`${fixture.app.url}/api/messages`, user.activity({ text: '', value: confirm }))).status).toBe(200);
    await new Promise((r) => setTimeout(r, 500)); // anything a duplicate might still send

    expect((await declarationsOf(fixture.app, 'SH-2903')).map((d) => d.status)).toEqual(['cleared']);
    expect((await jobsOf(fixture.app, user)).map((j) => j.action)).toEqual(['customs.file_declaration', 'customs.await_decision']);
    const said = fixture.receiver.received.filter((r) => r.conversationId === user.conversationId).map((r) => toReply(r.activity).text);
    expect(said.filter((text) => /^📝 CD-\d+ is drafted/.test(text))).toHaveLength(1);
    expect(said.filter((text) => /is cleared by customs/.test(text))).toHaveLength(1);

    // Another broker, another conversation: the shipment is done.
    const other = new ChatUser(() => fixture.app.url, fixture.receiver, OTHER_BROKER.id, OTHER_BROKER.name);
    expect(allText(await other.say('file a declaration for SH-2903'))).toMatch(/^SH-2903 already cleared customs under CD-\d+\./);
  });

  it.skipIf(target.skip)('two brokers confirming filings for the same shipment at once: one declaration, the other is told why not', async () => {
    const a = new ChatUser(() => fixture.app.url, fixture.receiver, BROKER.id, BROKER.name);
    const b = new ChatUser(() => fixture.app.url, fixture.receiver, OTHER_BROKER.id, OTHER_BROKER.name);
    // SH-2002's declaration was rejected: it may be filed again, by one of them.
    expect(allText(await a.say('file a declaration for SH-2002'))).toMatch(/File this import declaration for SH-2002\?/);
    expect(allText(await b.say('file a declaration for SH-2002'))).toMatch(/File this import declaration for SH-2002\?/);
    const [ra, rb] = await Promise.all([a.click('Confirm'), b.click('Confirm')]);
    const texts = [allText(ra), allText(rb)].sort();
    expect(texts[0]).toMatch(/^Nothing filed: SH-2002 already has declaration CD-\d+, which is (draft|submitted|under review)\./);
    expect(texts[1]).toMatch(/^📝 CD-\d+ is drafted for SH-2002/);
    await eventually(async () => (await declarationsOf(fixture.app, 'SH-2002')).filter((d) => d.status === 'rejected').length === 2, 15_000, 'the second rejection');
    expect((await declarationsOf(fixture.app, 'SH-2002')).map((d) => d.status)).toEqual(['rejected', 'rejected']);
  });
});
