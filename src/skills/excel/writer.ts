import ExcelJS from 'exceljs';
import { XLSX_CONTENT_TYPE } from './limits.js';
import type { SkillFile } from '../types.js';

/** Writing exports: plain typed cells, a bold frozen header, user text never read as a formula. */

export type ExportCell = string | number | Date | null | undefined;

export interface ExportColumn {
  header: string;
  width?: number;
  /** Excel number format, e.g. '#,##0.00' or 'yyyy-mm-dd'. */
  numFmt?: string;
}

export interface ExportSheet {
  name: string;
  columns: ExportColumn[];
  rows: ExportCell[][];
}

/**
 * Text that a spreadsheet would take for a formula when the cell is edited, or that another tool
 * reading the values (CSV export, a script) would: = + - @ and the tab/CR tricks. Prefixed with an
 * apostrophe, the OWASP advice for "CSV/formula injection" (names and notes come from users).
 */
export function safeText(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

export async function writeWorkbook(sheets: ExportSheet[]): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  workbook.creator = 'rpa-assistant';
  workbook.created = new Date();
  for (const spec of sheets) {
    const sheet = workbook.addWorksheet(spec.name.slice(0, 31), { views: [{ state: 'frozen', ySplit: 1 }] });
    sheet.columns = spec.columns.map((c) => ({ header: c.header, width: c.width ?? Math.max(10, c.header.length + 2), style: c.numFmt ? { numFmt: c.numFmt } : {} }));
    sheet.getRow(1).font = { bold: true };
    for (const row of spec.rows) {
      // Only strings are escaped: numbers and dates are written as numbers and dates.
      sheet.addRow(row.map((v) => (typeof v === 'string' ? safeText(v) : v ?? null)));
    }
    if (spec.rows.length > 0) sheet.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1, column: spec.columns.length } };
  }
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

export async function xlsxFile(name: string, sheets: ExportSheet[]): Promise<SkillFile> {
  return { name, contentType: XLSX_CONTENT_TYPE, bytes: await writeWorkbook(sheets) };
}
