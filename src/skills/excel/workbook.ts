import { createHash } from 'node:crypto';
import ExcelJS from 'exceljs';
import { EXCEL_LIMITS, XLSX_CONTENT_TYPE } from './limits.js';
import { checkZip, isZip, ZipProblem } from './zipCheck.js';

/** Reading an uploaded .xlsx into plain rows of cell values, with every way it can go wrong explained. */

/** A formula whose result was never saved in the file (written by a script, never opened in Excel). */
export class UncomputedFormula {
  constructor(readonly formula: string) {}
}

/** A cell as the importer sees it: text, a number, a date, an uncomputed formula, or nothing. */
export type CellValue = string | number | boolean | Date | UncomputedFormula | undefined;

export interface SheetRows {
  name: string;
  /** 1-based Excel row number → cells (index 0 = column A). */
  rows: { row: number; cells: CellValue[] }[];
}

export interface UploadedFile {
  name: string;
  contentType: string;
  bytes: Buffer;
}

export type ExcelProblemKind = 'wrong_type' | 'old_format' | 'too_large' | 'corrupt' | 'empty';

export class ExcelFileError extends Error {
  constructor(
    readonly kind: ExcelProblemKind,
    readonly fileName: string,
    readonly userText: string,
  ) {
    super(userText);
    this.name = 'ExcelFileError';
  }
}

const OLD_XLS_MAGIC = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);

/** True when the name or type says spreadsheet (before downloading anything). */
export function looksLikeSpreadsheet(name: string, contentType: string): boolean {
  return /\.(xlsx|xlsm|xls|csv|ods)$/i.test(name) || /spreadsheet|excel|ms-excel|text\/csv/i.test(contentType);
}

/** Refuses anything that is not an .xlsx by its name/type, with a reply saying what to send instead. */
export function assertXlsxName(file: Pick<UploadedFile, 'name' | 'contentType'>): void {
  const name = file.name;
  if (/\.xlsx$/i.test(name) || (!/\.[a-z0-9]{1,5}$/i.test(name) && file.contentType === XLSX_CONTENT_TYPE)) return;
  if (/\.(xls|xlsm|xlsb|csv|ods|numbers)$/i.test(name)) {
    throw new ExcelFileError(
      'wrong_type',
      name,
      `I can only read Excel workbooks saved as .xlsx, and "${name}" is a ${name.split('.').pop()!.toLowerCase()} file. Please save it as "Excel Workbook (.xlsx)" and send it again.`,
    );
  }
  throw new ExcelFileError(
    'wrong_type',
    name,
    `I can only read Excel workbooks (.xlsx), so I didn't do anything with "${name}". Send me an .xlsx of order lines (SKU, Quantity, Supplier) and I'll check every row.`,
  );
}

/** Parses the workbook: every sheet's non-empty rows. Throws ExcelFileError with the reply to give. */
export async function readWorkbook(file: UploadedFile): Promise<SheetRows[]> {
  assertXlsxName(file);
  const { name, bytes } = file;
  if (bytes.length > EXCEL_LIMITS.maxFileBytes) {
    throw new ExcelFileError('too_large', name, `"${name}" is too large for me (${mb(bytes.length)}; the limit is ${mb(EXCEL_LIMITS.maxFileBytes)}). Split it into smaller files.`);
  }
  if (bytes.length === 0) throw new ExcelFileError('empty', name, `"${name}" is empty.`);
  if (bytes.subarray(0, 8).equals(OLD_XLS_MAGIC)) {
    throw new ExcelFileError('old_format', name, `"${name}" is an old-style Excel 97–2003 workbook inside. Please save it as "Excel Workbook (.xlsx)" and send it again.`);
  }
  const corrupt = () =>
    new ExcelFileError('corrupt', name, `I couldn't open "${name}": it isn't a valid Excel workbook (it may be damaged, password-protected or another kind of file). Please check it opens in Excel and send it again.`);
  if (!isZip(bytes)) throw corrupt();
  try {
    checkZip(bytes, { maxEntries: EXCEL_LIMITS.maxZipEntries, maxTotalBytes: EXCEL_LIMITS.maxUnpackedBytes });
  } catch (err) {
    if (err instanceof ZipProblem && err.kind === 'too_big') {
      throw new ExcelFileError('too_large', name, `"${name}" holds too much data for me (${err.message}). Split it into smaller files.`);
    }
    throw corrupt();
  }
  const workbook = new ExcelJS.Workbook();
  try {
    await workbook.xlsx.load(bytes as unknown as ArrayBuffer);
  } catch {
    throw corrupt();
  }
  if (workbook.worksheets.length === 0) throw corrupt(); // a zip, but not a workbook
  const sheets: SheetRows[] = [];
  workbook.eachSheet((sheet) => {
    const rows: SheetRows['rows'] = [];
    sheet.eachRow({ includeEmpty: false }, (row, rowNumber) => {
      const cells: CellValue[] = [];
      row.eachCell({ includeEmpty: true }, (cell, col) => {
        cells[col - 1] = plainValue(cell.value);
      });
      if (cells.some((c) => c !== undefined && c !== '')) rows.push({ row: rowNumber, cells });
    });
    sheets.push({ name: sheet.name, rows });
  });
  if (sheets.every((s) => s.rows.length === 0)) throw new ExcelFileError('empty', name, `"${name}" has no data in it.`);
  return sheets;
}

/**
 * A cell's value without Excel's wrappers: a formula counts as its last computed result (the file
 * is never recalculated here), rich text and hyperlinks as their text, errors as nothing.
 */
export function plainValue(value: ExcelJS.CellValue): CellValue {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return value.trim() === '' ? undefined : value.trim();
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  if (value instanceof Date) return value;
  if (typeof value === 'object') {
    if ('richText' in value && Array.isArray(value.richText)) return plainValue(value.richText.map((r) => r.text).join(''));
    if ('formula' in value || 'sharedFormula' in value) {
      const result = (value as { result?: unknown }).result;
      if (result === undefined) return new UncomputedFormula(String((value as { formula?: unknown }).formula ?? ''));
      if (typeof result === 'object' && result !== null && 'error' in result) return undefined;
      return plainValue(result as ExcelJS.CellValue);
    }
    if ('hyperlink' in value && 'text' in value) return plainValue((value as { text: ExcelJS.CellValue }).text);
    if ('error' in value) return undefined;
  }
  return undefined;
}

export function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function mb(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}
