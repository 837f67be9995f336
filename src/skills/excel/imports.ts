import type { SkillRegistry } from '../registry.js';
import { executeWrite } from '../runtime.js';
import type { SkillContext, SkillReply, WriteAction } from '../types.js';
import { planImport } from './importer.js';
import { reportReply, runReply, type RowOutcome } from './report.js';
import { cancelImport, claimImport, finishImport, loadImport, saveImport, type StoredImport } from './store.js';
import type { UploadedFile } from './workbook.js';

/** A decision's answer; `settled` is false when it was refused (someone else's import, not found). */
export interface ImportDecision {
  reply: SkillReply;
  settled: boolean;
}

export interface ReceivedImport {
  reply: SkillReply;
  /** Set when there is something to confirm. */
  importId?: string;
}

/**
 * Spreadsheet imports, channel-neutral: a file in → a per-row report (saved, with its rows' slots
 * and keys) → a confirmation runs `executeWrite` once per valid row, keyed by file hash + sheet +
 * row, so sending the same file again or confirming twice never starts a second job for a row.
 */
export class ExcelImports {
  constructor(private readonly registry: SkillRegistry) {}

  async receive(file: UploadedFile, hint: string, ctx: SkillContext): Promise<ReceivedImport> {
    const result = await planImport(file, hint, ctx, this.registry);
    if ('reply' in result) return { reply: result.reply };
    const { plan } = result;
    if (!plan.rows.some((r) => r.status === 'ok')) return { reply: reportReply(plan, '') };
    const importId = await saveImport(ctx.env.db, plan, ctx.actor, ctx.origin);
    return { reply: reportReply(plan, importId), importId };
  }

  async confirm(importId: string, ctx: SkillContext): Promise<ImportDecision> {
    const stored = await loadImport(ctx.env.db, importId);
    const refusal = this.refusal(stored, ctx);
    if (refusal) return { reply: refusal, settled: false };
    return { reply: await this.run(stored!, ctx), settled: true };
  }

  private async run(pending: StoredImport, ctx: SkillContext): Promise<SkillReply> {
    const db = ctx.env.db;
    const importId = pending.id;
    if (pending.status === 'done' && pending.result) return { text: `That file was already imported: ${pending.result.text}` };
    if (!(await claimImport(db, importId))) {
      const now = await loadImport(db, importId);
      if (now?.status === 'done' && now.result) return { text: `That file was already imported: ${now.result.text}` };
      if (now?.status === 'cancelled') return { text: 'That import was cancelled, so nothing was done. Send the file again if you still need it.' };
      if (now?.status === 'running') return { text: 'That import is already running; I\'ll report on each row here.' };
      return { text: 'That import has expired, so nothing was done. Send the file again: rows already imported will not be imported twice.' };
    }
    const action = this.registry.action(pending.plan.action);
    if (!action || action.kind !== 'write') throw new Error(`excel import: unknown write action ${pending.plan.action}`);
    const outcomes: RowOutcome[] = [];
    for (const row of pending.plan.rows) {
      if (row.status !== 'ok') continue;
      try {
        const outcome = await executeWrite(action as WriteAction, row.slots, ctx, row.key);
        outcomes.push({
          row: row.row,
          jobId: outcome.jobId,
          replayed: outcome.replayed,
          ...(outcome.jobId === null && !outcome.replayed ? { problem: outcome.reply.text } : {}),
        });
      } catch (err) {
        // Nothing of this row was kept (executeWrite rolls back, key included): confirming again retries it.
        outcomes.push({ row: row.row, jobId: null, replayed: false, problem: `it failed (${(err as Error).message.slice(0, 120)}); confirm again to retry it` });
      }
    }
    const reply = runReply(pending.plan, outcomes);
    await finishImport(db, importId, reply);
    return reply;
  }

  async cancel(importId: string, ctx: SkillContext): Promise<ImportDecision> {
    const stored = await loadImport(ctx.env.db, importId);
    const refusal = this.refusal(stored, ctx);
    if (refusal) return { reply: refusal, settled: false };
    const text = (await cancelImport(ctx.env.db, importId))
      ? `OK, I won't import "${stored!.plan.fileName}". Nothing was changed.`
      : stored!.status === 'done'
        ? 'That import was already carried out, so it can no longer be cancelled.'
        : 'That import is no longer pending, so there is nothing to cancel.';
    return { reply: { text }, settled: true };
  }

  /** Only the conversation it was sent in, and only the person who sent it, may decide. */
  private refusal(stored: StoredImport | undefined, ctx: SkillContext): SkillReply | undefined {
    if (!stored || stored.conversationId !== ctx.origin.conversationId || stored.channelId !== ctx.origin.channelId) {
      return { text: "I can't find that import here, so nothing was done. Send the file again if you still need it." };
    }
    if (stored.actorId !== ctx.actor.id) {
      return { text: `Only ${stored.actorName ?? 'the person who sent the file'} can confirm or cancel this import.` };
    }
    return undefined;
  }
}
