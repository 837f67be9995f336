import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { execute } from '../../db/sql.js';
import { cleanText, storableJson } from '../../db/text.js';
import type { Actor, Origin, SkillReply } from '../types.js';
import type { ImportPlan } from './importer.js';
import { EXCEL_LIMITS } from './limits.js';

/** Pending imports in `excel_imports`: saved with the report, claimed once by a confirmation. */

export interface StoredImport {
  id: string;
  channelId: string;
  conversationId: string;
  actorId: string;
  actorName: string | null;
  plan: ImportPlan;
  status: 'pending' | 'running' | 'done' | 'cancelled';
  result: SkillReply | null;
  createdAt: Date;
  expiresAt: Date;
}

interface Row {
  id: string;
  channel_id: string;
  conversation_id: string;
  actor_id: string;
  actor_name: string | null;
  plan: ImportPlan | string;
  status: StoredImport['status'];
  result: SkillReply | string | null;
  created_at: Date;
  expires_at: Date;
}

/** A confirmation left `running` this long ago (the process died mid-run) may be claimed again: every row is idempotent. */
const STALE_RUN_MS = 5 * 60_000;

export async function saveImport(db: DataSource, plan: ImportPlan, actor: Actor, origin: Origin): Promise<string> {
  const id = randomBytes(16).toString('base64url');
  await execute(
    db,
    `INSERT INTO excel_imports (id, channel_id, conversation_id, actor_id, actor_name, file_name, file_sha256, sheet, format, action, plan, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, now() + $12 * interval '1 millisecond')`,
    [
      id,
      origin.channelId,
      origin.conversationId,
      actor.id,
      actor.name ?? null,
      cleanText(plan.fileName),
      plan.fileSha256,
      cleanText(plan.sheet),
      plan.format,
      plan.action,
      JSON.stringify(plan, storableJson),
      EXCEL_LIMITS.pendingTtlMs,
    ],
  );
  return id;
}

export async function loadImport(db: DataSource, id: string): Promise<StoredImport | undefined> {
  const { rows } = await execute<Row>(db, 'SELECT * FROM excel_imports WHERE id = $1', [id]);
  const r = rows[0];
  if (!r) return undefined;
  return {
    id: r.id,
    channelId: r.channel_id,
    conversationId: r.conversation_id,
    actorId: r.actor_id,
    actorName: r.actor_name,
    plan: typeof r.plan === 'string' ? (JSON.parse(r.plan) as ImportPlan) : r.plan,
    status: r.status,
    result: typeof r.result === 'string' ? (JSON.parse(r.result) as SkillReply) : r.result,
    createdAt: new Date(r.created_at),
    expiresAt: new Date(r.expires_at),
  };
}

/** Claims a pending (or abandoned running) import for its confirmation; false when someone else has it or it is over. */
export async function claimImport(db: DataSource, id: string): Promise<boolean> {
  const { rows } = await execute(
    db,
    `UPDATE excel_imports SET status = 'running', decided_at = now()
     WHERE id = $1 AND expires_at > now()
       AND (status = 'pending' OR (status = 'running' AND decided_at < now() - $2 * interval '1 millisecond'))
     RETURNING id`,
    [id, STALE_RUN_MS],
  );
  return rows.length > 0;
}

export async function finishImport(db: DataSource, id: string, result: SkillReply): Promise<void> {
  await execute(db, `UPDATE excel_imports SET status = 'done', result = $2::jsonb WHERE id = $1`, [id, JSON.stringify(result, storableJson)]);
}

/** Cancels a pending import; false when it was not pending any more. */
export async function cancelImport(db: DataSource, id: string): Promise<boolean> {
  const { rows } = await execute(
    db,
    `UPDATE excel_imports SET status = 'cancelled', decided_at = now() WHERE id = $1 AND status = 'pending' RETURNING id`,
    [id],
  );
  return rows.length > 0;
}
