import { createHash } from 'node:crypto';
import { execute } from '../../db/sql.js';
import { ago } from '../format.js';
import type { SkillRegistry } from '../registry.js';
import type { SkillContext, SkillReply, WriteAction } from '../types.js';
import { ALL_FORMATS, clip, normalizeHeader, readCell, type ImportFormat, type RowValues } from './formats.js';
import { EXCEL_LIMITS } from './limits.js';
import { ExcelFileError, readWorkbook, sha256Hex, type SheetRows, type UploadedFile } from './workbook.js';

/**
 * From an uploaded workbook to a per-row plan: find the sheet and header row, read each row into a
 * draft for the format's write action, validate it with that action's own `check` (so a row gets
 * the skill's own reason: unknown SKU, bad quantity, unknown supplier…), and note rows that an
 * earlier import of the same file already carried out.
 */

export type RowStatus = 'ok' | 'error' | 'done';

export interface ImportRow {
  /** The Excel row number (1-based, as the user sees it). */
  row: number;
  status: RowStatus;
  /** A valid row's summary, or what is wrong with it. */
  text: string;
  /** The action's validated slots (ok rows). */
  slots?: unknown;
  /** Idempotency key of this row: file hash + sheet + row (+ action). */
  key: string;
  /** For rows already carried out: the job that did. */
  jobId?: number | null;
}

export interface ImportPlan {
  fileName: string;
  fileSha256: string;
  sheet: string;
  format: ImportFormat['id'];
  action: string;
  rows: ImportRow[];
  /** Header cells that matched no column (ignored). */
  ignoredColumns: string[];
}

/** What reading a file came to: a plan to confirm, or a reply that ends it (wrong file, not allowed). */
export type PlanResult = { plan: ImportPlan } | { reply: SkillReply };

interface Header {
  sheet: SheetRows;
  format: ImportFormat;
  /** Index into sheet.rows of the header row. */
  index: number;
  /** Column key → cell index. */
  columns: Map<string, number>;
  ignored: string[];
}

/** The key of one row of one file: the same file sent again, or confirmed twice, maps to the same keys. */
export function rowKey(action: string, fileSha256: string, sheet: string, row: number): string {
  return `rpa1-${createHash('sha256').update(JSON.stringify(['excel', action, fileSha256, sheet, row])).digest('hex')}`;
}

export async function planImport(file: UploadedFile, hint: string, ctx: SkillContext, registry: SkillRegistry): Promise<PlanResult> {
  const formats = ALL_FORMATS.filter((f) => registry.action(f.action)?.kind === 'write');
  let sheets: SheetRows[];
  try {
    sheets = await readWorkbook(file);
  } catch (err) {
    if (err instanceof ExcelFileError) return { reply: { text: err.userText } };
    throw err;
  }
  const header = findHeader(sheets, formats, hint);
  if (!header) return { reply: { text: noHeaderText(file.name, formats) } };
  const { sheet, format } = header;
  const action = registry.action(format.action) as WriteAction;
  const dataRows = sheet.rows.slice(header.index + 1);
  if (dataRows.length === 0) {
    return { reply: { text: `"${file.name}" has the column names (sheet "${sheet.name}", row ${sheet.rows[header.index]!.row}) but no rows under them.` } };
  }
  if (dataRows.length > EXCEL_LIMITS.maxRows) {
    return {
      reply: {
        text: `"${file.name}" has ${dataRows.length.toLocaleString('en-US')} rows on sheet "${sheet.name}"; I can import at most ${EXCEL_LIMITS.maxRows} at a time. Please split it into smaller files.`,
      },
    };
  }
  // Permissions and the like come before any slot: a check of an empty draft that refuses refuses the file.
  const gate = await action.check({}, ctx);
  if (gate.status === 'refuse') return { reply: gate.reply };

  const sha = sha256Hex(file.bytes);
  const md = await ctx.env.masterData.get();
  const keys = dataRows.map((r) => rowKey(format.action, sha, sheet.name, r.row));
  const done = await earlierOutcomes(ctx, keys);
  const recent = await RecentRows.load(ctx, format.action, sha);
  const rows: ImportRow[] = [];
  for (const [i, dataRow] of dataRows.entries()) {
    const key = keys[i]!;
    const earlier = done.get(key);
    if (earlier) {
      rows.push({ row: dataRow.row, status: 'done', key, jobId: earlier.jobId, text: `already imported${earlier.jobId ? ` (job ${earlier.jobId})` : ''}; it won't be done again` });
      continue;
    }
    const values: RowValues = {};
    const problems: string[] = [];
    for (const column of format.columns) {
      const at = header.columns.get(column.key);
      if (at === undefined) continue;
      const read = readCell(column, dataRow.cells[at]);
      if (read.problem) problems.push(read.problem);
      else if (read.value !== undefined) values[column.key] = read.value;
    }
    if (problems.length > 0) {
      rows.push({ row: dataRow.row, status: 'error', key, text: `${capitalize(problems.join('; '))}.` });
      continue;
    }
    const check = await action.check(format.toDraft(values, md), ctx);
    if (check.status === 'ready') {
      const twin = recent.take(check.slots);
      if (twin) {
        rows.push({ row: dataRow.row, status: 'done', key, jobId: twin.jobId, text: `same as row ${twin.row} of "${twin.fileName}", imported ${ago(twin.at, ctx.env.now())}${twin.jobId ? ` (job ${twin.jobId})` : ''}; skipped so it isn't done twice` });
        continue;
      }
      rows.push({ row: dataRow.row, status: 'ok', key, slots: check.slots, text: format.describe(check.slots, md, ctx.env.settings) });
    } else {
      // In a file there is nobody to answer "Did you mean …?": a suggestion is reported, not applied.
      rows.push({ row: dataRow.row, status: 'error', key, text: clip(firstReason(check.status === 'ask' ? check.text : check.reply.text), 240) });
    }
  }
  return {
    plan: { fileName: file.name, fileSha256: sha, sheet: sheet.name, format: format.id, action: format.action, rows, ignoredColumns: header.ignored },
  };
}

