/**
 * Excel workflows end to end, on both databases, through the real server (POST /api/messages):
 * an .xlsx of order lines with bad rows → a per-row report with each row's problem (the skill's own
 * reasons) → confirmation → one job per valid row → purchase orders; the same file again, and a
 * second confirmation, start nothing new; wrong and damaged files get a clear reply; files arrive
 * as data: URLs, from the sending channel's own server (terminal chat), as Teams download.info
 * (fetched from a local HTTP server) and through the local Web Chat upload; exports of open
 * orders come back as a link and an attachment, are downloaded and opened with exceljs, and are
 * checked against the database; unknown and expired links are 404.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WireActivity } from '../../../src/chat/connectorReceiver.js';
import { rowKey } from '../../../src/skills/excel/importer.js';
import { allText, ChatUser, type BotReply } from '../../helpers/chatUser.js';
import { databaseTargets } from '../../helpers/databases.js';
import { eventually, rows, TEST_ROLES, useSkillApp } from '../../helpers/procurementFixture.js';

const targets = await databaseTargets();
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** A workbook with one sheet of these rows (the first is the header). */
async function workbook(data: unknown[][], sheet = 'Orders'): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet(sheet);
  for (const row of data) ws.addRow(row);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

const asDataUrl = (bytes: Buffer, type = XLSX) => `data:${type};base64,${bytes.toString('base64')}`;

/** Order lines: rows 2 and 7 are fine (7 names its product and warehouse by name), every other row has one mistake. */
const ORDER_LINES = [
  ['SKU', 'Qty', 'Supplier', 'Ship to', 'Need by', 'Comment'],
  ['SKU-1001', 20, 'Acme Corp', 'WH-A', new Date(Date.UTC(2031, 8, 1)), 'fine'],
  ['SKU-9999', 5, 'Globex', 'WH-A', null, 'unknown SKU'],
  ['SKU-1002', 'ten', 'Globex', 'WH-B', null, 'not a number'],
  ['SKU-1003', -3, 'Northwind Traders', 'WH-A', null, 'negative'],
  ['SKU-1004', 10, 'Acme Corpp', 'WH-A', null, 'typo in the supplier'],
  ['copy paper', 12, 'Globex', 'Dallas', '2031-09-15', 'fine, by name'],
  ['SKU-1005', 2.5, 'Acme Corp', 'WH-C', null, 'half a battery'],
  ['SKU-1001', 7, null, 'WH-A', null, 'no supplier'],
  ['SKU-1001', 3, 'Initech', 'WH-Z', null, 'unknown warehouse'],
];

