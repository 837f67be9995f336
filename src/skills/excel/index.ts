/**
 * Excel workflows: importing order lines / receiving lists from an .xlsx (validated row by row
 * with the target action's own check, one job per row on confirmation) and exporting orders and
 * stock as .xlsx. Channel-neutral: files come in as bytes and go out as `SkillReply.file`.
 */
export { ExcelImports, type ImportDecision, type ReceivedImport } from './imports.js';
export { CANCEL_VERB, RUN_VERB } from './report.js';
export { EXPORT_WORDS, ordersExport, stockExport, type StockLine } from './exports.js';
export { EXCEL_LIMITS, XLSX_CONTENT_TYPE } from './limits.js';
export { ALL_FORMATS, type ImportFormat } from './formats.js';
export { looksLikeSpreadsheet, type UploadedFile } from './workbook.js';
export { safeText, writeWorkbook } from './writer.js';