/** The first sheet (and row, among its first ten) whose cells name every required column of a format. */
function findHeader(sheets: SheetRows[], formats: readonly ImportFormat[], hint: string): Header | undefined {
  for (const sheet of sheets) {
    for (const [index, row] of sheet.rows.slice(0, 10).entries()) {
      const names = row.cells.map((c) => (typeof c === 'string' ? normalizeHeader(c) : ''));
      const fits: Header[] = [];
      for (const format of formats) {
        const columns = new Map<string, number>();
        for (const column of format.columns) {
          // The best synonym wins ("SKU" over "Product" when a sheet has both).
          const taken = new Set(columns.values());
          for (const name of column.names) {
            const at = names.findIndex((n, i) => n === name && !taken.has(i));
            if (at >= 0) {
              columns.set(column.key, at);
              break;
            }
          }
        }
        if (format.columns.every((c) => !c.required || columns.has(c.key))) {
          const used = new Set(columns.values());
          const ignored = row.cells.flatMap((c, i) => (typeof c === 'string' && c.trim() && !used.has(i) ? [c.trim()] : []));
          fits.push({ sheet, format, index, columns, ignored });
        }
      }
      if (fits.length > 0) {
        return fits.find((f) => f.format.hint.test(hint)) ?? fits.sort((a, b) => b.columns.size - a.columns.size)[0];
      }
    }
  }
  return undefined;
}

function noHeaderText(fileName: string, formats: readonly ImportFormat[]): string {
  const described = formats.map((f) => {
    const required = f.columns.filter((c) => c.required).map((c) => c.label);
    const optional = f.columns.filter((c) => !c.required).map((c) => c.label);
    return `${f.label}: ${required.join(', ')}${optional.length ? ` (optional: ${optional.join(', ')})` : ''}`;
  });
  return `I couldn't find the columns I need in "${fileName}". Put the column names in the first row — ${described.join('; ')} — and send it again.`;
}

/** Rows whose keys were already used (an earlier import of the same file). */
async function earlierOutcomes(ctx: SkillContext, keys: string[]): Promise<Map<string, { jobId: number | null }>> {
  const { rows } = await execute<{ key: string; job_id: string | null }>(
    ctx.env.db,
    'SELECT key, job_id FROM idempotency_keys WHERE key = ANY($1::text[]) AND outcome IS NOT NULL',
    [keys],
  );
  return new Map(rows.map((r) => [r.key, { jobId: r.job_id === null ? null : Number(r.job_id) }]));
}

/**
 * Rows this user imported from other files in the last day, by content. The key of a row is the
 * file's hash + sheet + row, so an edited file (the ❌ rows fixed, sent again) would make every row
 * new: a row identical to one already carried out (same validated slots) is skipped instead. Each
 * earlier row matches one new row at most.
 */
class RecentRows {
  private constructor(private readonly bySlots: Map<string, { fileName: string; row: number; jobId: number | null; at: Date }[]>) {}

  static async load(ctx: SkillContext, action: string, sha: string): Promise<RecentRows> {
    const { rows } = await execute<{ file_name: string; plan: ImportPlan | string; created_at: Date }>(
      ctx.env.db,
      `SELECT file_name, plan, created_at FROM excel_imports
       WHERE actor_id = $1 AND action = $2 AND file_sha256 <> $3 AND status IN ('done', 'running') AND created_at > now() - interval '1 day'
       ORDER BY created_at`,
      [ctx.actor.id, action, sha],
    );
    const candidates = rows.flatMap((r) => {
      const plan = typeof r.plan === 'string' ? (JSON.parse(r.plan) as ImportPlan) : r.plan;
      return plan.rows.filter((x) => x.status === 'ok').map((x) => ({ fileName: r.file_name, row: x.row, key: x.key, slots: x.slots, at: new Date(r.created_at) }));
    });
    // Only rows that really ran (their key has an outcome) count.
    const ran = candidates.length ? await earlierOutcomes(ctx, candidates.map((c) => c.key)) : new Map<string, { jobId: number | null }>();
    const bySlots = new Map<string, { fileName: string; row: number; jobId: number | null; at: Date }[]>();
    for (const c of candidates) {
      const outcome = ran.get(c.key);
      if (!outcome) continue;
      const id = canonical(c.slots);
      bySlots.set(id, [...(bySlots.get(id) ?? []), { fileName: c.fileName, row: c.row, jobId: outcome.jobId, at: c.at }]);
    }
    return new RecentRows(bySlots);
  }

  take(slots: unknown): { fileName: string; row: number; jobId: number | null; at: Date } | undefined {
    return this.bySlots.get(canonical(slots))?.shift();
  }
}

/** JSON with sorted keys: the same slots built in another order compare equal. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
}

/**
 * A skill's question shortened to its reason: "I can't find SKU-9 in the product list. Which product
 * do you mean? …" → the first sentence, plus a "Did you mean …?" when there is one.
 */
export function firstReason(text: string): string {
  const sentences = text.split(/(?<=[.?!])\s+/);
  const first = sentences[0] ?? text;
  const next = sentences[1];
  return next && /^Did you mean\b/.test(next) ? `${first} ${next}` : first;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