describe.each(targets)('Excel workflows on $name', (target) => {
  let fileServer: Server;
  let fileServerUrl: string;
  const served = new Map<string, { status: number; bytes: Buffer }>();

  beforeAll(async () => {
    if (target.skip) return;
    // Stands in for SharePoint/OneDrive behind a Teams download.info link.
    fileServer = createServer((req, res) => {
      const file = served.get(req.url ?? '');
      res.statusCode = file?.status ?? 404;
      res.setHeader('content-type', 'application/octet-stream');
      res.end(file?.bytes ?? 'not found');
    });
    await new Promise<void>((resolve) => fileServer.listen(0, '127.0.0.1', resolve));
    fileServerUrl = `http://127.0.0.1:${(fileServer.address() as AddressInfo).port}`;
  });

  // Registered before useSkillApp's: after-hooks run in reverse, so the app is closed first.
  afterAll(async () => {
    fileServer?.closeAllConnections();
    await new Promise<void>((resolve) => (fileServer ? fileServer.close(() => resolve()) : resolve()));
  });

  // The stand-in for SharePoint is on loopback: named explicitly as a Teams file host (TEAMS_FILE_HOSTS).
  const fixture = useSkillApp(target, () => ({ WEBCHAT_ENABLED: 'true', USER_ROLES: `${TEST_ROLES},kim=clerk`, TEAMS_FILE_HOSTS: fileServerUrl }));

  const newUser = (name = 'Alice Buyer', id = `buyer-${Math.random().toString(36).slice(2, 8)}`) => new ChatUser(() => fixture.app.url, fixture.receiver, id, name);
  const sendFile = (user: ChatUser, attachment: Record<string, unknown>, text = '') =>
    user.send(user.activity({ text, attachments: [attachment], deliveryMode: 'expectReplies' }));
  const sendXlsx = (user: ChatUser, bytes: Buffer, name = 'orders.xlsx', text = '') => sendFile(user, { contentType: XLSX, name, contentUrl: asDataUrl(bytes) }, text);
  const jobsOf = (user: ChatUser) =>
    rows<{ id: string; status: string; subject_id: string | null; idempotency_key: string }>(
      fixture.app.db.dataSource,
      `SELECT id, status, subject_id, idempotency_key FROM automation_jobs WHERE requested_by = $1 ORDER BY id`,
      [user.userId],
    );
  const ordersOf = (user: ChatUser) =>
    rows<{ number: string; supplier: string; ship_to: string; need_by: string | null; status: string; sku: string; quantity: string }>(
      fixture.app.db.dataSource,
      `SELECT po.number, s.name AS supplier, po.ship_to, to_char(po.need_by, 'YYYY-MM-DD') AS need_by, po.status, l.sku, l.quantity
       FROM purchase_orders po JOIN suppliers s ON s.id = po.supplier_id JOIN purchase_order_lines l ON l.po_id = po.id
       WHERE po.requested_by = $1 ORDER BY po.id`,
      [user.userId],
    );
  const reportLine = (replies: BotReply[], row: number) => allText(replies).split('\n').find((l) => l.includes(`Row ${row}:`)) ?? '';

  it.skipIf(target.skip)('checks every row, reports each problem, and on confirmation runs one job per valid row', async () => {
    const user = newUser();
    const bytes = await workbook(ORDER_LINES);
    const report = await sendXlsx(user, bytes, 'orders.xlsx', 'please import these');
    expect(report).toHaveLength(1);
    const text = allText(report);
    expect(text).toMatch(/I checked "orders\.xlsx" \(sheet "Orders", purchase order lines\): 9 rows, 2 ready, 7 with problems\./);
    // The card: a row each, ✅ / ❌ with the summary or the skill's own reason.
    expect(reportLine(report, 2)).toMatch(/✅ Row 2\b.*20 pieces of SKU-1001 steel bearings 6204 from Acme Corp to WH-A by 2031-09-01, \$90\.00/);
    expect(reportLine(report, 3)).toMatch(/❌ Row 3\b.*I can't find SKU-9999 in the product list\.$/);
    expect(reportLine(report, 4)).toMatch(/❌ Row 4\b.*Quantity "ten" is not a number\./);
    expect(reportLine(report, 5)).toMatch(/❌ Row 5\b.*nitrile gloves \(box of 100\) are ordered in whole box\w*, from 1 to 1,000,000\./);
    expect(reportLine(report, 6)).toMatch(/❌ Row 6\b.*I don't know a supplier called "Acme Corpp"\. Did you mean Acme Corp\?/);
    expect(reportLine(report, 7)).toMatch(/✅ Row 7\b.*12 boxes of SKU-1002 A4 copy paper \(box\) from Globex to WH-B by 2031-09-15, \$336\.00/);
    expect(reportLine(report, 8)).toMatch(/❌ Row 8\b.*lithium-ion battery packs are ordered in whole pieces/);
    expect(reportLine(report, 9)).toMatch(/❌ Row 9\b.*Supplier is empty\./);
    expect(reportLine(report, 10)).toMatch(/❌ Row 10\b.*I don't know warehouse WH-Z\./);
    expect(text).toMatch(/Shall I place the 2 orders \(one job per row\)\?/);
    expect(user.buttons.map((b) => b.title)).toEqual(['Place 2 orders', 'Cancel']);
    const placeButton = user.buttonValue('Place 2 orders') as Record<string, unknown>;
    // Nothing runs before the confirmation.
    expect(await jobsOf(user)).toEqual([]);

    const done = await user.click('Place 2 orders');
    expect(allText(done)).toMatch(/^On it: 2 jobs are working on 2 orders from "orders\.xlsx" \(row 2 → job \d+, row 7 → job \d+\)\. I'll tell you here as each one finishes\./);

    expect(allText(done)).toMatch(/Skipped: 7 rows \(3, 4, 5, 6, 8, 9 and 10\)\./);
    const jobs = await eventually(async () => {
      const list = await jobsOf(user);
      return list.length === 2 && list.every((j) => j.status === 'succeeded') ? list : undefined;
    }, 20_000, 'two succeeded jobs');
    // Each job carries its row's key: file hash + sheet + row.
    const sha = (await import('node:crypto')).createHash('sha256').update(bytes).digest('hex');
    expect(jobs.map((j) => j.idempotency_key)).toEqual([rowKey('procurement.create_order', sha, 'Orders', 2), rowKey('procurement.create_order', sha, 'Orders', 7)]);
    // The two jobs run concurrently, so either may create its PO (and take the lower number) first:
    // match each row's order through its job.
    const placed = await ordersOf(user);
    expect(placed).toHaveLength(2);
    expect(placed.find((o) => o.number === jobs[0]!.subject_id)).toEqual(
      { number: jobs[0]!.subject_id, supplier: 'Acme Corp', ship_to: 'WH-A', need_by: '2031-09-01', status: 'confirmed', sku: 'SKU-1001', quantity: '20.000' },
    );
    expect(placed.find((o) => o.number === jobs[1]!.subject_id)).toEqual(
      { number: jobs[1]!.subject_id, supplier: 'Globex', ship_to: 'WH-B', need_by: '2031-09-15', status: 'confirmed', sku: 'SKU-1002', quantity: '12.000' },
    );
    await user.waitForNotification(/✅ PO-\d+ is placed/, 15_000, 2);

    // The same file again: the imported rows are marked, nothing is offered, nothing new runs.
    const again = await sendXlsx(user, bytes);
    expect(reportLine(again, 2)).toMatch(/⏭ Row 2\b.*already imported \(job \d+\); it won't be done again/);
    expect(reportLine(again, 7)).toMatch(/⏭ Row 7\b.*already imported/);
    expect(allText(again)).toMatch(/No row can be imported as it is\. Fix the rows marked ❌ and send the file again\./);
    // The first report's button, clicked again: the stored outcome, no new job.
    expect(allText(await user.click(placeButton))).toMatch(/^That file was already imported: On it: 2 jobs/);
    expect(await jobsOf(user)).toHaveLength(2);

    // The file with rows 3 and 4 fixed: new bytes, so new keys — but row 2 is the same order as
    // before, and is skipped rather than placed twice.
    const fixed = ORDER_LINES.slice(0, 4).map((r) => [...r]);
    fixed[2]![0] = 'SKU-1001';
    fixed[3]![1] = 10;
    const fixedReport = await sendXlsx(user, await workbook(fixed), 'orders-fixed.xlsx');
    expect(allText(fixedReport)).toMatch(/3 rows, 2 ready, 0 with problems, 1 already imported/);
    expect(reportLine(fixedReport, 2)).toMatch(/⏭ Row 2\b.*same as row 2 of "orders\.xlsx", imported (just now|\d+ min ago) \(job \d+\); skipped so it isn't done twice/);
    const yes = await user.say('yes');
    expect(allText(yes)).toMatch(/^On it: 2 jobs are working on 2 orders from "orders-fixed\.xlsx" \(row 3 → job \d+, row 4 → job \d+\)/);
    // "yes" again, and the button: the same outcome, still no duplicate.
    expect(allText(await user.say('yes'))).not.toMatch(/On it: 2 jobs/);
    expect(allText(await user.click(user.buttons[0]!.title))).toMatch(/^That file was already imported/);
    await eventually(async () => ((await jobsOf(user)).length === 4 ? true : undefined), 10_000, 'four jobs');
    await new Promise((r) => setTimeout(r, 300));
    expect(await jobsOf(user)).toHaveLength(4);
  });

  it.skipIf(target.skip)('replies through the connector (as Teams and Web Chat get them): the report card is replaced by who decided', async () => {
    const user = newUser();
    // Its own file (a sheet name no other test uses): the same bytes again would be "already imported".
    const bytes = await workbook(ORDER_LINES, 'Connector orders');
    // No expectReplies: the bot POSTs its replies to the channel and gets their ids back.
    await user.send(user.activity({ text: '', attachments: [{ contentType: XLSX, name: 'orders.xlsx', contentUrl: asDataUrl(bytes) }] }));
    const card = await fixture.receiver.waitFor(1, 15_000, (r) => r.conversationId === user.conversationId && r.method === 'POST' && /Place 2 orders/.test(JSON.stringify(r.activity.attachments)));
    const cardActivity = card[0]!.activity;
    const cardJson = JSON.stringify(cardActivity.attachments);
    const run = /"data":(\{[^}]*"verb":"excel\.run"[^}]*\})/.exec(cardJson);
    expect(run).not.toBeNull();
    await user.send(user.activity({ text: '', value: JSON.parse(run![1]!) }));
    const [update] = await fixture.receiver.waitFor(1, 15_000, (r) => r.conversationId === user.conversationId && r.method === 'PUT');
    expect(cardActivity.id).toBeTruthy();
    expect(update!.activity.id).toBe(cardActivity.id);
    const updated = JSON.stringify(update!.activity.attachments);
    expect(updated).toMatch(/Confirmed by Alice Buyer/);
    expect(updated).toMatch(/Row 2/); // the report stays readable…
    expect(updated).not.toMatch(/Action\.Submit/); // …without its buttons
    await eventually(async () => ((await jobsOf(user)).length === 2 ? true : undefined), 20_000, 'two jobs');
  });

  it.skipIf(target.skip)('two confirmations at the same time start each row once', async () => {
    const user = newUser();
    const bytes = await workbook([
      ['Item', 'Quantity', 'Vendor'],
      ['SKU-1003', 4, 'Northwind'],
      ['SKU-1004', 6, 'Initech'],
    ]);
    await sendXlsx(user, bytes, 'twice.xlsx');
    const value = user.buttonValue('Place 2 orders') as Record<string, unknown>;
    const [a, b] = await Promise.all([user.click(value), user.click(value)]);
    const texts = [allText(a), allText(b)];
    expect(texts.filter((x) => /^On it: 2 jobs/.test(x))).toHaveLength(1);
    expect(texts.filter((x) => /already (running|imported)/.test(x))).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(await jobsOf(user)).toHaveLength(2);
  });

  it.skipIf(target.skip)('"no" cancels the import; another user cannot confirm someone else\'s file', async () => {
    const user = newUser();
    await sendXlsx(user, await workbook([['SKU', 'Qty', 'Supplier'], ['SKU-1001', 1, 'Acme Corp']]), 'one.xlsx');
    const button = user.buttonValue('Place 1 order') as Record<string, unknown>;
    const intruder = new ChatUser(() => fixture.app.url, fixture.receiver, 'mallory', 'Mallory', user.conversationId);
    expect(allText(await intruder.click(button))).toBe('Only Alice Buyer can confirm or cancel this import.');
    expect(allText(await user.say('no'))).toBe('OK, I won\'t import "one.xlsx". Nothing was changed.');
    expect(allText(await user.click(button))).toMatch(/That import was cancelled, so nothing was done\./);
    // After the import is over, "yes" is just "yes" again.
    expect(allText(await user.say('yes'))).not.toMatch(/import/);
    expect(await jobsOf(user)).toEqual([]);
  });

  it.skipIf(target.skip)('wrong, damaged and unreadable files get a clear reply and change nothing', async () => {
    const user = newUser();
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ contentType: 'application/pdf', name: 'invoice.pdf', contentUrl: asDataUrl(Buffer.from('%PDF-1.7'), 'application/pdf') }, /^I can only read Excel workbooks \(\.xlsx\), so I didn't do anything with "invoice\.pdf"\./],
      [{ contentType: 'text/csv', name: 'orders.csv', contentUrl: asDataUrl(Buffer.from('SKU,Qty\n'), 'text/csv') }, /"orders\.csv" is a csv file\. Please save it as "Excel Workbook \(\.xlsx\)"/],
      [{ contentType: XLSX, name: 'broken.xlsx', contentUrl: asDataUrl(Buffer.from('this is not a workbook')) }, /^I couldn't open "broken\.xlsx": it isn't a valid Excel workbook/],
      [{ contentType: XLSX, name: 'cut.xlsx', contentUrl: asDataUrl((await workbook(ORDER_LINES)).subarray(0, 3000)) }, /^I couldn't open "cut\.xlsx"/],
      [{ contentType: XLSX, name: 'old.xlsx', contentUrl: asDataUrl(Buffer.from('d0cf11e0a1b11ae1000000', 'hex')) }, /old-style Excel 97–2003 workbook/],
      [{ contentType: XLSX, name: 'notes.xlsx', contentUrl: asDataUrl(await workbook([['Name', 'Phone'], ['Bob', '555']])) }, /I couldn't find the columns I need in "notes\.xlsx"\. Put the column names in the first row — purchase order lines: SKU, Quantity, Supplier \(optional: Ship to, Need by\); a receiving list: PO, SKU, Quantity \(optional: Warehouse, Bin, Shipment\) — and send it again\./],
      [{ contentType: XLSX, name: 'header-only.xlsx', contentUrl: asDataUrl(await workbook([['SKU', 'Qty', 'Supplier']])) }, /has the column names \(sheet "Orders", row 1\) but no rows under them/],
      // Over the import limit (5 MB), from the channel's own file store (a data: URL that size is over MAX_BODY_BYTES).
      [{ contentType: XLSX, name: 'big.xlsx', contentUrl: fixture.receiver.sharedFiles.add(Buffer.alloc(6 * 1024 * 1024), XLSX) }, /^"big\.xlsx" is too large for me \(6\.0 MB; the limit is 5\.0 MB\)\./],
      // A link on someone else's server: never fetched.
      [{ contentType: XLSX, name: 'elsewhere.xlsx', contentUrl: `${fileServerUrl}/elsewhere.xlsx` }, /^I can't download "elsewhere\.xlsx" from where it is stored\./],
    ];
    for (const [attachment, expected] of cases) {
      const replies = await sendFile(user, attachment);
      expect(allText(replies), String(attachment.name)).toMatch(expected);
      expect(user.buttons.filter((b) => b.title.startsWith('Place')), String(attachment.name)).toEqual([]);
    }
    const tooMany = [['SKU', 'Qty', 'Supplier'], ...Array.from({ length: 201 }, () => ['SKU-1001', 1, 'Acme Corp'])];
    expect(allText(await sendXlsx(user, await workbook(tooMany), 'many.xlsx'))).toMatch(/"many\.xlsx" has 201 rows on sheet "Orders"; I can import at most 200 at a time\./);
    expect(await jobsOf(user)).toEqual([]);
    expect(await rows(fixture.app.db.dataSource, `SELECT 1 FROM excel_imports WHERE conversation_id = $1`, [user.conversationId])).toEqual([]);
  });

  it.skipIf(target.skip)('a user without the buyer role is told so once, not per row', async () => {
    const approver = newUser('Bob Approver', 'bob');
    const replies = await sendXlsx(approver, await workbook(ORDER_LINES));
    expect(allText(replies)).toBe("I can't raise purchase orders for you: that needs the buyer role, and yours is approver. An admin can add it in USER_ROLES.");
  });

  it.skipIf(target.skip)("takes files from the sending channel's own server (the terminal chat) and from Teams download links", async () => {
    const user = newUser();
    const bytes = await workbook([['SKU', 'Quantity', 'Supplier', 'Ship to'], ['SKU-1004', 3, 'Initech', 'Rotterdam']]);
    // The terminal chat serves the file on its own serviceUrl and sends the link.
    const local = await sendFile(user, { contentType: XLSX, name: 'local.xlsx', contentUrl: fixture.receiver.sharedFiles.add(bytes, XLSX) });
    expect(allText(local)).toMatch(/✅ Row 2\b.*3 pallets of SKU-1004 euro pallets from Initech to WH-C/);

    // Teams personal chat: download.info with a pre-authenticated downloadUrl, fetched at once.
    served.set('/sites/orders/teams.xlsx', { status: 200, bytes });
    const teamsFile = (downloadUrl: string, name = 'teams.xlsx') => ({
      contentType: 'application/vnd.microsoft.teams.file.download.info',
      name,
      contentUrl: 'https://contoso.sharepoint.com/personal/alice/Documents/teams.xlsx',
      content: { downloadUrl, uniqueId: '1150D938-8870-4044-9F2C-5BBDEBA70C9D', fileType: 'xlsx' },
    });
    // Teams adds the message's HTML as an attachment too: it is not a file.
    // Only activities of the Teams channel carry these links.
    const sendTeamsFile = (attachment: Record<string, unknown>) =>
      user.send(user.activity({ text: '', channelId: 'msteams', attachments: [attachment], deliveryMode: 'expectReplies' }));
    const teams = await user.send(
      user.activity({ text: '', channelId: 'msteams', attachments: [{ contentType: 'text/html', content: '<p></p>' }, teamsFile(`${fileServerUrl}/sites/orders/teams.xlsx`)], deliveryMode: 'expectReplies' }),
    );
    expect(allText(teams)).toMatch(/I checked "teams\.xlsx".*1 row, 1 ready/);
    expect(allText(await sendFile(user, teamsFile(`${fileServerUrl}/sites/orders/teams.xlsx`, 'not-teams.xlsx')))).toMatch(/^I can't download "not-teams\.xlsx": that kind of file link only comes from Teams\./);
    expect(allText(await sendTeamsFile(teamsFile(`${fileServerUrl}/sites/orders/expired.xlsx`, 'expired.xlsx')))).toBe(
      'I couldn\'t download "expired.xlsx" (the link has expired or is not allowed). Please send it again.',
    );
    expect(allText(await sendTeamsFile(teamsFile('http://10.0.0.1/internal.xlsx', 'internal.xlsx')))).toMatch(/^I can't download "internal\.xlsx" from http:\/\/10\.0\.0\.1\./);
    served.set('/big.xlsx', { status: 200, bytes: Buffer.alloc(5 * 1024 * 1024 + 10) });
    expect(allText(await sendTeamsFile(teamsFile(`${fileServerUrl}/big.xlsx`, 'big.xlsx')))).toMatch(/^"big\.xlsx" is too large for me/);
  });

  it.skipIf(target.skip)('takes files uploaded through the local Web Chat (Direct Line upload)', async () => {
    const start = await fetch(`${fixture.app.url}/v3/directline/conversations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: { id: 'carol', name: 'Carol' } }) });
    const { conversationId, token } = (await start.json()) as { conversationId: string; token: string };
    const form = new FormData();
    form.append('activity', new Blob([JSON.stringify({ type: 'message', text: '', from: { id: 'carol' } })], { type: 'application/vnd.microsoft.activity' }));
    form.append('file', new Blob([await workbook([['SKU', 'Qty', 'Supplier'], ['SKU-1002', 2, 'Globex']])], { type: XLSX }), 'web.xlsx');
    const upload = await fetch(`${fixture.app.url}/v3/directline/conversations/${conversationId}/upload`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
    expect(upload.status).toBe(200);
    const activities = await eventually(async () => {
      const res = await fetch(`${fixture.app.url}/v3/directline/conversations/${conversationId}/activities`, { headers: { authorization: `Bearer ${token}` } });
      const body = (await res.json()) as { activities: WireActivity[] };
      const report = body.activities.find((a) => a.from?.id !== 'webchat:carol' && /I checked "web\.xlsx"/.test(a.text ?? ''));
      return report ? body.activities : undefined;
    }, 10_000, 'the report in Web Chat');
    expect(activities.map((a) => a.text ?? '').join('\n')).toMatch(/I checked "web\.xlsx" \(sheet "Orders", purchase order lines\): 1 row, 1 ready, 0 with problems\./);
  });

  it.skipIf(target.skip)('exports open orders as .xlsx: link + attachment, downloaded and checked against the database', async () => {
    const user = newUser('=HYPERLINK("http://evil.example","click")', `buyer-exp-${Math.random().toString(36).slice(2, 6)}`);
    await sendXlsx(user, await workbook([['SKU', 'Qty', 'Supplier'], ['SKU-1001', 11, 'Acme Corp'], ['SKU-1005', 80, 'Acme Corp']]), 'for-export.xlsx');
    await user.click('Place 2 orders');
    await eventually(async () => {
      const list = await jobsOf(user);
      return list.length === 2 && list.every((j) => j.status === 'succeeded') ? true : undefined;
    }, 20_000, 'two jobs');

    const replies = await user.say('export my open orders');
    const text = allText(replies);
    expect(text).toMatch(/^Here are 2 open purchase orders raised by you as a spreadsheet: open-orders-\d{4}-\d{2}-\d{2}\.xlsx/);
    const link = /Download (open-orders-[\d-]+\.xlsx): (http:\/\/\S+\/files\/[A-Za-z0-9_-]{43}) \(the link works for 60 minutes\)/.exec(text);
    expect(link).not.toBeNull();
    const attachment = (replies[0]!.activity.attachments ?? [])[0] as { contentType: string; name: string; contentUrl: string };
    expect(attachment).toEqual({ contentType: XLSX, name: link![1], contentUrl: link![2] });

    const download = await fetch(link![2]!);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe(XLSX);
    expect(download.headers.get('content-disposition')).toBe(`attachment; filename*=UTF-8''${link![1]}`);
    expect(download.headers.get('cache-control')).toBe('private, no-store');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(Buffer.from(await download.arrayBuffer()) as unknown as ArrayBuffer);
    const sheet = wb.getWorksheet('Orders')!;
    const header = (sheet.getRow(1).values as unknown[]).slice(1);
    expect(header).toEqual(['Order', 'Status', 'Supplier', 'Ship to', 'Need by', 'Lines', 'Total', 'Currency', 'Requested by', 'Created', 'Supplier ref']);
    const exported = [];
    for (let r = 2; r <= sheet.rowCount; r++) exported.push((sheet.getRow(r).values as unknown[]).slice(1));
    const db = await rows<{ number: string; status: string; supplier: string; ship_to: string; total: string; requested_by_name: string }>(
      fixture.app.db.dataSource,
      `SELECT po.number, po.status, s.name AS supplier, po.ship_to, po.total, po.requested_by_name FROM purchase_orders po JOIN suppliers s ON s.id = po.supplier_id
       WHERE po.requested_by = $1 AND po.status IN ('draft', 'pending_approval', 'approved', 'sent', 'confirmed', 'partially_received') ORDER BY po.created_at DESC, po.id DESC`,
      [user.userId],
    );
    expect(db).toHaveLength(2);
    expect(exported.map((r) => [r[0], r[1], r[2], r[3], r[5], r[6], r[7], r[8]])).toEqual(
      db.map((o) => [o.number, o.status.replace(/_/g, ' '), o.supplier, o.ship_to, 1, Number(o.total), 'USD', `'${o.requested_by_name}`]),
    );
    // The user's name starts with "=": written as text with an apostrophe, never as a formula.
    const nameCell = sheet.getRow(2).getCell(9);
    expect(nameCell.type).toBe(ExcelJS.ValueType.String);
    expect(nameCell.formula).toBeUndefined();
    expect(exported.some((r) => r[1] === 'pending approval' && r[6] === 15120)).toBe(true);
    const lines = wb.getWorksheet('Lines')!;
    expect((lines.getRow(1).values as unknown[]).slice(1)).toEqual(['Order', 'Line', 'SKU', 'Product', 'Quantity', 'Unit', 'Unit price', 'Amount', 'Received']);
    expect(lines.rowCount).toBe(3);

    // The link again works; once expired, or unknown, or malformed: 404 (and no bytes).
    expect((await fetch(link![2]!)).status).toBe(200);
    await rows(fixture.app.db.dataSource, `UPDATE file_downloads SET expires_at = now() - interval '1 second'`);
    for (const url of [link![2]!, `${fixture.app.url}/files/${'A'.repeat(43)}`, `${fixture.app.url}/files/not-a-token`, `${fixture.app.url}/files/..%2F..%2Fetc%2Fpasswd`]) {
      const res = await fetch(url);
      expect(res.status, url).toBe(404);
      expect(await res.json()).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
    }
    // Only the token's hash is stored.
    const stored = await rows<{ token_sha256: string }>(fixture.app.db.dataSource, 'SELECT token_sha256 FROM file_downloads');
    expect(stored.every((s) => !link![2]!.includes(s.token_sha256))).toBe(true);
  });

  it.skipIf(target.skip)('imports a receiving list: one goods receipt per valid row, each row once', async () => {
    // Two fresh orders to receive against (the demo orders' goods are still at customs).
    const buyer = newUser();
    await sendXlsx(buyer, await workbook([['SKU', 'Qty', 'Supplier', 'Ship to'], ['SKU-1001', 150, 'Acme Corp', 'WH-B'], ['SKU-1005', 10, 'Acme Corp', 'WH-B']]));
    await buyer.say('yes');
    const [a, b] = await eventually(async () => {
      const list = await jobsOf(buyer);
      return list.length === 2 && list.every((j) => j.status === 'succeeded') ? list.map((j) => j.subject_id!) : undefined;
    }, 20_000, 'two orders');
    const clerk = newUser('Kim Clerk', 'kim');
    const bytes = await workbook(
      [
        ['PO #', 'SKU', 'Qty received', 'Warehouse', 'Bin'],
        [a, 'SKU-1001', 100, 'WH-B', 'B-01-02'],
        [b, 'SKU-1005', 4, null, null],
        ['PO-1002', 'SKU-1002', 40, 'WH-C', null],
        [a, 'SKU-1003', 5, 'WH-B', null],
        ['PO-99999', 'SKU-1001', 1, null, null],
        [a, 'SKU-1001', 'lots', null, null],
      ],
      'Dock',
    );
    const report = await sendXlsx(clerk, bytes, 'receiving.xlsx', 'we received these');
    expect(allText(report)).toMatch(/I checked "receiving\.xlsx" \(sheet "Dock", a receiving list\): 6 rows, 2 ready, 4 with problems\./);
    expect(reportLine(report, 2)).toMatch(new RegExp(`✅ Row 2\\b.*100 pieces of SKU-1001 steel bearings 6204 against ${a} into WH-B bin B-01-02`));
    expect(reportLine(report, 3)).toMatch(new RegExp(`✅ Row 3\\b.*4 pieces of SKU-1005 lithium-ion battery packs against ${b} into WH-B`));
    expect(reportLine(report, 4)).toMatch(/❌ Row 4\b.*I can't receive PO-1002 yet: its goods are on SH-2001/);
    expect(reportLine(report, 5)).toMatch(new RegExp(`❌ Row 5\\b.*SKU-1003 isn't on ${a}`));
    expect(reportLine(report, 6)).toMatch(/❌ Row 6\b.*I can't find PO-99999\./);
    expect(reportLine(report, 7)).toMatch(/❌ Row 7\b.*Quantity "lots" is not a number\./);
    expect(clerk.buttons.map((b) => b.title)).toEqual(['Receive 2 lines', 'Cancel']);
    const before = await rows<{ quantity: string }>(fixture.app.db.dataSource, `SELECT quantity FROM stock_balances WHERE warehouse_code = 'WH-B' AND bin_code = 'B-01-02' AND sku = 'SKU-1001'`);

    expect(allText(await clerk.say('yes'))).toMatch(/^On it: 2 jobs are working on 2 lines from "receiving\.xlsx"/);
    const jobs = await eventually(async () => {
      const list = await jobsOf(clerk);
      return list.length === 2 && list.every((j) => j.status === 'succeeded') ? list : undefined;
    }, 20_000, 'two receipts');
    const receipts = await rows<{ po: string; sku: string; quantity: string }>(
      fixture.app.db.dataSource,
      `SELECT po.number AS po, l.sku, l.quantity FROM goods_receipts r JOIN goods_receipt_lines l ON l.receipt_id = r.id JOIN purchase_orders po ON po.id = r.po_id
       WHERE r.job_id = ANY($1::bigint[]) ORDER BY r.id`,
      [jobs.map((j) => j.id)],
    );
    expect(receipts).toEqual([
      { po: a, sku: 'SKU-1001', quantity: '100.000' },
      { po: b, sku: 'SKU-1005', quantity: '4.000' },
    ]);
    const after = await rows<{ quantity: string }>(fixture.app.db.dataSource, `SELECT quantity FROM stock_balances WHERE warehouse_code = 'WH-B' AND bin_code = 'B-01-02' AND sku = 'SKU-1001'`);
    expect(Number(after[0]!.quantity) - Number(before[0]?.quantity ?? 0)).toBe(100);

    const again = await sendXlsx(clerk, bytes, 'receiving.xlsx', 'we received these');
    expect(reportLine(again, 2)).toMatch(/⏭ Row 2\b.*already imported/);
    expect(reportLine(again, 3)).toMatch(/⏭ Row 3\b.*already imported/);
    expect(await jobsOf(clerk)).toHaveLength(2);
  });

  it.skipIf(target.skip)('exports stock for WH-B as .xlsx, row for row what stock_balances holds', async () => {
    const user = newUser();
    const replies = await user.say('export stock for WH-B');
    const text = allText(replies);
    expect(text).toMatch(/^Here is the stock on hand in WH-B as a spreadsheet \(\d+ bin lines?\): stock-WH-B-\d{4}-\d{2}-\d{2}\.xlsx/);
    const url = /Download stock-WH-B-[\d-]+\.xlsx: (\S+) \(the link works for 60 minutes\)/.exec(text)![1]!;
    const attachment = (replies[0]!.activity.attachments ?? [])[0] as { contentType: string; contentUrl: string };
    expect(attachment.contentUrl).toBe(url);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load((await (await fetch(url)).arrayBuffer()) as ArrayBuffer);
    const sheet = wb.getWorksheet('Stock')!;
    expect((sheet.getRow(1).values as unknown[]).slice(1)).toEqual(['Warehouse', 'Warehouse name', 'Bin', 'SKU', 'Product', 'Quantity', 'Unit', 'Updated']);
    const exported = [];
    for (let r = 2; r <= sheet.rowCount; r++) exported.push((sheet.getRow(r).values as unknown[]).slice(1, 7).join('|'));
    const db = await rows<{ line: string }>(
      fixture.app.db.dataSource,
      `SELECT concat_ws('|', b.warehouse_code, w.name, b.bin_code, b.sku, p.name, trim(trailing '.' from trim(trailing '0' from b.quantity::text))) AS line
       FROM stock_balances b JOIN warehouses w ON w.code = b.warehouse_code JOIN products p ON p.sku = b.sku
       WHERE b.warehouse_code = 'WH-B' AND b.quantity > 0`,
    );
    expect(db.length).toBeGreaterThan(0);
    expect(exported.sort()).toEqual(db.map((d) => d.line).sort());
  });

  it.skipIf(target.skip)('an export of nothing says so and sends no file', async () => {
    const user = newUser();
    const replies = await user.say('export my open orders');
    expect(allText(replies)).toBe('No open purchase orders raised by you found, so there is nothing to export.');
    expect(replies[0]!.activity.attachments ?? []).toEqual([]);
  });
});
