/**
 * `npm run chat` with spreadsheets, on both databases: a message with the path of an .xlsx is sent
 * with the file attached (served from the chat's own loopback serviceUrl), the report and the
 * confirmation work as in any channel, and an export is saved into --downloads and its path printed.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../../../src/app.js';
import { sampleWorkbooks } from '../../../src/skills/excel/samples.js';
import { databaseTargets, type TestDatabase } from '../../helpers/databases.js';
import { eventually, rows, startProcurementApp } from '../../helpers/procurementFixture.js';

const targets = await databaseTargets();

function runChat(url: string, args: string[], input: string): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/chat.ts', '--url', url, '--wait', '500', ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout }));
    child.stdin.end(input);
  });
}

describe.each(targets)('npm run chat with spreadsheets on $name', (target) => {
  let t: TestDatabase;
  let app: RunningApp;
  let dir: string;

  beforeAll(async () => {
    if (target.skip) return;
    t = await target.create();
    await t.db.close();
    app = await startProcurementApp(t.config);
    dir = mkdtempSync(join(tmpdir(), 'rpa-excel-chat-'));
    for (const [name, bytes] of Object.entries(await sampleWorkbooks())) writeFileSync(join(dir, name), bytes);
  });

  afterAll(async () => {
    await app?.close();
    await t?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(target.skip)('sends the file named in a message, confirms with yes, and saves the export', async () => {
    const user = `chat-${target.kind}`;
    const imported = await runChat(app.url, ['--user', user, '--name', 'Terminal Tess'], `import "${join(dir, 'orders-with-mistakes.xlsx')}"\nyes\n`);
    expect(imported.code).toBe(0);
    const out = imported.stdout;
    expect(out).toMatch(/bot> I checked "orders-with-mistakes\.xlsx" \(sheet "Orders", purchase order lines\): 5 rows, 2 ready, 3 with problems\./);
    expect(out).toMatch(/❌ Row 4: I can't find SKU-1010 in the product list\./);
    expect(out).toMatch(/❌ Row 5: Quantity "twelve" is not a number\./);
    expect(out).toMatch(/❌ Row 6: I don't know a supplier called "Initek"\. Did you mean Initech\?/);
    expect(out).toMatch(/\[1\] Place 2 orders/);
    expect(out).toMatch(/bot> On it: 2 jobs are working on 2 orders from "orders-with-mistakes\.xlsx" \(row 2 → job \d+, row 3 → job \d+\)/);
    await eventually(async () => {
      const jobs = await rows<{ status: string }>(app.db.dataSource, 'SELECT status FROM automation_jobs WHERE requested_by = $1', [user]);
      return jobs.length === 2 && jobs.every((j) => j.status === 'succeeded');
    }, 20_000, 'two jobs');

    const downloads = join(dir, 'downloads');
    const exported = await runChat(app.url, ['--user', user, '--downloads', downloads], 'export my open orders\n');
    const saved = /saved (open-orders-[\d-]+\.xlsx) to (\S+)/.exec(exported.stdout);
    expect(exported.stdout).toMatch(/bot> Here are 2 open purchase orders raised by you as a spreadsheet/);
    expect(exported.stdout).toMatch(/\[file: open-orders-[\d-]+\.xlsx\]/);
    expect(saved?.[2]).toBe(join(downloads, saved![1]!));
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(readFileSync(saved![2]!) as unknown as ArrayBuffer);
    const sheet = wb.getWorksheet('Orders')!;
    const suppliers = [];
    for (let r = 2; r <= sheet.rowCount; r++) suppliers.push(sheet.getRow(r).getCell(3).value);
    expect(suppliers.sort()).toEqual(['Acme Corp', 'Globex']);
    expect(sheet.getRow(2).getCell(9).value).toBe('Terminal Tess');
  }, 90_000);
});
