import { createHash } from 'node:crypto';
import { execute } from '../db/sql.js';
import { storableJson } from '../db/text.js';
import { audit, inTransaction } from '../jobs/store.js';
import type { SkillContext, SkillReply, WriteAction } from './types.js';

export interface WriteOutcome {
  reply: SkillReply;
  /** True when this request had been seen before: `reply` is the stored first outcome. */
  replayed: boolean;
  /** When the first outcome was delivered to the channel (set by `markReplied`). */
  repliedAt: Date | null;
  jobId: number | null;
}

/**
 * The idempotency key of a confirmed request: channel + conversation + the activity the request
 * started from + the server-issued nonce its confirmation carried. Re-deliveries of the same
 * confirmation (same or new activity id, concurrently or late) carry the same nonce and `ref`, so
 * they map to the same key; a new confirmation (after an edit) gets a new nonce. Hashed so it is
 * a fixed size and can be passed to the RPA side (`Idempotency-Key`) without leaking ids.
 */
export function idempotencyKey(origin: { channelId: string; conversationId: string }, ref: string, nonce: string): string {
  const material = JSON.stringify([origin.channelId, origin.conversationId, ref, nonce]);
  return `rpa1-${createHash('sha256').update(material).digest('hex')}`;
}

/**
 * The idempotency key of a business operation (`approve:PO-1102`, `send:PO-1102`, `cancel:PO-1102`):
 * used as the job's key, which is also the `Idempotency-Key` of its call to the RPA side. Unlike a
 * request key, every request for the same operation maps to it, so the unique job key is a second
 * line of defence behind the guarded status change (which already lets only one request through).
 * `round` > 1 names a repeat of the operation that the lifecycle allows (a second cancel after the
 * supplier refused the first).
 */
export function operationKey(operation: string, subject: string, round = 1): string {
  return round > 1 ? `${operation}:${subject}:${round}` : `${operation}:${subject}`;
}

/**
 * Runs a confirmed write exactly once per key. In ONE transaction: claim the key
 * (`INSERT … ON CONFLICT DO NOTHING`; a concurrent duplicate blocks on the unique index until the
 * first commits, then finds the key taken), `submit` (which inserts the job row and sends the
 * pg-boss job on the same connection), store the outcome, write the audit row. A repeat returns
 * the stored outcome. If anything throws, nothing is kept — the key included — so a retry runs.
 */
export async function executeWrite<T>(
  action: WriteAction<T>,
  slots: T,
  ctx: SkillContext,
  key: string,
): Promise<WriteOutcome> {
  const db = ctx.env.db;
  const first = await inTransaction(db, async (tx) => {
    const claimed = await execute(
      tx,
      `INSERT INTO idempotency_keys (key, action, actor_id) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING RETURNING key`,
      [key, action.name, ctx.actor.id],
    );
    if (claimed.rows.length === 0) return undefined;
    const submitted = await action.submit(slots, ctx, tx, key);
    await execute(tx, `UPDATE idempotency_keys SET outcome = $2::jsonb, job_id = $3 WHERE key = $1`, [
      key,
      JSON.stringify(submitted.reply, storableJson),
      submitted.jobId ?? null,
    ]);
    await audit(tx, {
      actorId: ctx.actor.id,
      actorName: ctx.actor.name,
      channelId: ctx.origin.channelId,
      conversationId: ctx.origin.conversationId,
      activityId: ctx.origin.activityId,
      action: action.name,
      outcome: submitted.jobId ? 'submitted' : (submitted.outcome ?? 'refused'),
      subjectType: submitted.subject?.type,
      subjectId: submitted.subject?.id,
      jobId: submitted.jobId,
      details: { slots: slots as unknown as Record<string, unknown> },
    });
    return submitted;
  });
  if (first) {
    if (first.jobId) ctx.env.jobs.kick();
    return { reply: first.reply, replayed: false, repliedAt: null, jobId: first.jobId ?? null };
  }
  const stored = await findOutcome(db, key);
  if (!stored) throw new Error('idempotency key claimed but no outcome stored');
  return stored;
}

/** The stored outcome of a key, if that request was already carried out. */
export async function findOutcome(db: SkillContext['env']['db'], key: string): Promise<WriteOutcome | undefined> {
  const { rows } = await execute<{ outcome: SkillReply | null; replied_at: Date | null; job_id: string | null }>(
    db,
    'SELECT outcome, replied_at, job_id FROM idempotency_keys WHERE key = $1',
    [key],
  );
  const row = rows[0];
  if (!row?.outcome) return undefined;
  return {
    reply: row.outcome,
    replayed: true,
    repliedAt: row.replied_at ? new Date(row.replied_at) : null,
    jobId: row.job_id === null ? null : Number(row.job_id),
  };
}

/** Records that the first outcome reached the channel (repeats then stay silent there). */
export async function markReplied(db: SkillContext['env']['db'], key: string): Promise<void> {
  await execute(db, 'UPDATE idempotency_keys SET replied_at = now() WHERE key = $1 AND replied_at IS NULL', [key]);
}

/** Audit rows for writes that were refused before they could run (who tried what, and why not). */
export async function auditRefusal(ctx: SkillContext, actionName: string, reply: SkillReply, subject?: string): Promise<void> {
  await audit(ctx.env.db, {
    actorId: ctx.actor.id,
    actorName: ctx.actor.name,
    channelId: ctx.origin.channelId,
    conversationId: ctx.origin.conversationId,
    activityId: ctx.origin.activityId,
    action: actionName,
    outcome: 'refused',
    subjectId: subject,
    details: { reason: reply.text },
  });
}
