/**
 * Excel workflows over native Slack, on both databases: an .xlsx shared in a DM (downloaded by the
 * Slack channel with the bot token) → the per-row report as Block Kit → the "Place" button → one
 * job per valid row; "export my open orders" → the .xlsx bytes uploaded with files.uploadV2, opened
 * again with exceljs and checked against the database.
 */
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../../../src/app.js';
import { databaseTargets, type TestDatabase } from '../../helpers/databases.js';
import { blockActionsPayload, eventEnvelope, FakeSlackApi, interactivityBody, signedPost, userTs, type Block } from '../../helpers/fakeSlackApi.js';
import { IntentTableRecognizer } from '../../helpers/intentTable.js';
import { eventually, rows, startProcurementApp, TEST_INTENT_PATTERNS, TEST_INTENTS } from '../../helpers/procurementFixture.js';

const targets = await databaseTargets();
const SECRET = 'slack-signing-secret-for-excel-0123';
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

async function workbook(data: unknown[][]): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('Orders');
  for (const row of data) ws.addRow(row);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

describe.each(targets)('Excel over native Slack on $name', (target) => {
  let t: TestDatabase;
  let app: RunningApp;
  let fake: FakeSlackApi;

  const events = (body: unknown) => signedPost(`${app.url}/api/slack/events`, SECRET, JSON.stringify(body));
  const click = (payload: Record<string, unknown>) =>
    signedPost(`${app.url}/api/slack/interactivity`, SECRET, interactivityBody(payload), { contentType: 'application/x-www-form-urlencoded' });
  const dm = (user: string, text: string, extra: Record<string, unknown> = {}) =>
    eventEnvelope({ type: 'message', channel: `D${user.slice(1)}`, channel_type: 'im', user, text, ts: userTs(), client_msg_id: `${Math.random()}`, ...extra }, fake);

  beforeAll(async () => {
    if (target.skip) return;
    fake = new FakeSlackApi();
    await fake.start();
    t = await target.create();
    await t.db.close();
    app = await startProcurementApp(
      t.config,
      { SLACK_SIGNING_SECRET: SECRET, SLACK_BOT_TOKEN: fake.token, SLACK_API_URL: fake.apiUrl, SLACK_BOT_USER_ID: fake.botUserId },
      { recognizer: new IntentTableRecognizer(TEST_INTENTS, TEST_INTENT_PATTERNS) },
    );
  });

  afterAll(async () => {
    await app?.close();
    await fake?.stop();
    await t?.dispose();
  });

  it.skipIf(target.skip)('imports a shared .xlsx after the Place button, then exports the open orders as an uploaded .xlsx', async () => {
    const user = 'U0XLSX';
    const channel = 'D0XLSX';
    const file = fake.addFile(
      'orders.xlsx',
      XLSX,
      await workbook([
        ['SKU', 'Quantity', 'Supplier', 'Ship to'],
        ['SKU-1001', 15, 'Acme Corp', 'WH-A'],
        ['SKU-7777', 1, 'Acme Corp', 'WH-A'],
        ['SKU-1003', 8, 'Northwind', 'Dallas'],
      ]),
    );
    expect((await events(dm(user, 'import these orders', { subtype: 'file_share', files: [file] }))).status).toBe(200);
    const report = await fake.waitFor(() => fake.posted(channel)[0], 15_000, 'the report');
    expect(report.text).toMatch(/^I checked "orders\.xlsx" \(sheet "Orders", purchase order lines\): 3 rows, 2 ready, 1 with problems\./);
    const fields = (report.blocks as Block[]).filter((b) => b.type === 'section' && b.fields).flatMap((b) => (b.fields as { text: string }[]).map((f) => f.text));
    expect(fields).toContain("*❌ Row 3*\nI can't find SKU-7777 in the product list.");
    expect(fields.some((f) => /^\*✅ Row 4\*\n8 boxes of SKU-1003 nitrile gloves \(box of 100\) from Northwind Traders to WH-B/.test(f))).toBe(true);

    expect((await click(blockActionsPayload(fake, report, 'Place 2 orders', user))).status).toBe(200);
    const jobs = await eventually(async () => {
      const list = await rows<{ status: string; subject_id: string }>(app.db.dataSource, `SELECT status, subject_id FROM automation_jobs WHERE requested_by = $1 ORDER BY id`, [user]);
      return list.length === 2 && list.every((j) => j.status === 'succeeded') ? list : undefined;
    }, 20_000, 'two jobs');
    // The clicked report now says what came of it, without its buttons.
    const settled = await fake.waitFor(() => {
      const m = fake.messages.get(`${channel}/${report.ts}`);
      return m?.edited ? m : undefined;
    }, 15_000, 'the report settled');
    expect((settled.blocks as Block[]).some((b) => b.type === 'actions')).toBe(false);
    expect(settled.text).toMatch(/^On it: 2 jobs are working on 2 orders from "orders\.xlsx"/);

    await events(dm(user, 'export my open orders'));
    const upload = await fake.waitFor(() => [...fake.uploads.values()].find((u) => u.channel === channel && u.bytes), 15_000, 'the uploaded export');
    expect(upload.filename).toMatch(/^open-orders-\d{4}-\d{2}-\d{2}\.xlsx$/);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(upload.bytes as unknown as ArrayBuffer);
    const sheet = wb.getWorksheet('Orders')!;
    const exported = [];
    for (let r = 2; r <= sheet.rowCount; r++) exported.push((sheet.getRow(r).values as unknown[]).slice(1, 4));
    const db = await rows<{ number: string; supplier: string; ship_to: string }>(
      app.db.dataSource,
      `SELECT po.number, s.name AS supplier, po.ship_to FROM purchase_orders po JOIN suppliers s ON s.id = po.supplier_id
       WHERE po.requested_by = $1 ORDER BY po.created_at DESC, po.id DESC`,
      [user],
    );
    expect(db.map((o) => o.number).sort()).toEqual(jobs.map((j) => j.subject_id).sort());
    expect(exported).toEqual(db.map((o) => [o.number, 'confirmed', o.supplier]));
    expect(fake.posted(channel).some((m) => /^Here are 2 open purchase orders raised by you as a spreadsheet: open-orders-/.test(m.text))).toBe(true);
  });
});
