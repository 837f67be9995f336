/** How much a spreadsheet may hold (one place, so the replies and the checks agree). */
export const EXCEL_LIMITS = {
  /** Largest .xlsx accepted, as sent. */
  maxFileBytes: 5 * 1024 * 1024,
  /** What the zip may unpack to (the XML inside), checked before parsing. */
  maxUnpackedBytes: 64 * 1024 * 1024,
  maxZipEntries: 2_000,
  /**
   * Data rows (after the header) one import may have: each becomes a job when confirmed, one
   * transaction each inside the confirming turn (~30 ms a row measured here), so 200 keeps that turn
   * well under the 15 s a Bot Framework channel waits for the bot.
   */
  maxRows: 200,
  /** Rows of an export (orders, stock lines). */
  maxExportRows: 20_000,
  /** Rows the report lists one by one (the card and the text); the rest are counted. */
  reportRows: 50,
  /** How long a pending import can be confirmed with its button. */
  pendingTtlMs: 24 * 60 * 60_000,
  /** How long a plain "yes" still refers to the import (after that, use the button). */
  textConfirmMs: 30 * 60_000,
} as const;

export const XLSX_CONTENT_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
