/**
 * The Excel pieces without a server: reading workbooks (formulas, rich text, dates, zip bombs —
 * honest and lying ones), writing exports (formula injection), header matching, and the inbound
 * attachment rules.
 */
import { deflateRawSync } from 'node:zlib';
import ExcelJS from 'exceljs';
import JSZip from 'jszip';
import { describe, expect, it } from 'vitest';
import { fileAttachments, readAttachment } from '../../../src/bot/files/inbound.js';
import { normalizeHeader, readCell, ORDER_LINES } from '../../../src/skills/excel/formats.js';
import { firstReason } from '../../../src/skills/excel/importer.js';
import { safeText, writeWorkbook } from '../../../src/skills/excel/writer.js';
import { ExcelFileError, readWorkbook, UncomputedFormula } from '../../../src/skills/excel/workbook.js';
import { checkZip, ZipProblem } from '../../../src/skills/excel/zipCheck.js';

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const file = (bytes: Buffer, name = 'f.xlsx') => ({ name, contentType: XLSX, bytes });

async function expectProblem(promise: Promise<unknown>, kind: string, text: RegExp): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ExcelFileError);
  expect((err as ExcelFileError).kind).toBe(kind);
  expect((err as ExcelFileError).userText).toMatch(text);
}

describe('reading workbooks', () => {
  it('reads values as the user sees them: formula results, rich text, links, dates; skips empty rows', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('Lines');
    ws.addRow(['SKU', 'Qty', 'Supplier', 'Need by']);
    ws.addRow(['SKU-1001', { formula: '4*5', result: 20 }, { richText: [{ text: 'Acme ' }, { text: 'Corp' }] }, new Date(Date.UTC(2027, 0, 15))]);
    ws.addRow([]);
    ws.addRow([{ text: 'SKU-1002', hyperlink: 'https://example.com' }, { formula: 'A1*2' }, '  Globex  ', '2027-01-20']);
    const sheets = await readWorkbook(file(Buffer.from(await wb.xlsx.writeBuffer())));
    expect(sheets).toHaveLength(1);
    const rows = sheets[0]!.rows;
    expect(rows.map((r) => r.row)).toEqual([1, 2, 4]);
    expect(rows[1]!.cells).toEqual(['SKU-1001', 20, 'Acme Corp', new Date(Date.UTC(2027, 0, 15))]);
    expect(rows[2]!.cells[0]).toBe('SKU-1002');
    expect(rows[2]!.cells[1]).toBeInstanceOf(UncomputedFormula);
    expect(rows[2]!.cells[2]).toBe('Globex');
  });

  it('refuses what is not an .xlsx, damaged files and empty ones, saying why', async () => {
    await expectProblem(readWorkbook({ name: 'a.pdf', contentType: 'application/pdf', bytes: Buffer.from('x') }), 'wrong_type', /I can only read Excel workbooks \(\.xlsx\)/);
    await expectProblem(readWorkbook({ name: 'a.xls', contentType: 'application/vnd.ms-excel', bytes: Buffer.from('x') }), 'wrong_type', /is a xls file\. Please save it as "Excel Workbook \(\.xlsx\)"/);
    await expectProblem(readWorkbook(file(Buffer.from('garbage'))), 'corrupt', /isn't a valid Excel workbook/);
    await expectProblem(readWorkbook(file(Buffer.alloc(0))), 'empty', /is empty/);
    // A zip that is not a workbook.
    const zip = new JSZip();
    zip.file('hello.txt', 'hi');
    await expectProblem(readWorkbook(file(await zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' }))), 'corrupt', /isn't a valid Excel workbook/);
    const wb = new ExcelJS.Workbook();
    wb.addWorksheet('Empty');
    await expectProblem(readWorkbook(file(Buffer.from(await wb.xlsx.writeBuffer()))), 'empty', /has no data in it/);
  });

  it('stops zip bombs before parsing, even when the zip lies about its sizes', async () => {
    // 80 MB of zeros deflate to under 100 KB.
    const zip = new JSZip();
    zip.file('[Content_Types].xml', '<Types/>');
    zip.file('xl/worksheets/sheet1.xml', Buffer.alloc(80 * 1024 * 1024));
    const bomb = await zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' });
    expect(bomb.length).toBeLessThan(1024 * 1024);
    expect(() => checkZip(bomb, { maxEntries: 100, maxTotalBytes: 64 * 1024 * 1024 })).toThrow(ZipProblem);
    await expectProblem(readWorkbook(file(bomb)), 'too_large', /holds too much data for me/);

    // The same entry, its declared size rewritten to 1 KB in both headers: inflating it still hits the cap.
    const liar = Buffer.from(bomb);
    for (let at = 0; at < liar.length - 4; at++) {
      const sig = liar.readUInt32LE(at);
      if (sig === 0x04034b50 && liar.toString('utf8', at + 30, at + 30 + liar.readUInt16LE(at + 26)) === 'xl/worksheets/sheet1.xml') liar.writeUInt32LE(1024, at + 22);
      if (sig === 0x02014b50 && liar.toString('utf8', at + 46, at + 46 + liar.readUInt16LE(at + 28)) === 'xl/worksheets/sheet1.xml') liar.writeUInt32LE(1024, at + 24);
    }
    expect(() => checkZip(liar, { maxEntries: 100, maxTotalBytes: 64 * 1024 * 1024 })).toThrow(/more than 67108864 bytes/);
    // Damaged compressed data is "not a workbook", not a crash.
    const wb = new ExcelJS.Workbook();
    wb.addWorksheet('S').addRow(['SKU', 'Qty', 'Supplier']);
    const damaged = Buffer.from(await wb.xlsx.writeBuffer());
    const header = damaged.indexOf('xl/worksheets/sheet1.xml') - 30; // the first mention is its local header
    const dataAt = header + 30 + damaged.readUInt16LE(header + 26) + damaged.readUInt16LE(header + 28);
    damaged.fill(0xff, dataAt, dataAt + 16);
    await expectProblem(readWorkbook(file(damaged)), 'corrupt', /isn't a valid Excel workbook/);
    expect(deflateRawSync(Buffer.alloc(0)).length).toBeGreaterThan(0);
  });
});

describe('writing exports', () => {
  it('escapes text that a spreadsheet would run as a formula, and only text', async () => {
    expect(['=1+1', '+SUM(A1)', '-2+3', '@cmd', '\t=x', '\r=x', 'Acme', '', 'a=b'].map(safeText)).toEqual([
      "'=1+1",
      "'+SUM(A1)",
      "'-2+3",
      "'@cmd",
      "'\t=x",
      "'\r=x",
      'Acme',
      '',
      'a=b',
    ]);
    const bytes = await writeWorkbook([{ name: 'S', columns: [{ header: 'Text' }, { header: 'Number' }], rows: [['=HYPERLINK("http://evil","x")', -5]] }]);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(bytes as unknown as ArrayBuffer);
    const row = wb.getWorksheet('S')!.getRow(2);
    expect(row.getCell(1).value).toBe('\'=HYPERLINK("http://evil","x")');
    expect(row.getCell(1).type).toBe(ExcelJS.ValueType.String);
    expect(row.getCell(2).value).toBe(-5);
  });
});

describe('columns', () => {
  it('matches header names case-insensitively, ignoring punctuation and notes in brackets', () => {
    expect(['SKU', 'Qty.', 'Vendor Name', 'Deliver-To', 'Due Date (optional)', 'SHIP TO'].map(normalizeHeader)).toEqual(['sku', 'qty', 'vendor name', 'deliver to', 'due date', 'ship to']);
    const names = (key: string) => ORDER_LINES.columns.find((c) => c.key === key)!.names;
    expect(names('quantity')).toContain('qty');
    expect(names('supplier')).toContain('vendor name');
    expect(names('needBy')).toContain('due date');
  });

  it('reads cells by kind and says what is wrong with them', () => {
    const qty = ORDER_LINES.columns.find((c) => c.key === 'quantity')!;
    const needBy = ORDER_LINES.columns.find((c) => c.key === 'needBy')!;
    expect(readCell(qty, 12)).toEqual({ value: 12 });
    expect(readCell(qty, '1,200')).toEqual({ value: 1200 });
    expect(readCell(qty, 'ten')).toEqual({ problem: 'Quantity "ten" is not a number' });
    expect(readCell(qty, undefined)).toEqual({ problem: 'Quantity is empty' });
    expect(readCell(qty, new UncomputedFormula('A1*2')).problem).toMatch(/formula with no saved result/);
    const sku = ORDER_LINES.columns.find((c) => c.key === 'sku')!;
    expect(readCell(sku, ' SKU-1001 ')).toEqual({ value: 'SKU-1001' });
    expect(readCell(sku, 'X'.repeat(500)).problem).toMatch(/^SKU "X+…" is too long to be one$/);
    expect(readCell(needBy, undefined)).toEqual({});
    expect(readCell(needBy, new Date(Date.UTC(2027, 1, 3)))).toEqual({ value: '2027-02-03' });
    expect(readCell(needBy, '2027-02-30').problem).toMatch(/is not a date/);
    expect(readCell(needBy, 'next week').problem).toMatch(/"next week" is not a date/);
  });

  it('keeps a skill question to its reason (and its suggestion)', () => {
    expect(firstReason("I can't find SKU-9 in the product list. Which product do you mean? SKU-1001 a, SKU-1002 b.")).toBe("I can't find SKU-9 in the product list.");
    expect(firstReason('I don\'t know a supplier called "Acma". Did you mean Acme Corp?')).toBe('I don\'t know a supplier called "Acma". Did you mean Acme Corp?');
  });
});

describe('inbound attachments', () => {
  const policy = { maxBytes: 1024 };

  it('treats cards and the HTML copy of the text as no file', () => {
    expect(
      fileAttachments({
        attachments: [
          { contentType: 'application/vnd.microsoft.card.adaptive', content: {} },
          { contentType: 'text/html', content: '<p>hi</p>' },
          { contentType: XLSX, name: 'a.xlsx', contentUrl: 'data:;base64,AA==' },
        ],
      }).map((a) => a.name),
    ).toEqual(['a.xlsx']);
  });

  it('decodes data: URLs within the limit and never fetches a URL on another origin', async () => {
    const ok = await readAttachment({ contentType: XLSX, name: 'a.xlsx', contentUrl: `data:${XLSX};base64,${Buffer.from('PK').toString('base64')}` }, { serviceUrl: 'http://127.0.0.1:1' }, policy);
    expect(ok.bytes.toString()).toBe('PK');
    await expect(readAttachment({ contentType: XLSX, name: 'b.xlsx', contentUrl: `data:;base64,${Buffer.alloc(2048).toString('base64')}` }, { serviceUrl: 'http://127.0.0.1:1' }, policy)).rejects.toThrow(/too large/);
    const looked: string[] = [];
    const resolve = async (host: string) => {
      looked.push(host);
      return [{ address: '169.254.169.254', family: 4 as const }];
    };
    await expect(readAttachment({ contentType: XLSX, name: 'c.xlsx', contentUrl: 'https://evil.example/c.xlsx' }, { serviceUrl: 'http://127.0.0.1:1' }, { ...policy, resolve })).rejects.toThrow(
      /from where it is stored/,
    );
    expect(looked).toEqual([]); // refused before any lookup
    const teamsFile = { contentType: 'application/vnd.microsoft.teams.file.download.info', name: 'd.xlsx', content: { downloadUrl: 'https://tenant.sharepoint.com/d.xlsx', fileType: 'xlsx' } };
    // A Teams link from another channel is refused.
    await expect(readAttachment(teamsFile, { serviceUrl: 'http://127.0.0.1:1', channelId: 'emulator' }, { ...policy, resolve })).rejects.toThrow(/only comes from Teams/);
    // A SharePoint name that resolves to the metadata address is refused before connecting.
    await expect(readAttachment(teamsFile, { serviceUrl: 'https://smba.trafficmanager.net/emea/', channelId: 'msteams' }, { ...policy, resolve })).rejects.toThrow(
      /from https:\/\/tenant\.sharepoint\.com\./,
    );
    expect(looked).toEqual(['tenant.sharepoint.com']);
  });
});
