import { listing } from '../format.js';
import type { CardAction, SkillReply } from '../types.js';
import { ALL_FORMATS, type ImportFormat } from './formats.js';
import type { ImportPlan, ImportRow } from './importer.js';
import { EXCEL_LIMITS } from './limits.js';

/** Wording of the import: the per-row report with its question, and what a confirmation did. */

const MARK: Record<ImportRow['status'], string> = { ok: '✅', error: '❌', done: '⏭' };

export const RUN_VERB = 'excel.run';
export const CANCEL_VERB = 'excel.cancel';

export function formatOf(plan: Pick<ImportPlan, 'format'>): ImportFormat {
  return ALL_FORMATS.find((f) => f.id === plan.format)!;
}

const count = (n: number, noun: { one: string; many: string }) => `${n} ${n === 1 ? noun.one : noun.many}`;
const rowsWord = (n: number) => (n === 1 ? '1 row' : `${n} rows`);

/** The report: every row ✅ / ❌ / ⏭ with its summary or problem, then the question. */
export function reportReply(plan: ImportPlan, importId: string): SkillReply {
  const format = formatOf(plan);
  const ok = plan.rows.filter((r) => r.status === 'ok');
  const bad = plan.rows.filter((r) => r.status === 'error');
  const done = plan.rows.filter((r) => r.status === 'done');
  const shown = plan.rows.slice(0, EXCEL_LIMITS.reportRows);
  const head = `I checked "${plan.fileName}" (sheet "${plan.sheet}", ${format.label}): ${rowsWord(plan.rows.length)}, ${ok.length} ready, ${bad.length} with problems${done.length ? `, ${done.length} already imported` : ''}.`;
  const lines = shown.map((r) => `${MARK[r.status]} Row ${r.row}: ${r.text}`);
  if (plan.rows.length > shown.length) {
    const rest = plan.rows.slice(shown.length);
    const restBad = rest.filter((r) => r.status === 'error').map((r) => `${r.row}`);
    lines.push(`… and ${rowsWord(rest.length)} more${restBad.length ? ` (problems in rows ${listing(restBad.slice(0, 20))}${restBad.length > 20 ? ' and others' : ''})` : ''}.`);
  }
  const notes: string[] = [];
  if (plan.ignoredColumns.length) notes.push(`Ignored columns: ${plan.ignoredColumns.slice(0, 8).join(', ')}.`);
  let question: string;
  let actions: CardAction[] | undefined;
  if (ok.length === 0) {
    question = done.length && bad.length === 0
      ? 'Every row of this file was already imported, so there is nothing new to do.'
      : 'No row can be imported as it is. Fix the rows marked ❌ and send the file again.';
  } else {
    const what = count(ok.length, format.noun);
    const skipped = bad.length + done.length > 0 ? ` Rows marked ${bad.length ? '❌' : ''}${bad.length && done.length ? ' and ' : ''}${done.length ? '⏭' : ''} will be skipped.` : '';
    question = `Shall I ${format.verb.toLowerCase()} the ${what} (one job per row)?${skipped} Say yes to go ahead or no to cancel.`;
    actions = [
      { title: `${format.verb} ${what}`, style: 'positive', data: { verb: RUN_VERB, ref: importId } },
      { title: 'Cancel', style: 'destructive', data: { verb: CANCEL_VERB, ref: importId } },
    ];
  }
  if (bad.length > 0 && ok.length > 0) notes.push('To include the rows marked ❌, fix them and send the file again: rows already imported are skipped.');
  return {
    text: [head, ...lines, ...notes, question].join('\n'),
    cardText: `${head} ${question}`,
    card: {
      title: `Import ${format.label} from ${plan.fileName}?`,
      facts: [
        { title: 'Sheet', value: plan.sheet },
        { title: 'Rows', value: `${plan.rows.length}: ${ok.length} ✅ ready, ${bad.length} ❌ with problems${done.length ? `, ${done.length} ⏭ already imported` : ''}` },
      ],
      table: { columns: ['Row', 'Result'], rows: shown.map((r) => [`${MARK[r.status]} Row ${r.row}`, r.text]) },
      notes: plan.rows.length > shown.length ? [lines.at(-1)!, ...notes] : notes,
      ...(actions ? { actions } : {}),
    },
  };
}

export interface RowOutcome {
  row: number;
  jobId: number | null;
  /** The key had been used before (this file's row was already carried out). */
  replayed: boolean;
  /** The action's answer when it started no job (e.g. the product is gone), or an error. */
  problem?: string;
}

/** What a confirmation did, row by row. */
export function runReply(plan: Pick<ImportPlan, 'fileName' | 'format' | 'rows'>, outcomes: RowOutcome[]): SkillReply {
  const format = formatOf(plan);
  const started = outcomes.filter((o) => o.jobId !== null && !o.replayed);
  const replayed = outcomes.filter((o) => o.replayed);
  const failed = outcomes.filter((o) => !o.replayed && o.jobId === null);
  const skipped = plan.rows.filter((r) => r.status !== 'ok');
  const parts: string[] = [];
  if (started.length > 0) {
    const jobs = started.map((o) => `row ${o.row} → job ${o.jobId}`);
    parts.push(
      `On it: ${started.length === 1 ? '1 job is' : `${started.length} jobs are`} working on ${count(started.length, format.noun)} from "${plan.fileName}" (${jobs.slice(0, 30).join(', ')}${jobs.length > 30 ? ', …' : ''}). I'll tell you here as each one finishes.`,
    );
  } else {
    parts.push(`Nothing new was started from "${plan.fileName}".`);
  }
  if (replayed.length > 0) {
    parts.push(`${replayed.length === 1 ? `Row ${replayed[0]!.row} was` : `Rows ${listing(replayed.map((o) => `${o.row}`))} were`} already imported before${replayed.some((o) => o.jobId) ? ` (${listing(replayed.filter((o) => o.jobId).map((o) => `job ${o.jobId}`))})` : ''}, so ${replayed.length === 1 ? 'it was' : 'they were'} not done again.`);
  }
  for (const f of failed) parts.push(`Row ${f.row}: ${f.problem ?? 'not done'}.`.replace(/\.\.$/, '.'));
  if (skipped.length > 0) parts.push(`Skipped: ${rowsWord(skipped.length)} (${listing(skipped.slice(0, 20).map((r) => `${r.row}`))}${skipped.length > 20 ? ' and others' : ''}).`);
  return { text: parts.join(' ') };
}
