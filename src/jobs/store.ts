import type { DataSource, QueryRunner } from 'typeorm';
import { execute } from '../db/sql.js';
import { storableJson } from '../db/text.js';
import type { JobEvent, JobRecord, JobRequest, JobStatus, NotificationRecord } from './types.js';

type Target = DataSource | QueryRunner;

const json = (value: unknown): string => JSON.stringify(value ?? null, storableJson);

interface JobRow {
  id: string;
  skill: string;
  action: string;
  status: JobStatus;
  idempotency_key: string;
  input: Record<string, unknown>;
  result: Record<string, unknown> | null;
  error: string | null;
  attempts: number;
  connector: string | null;
  subject_type: string | null;
  subject_id: string | null;
  requested_by: string;
  requested_by_name: string | null;
  channel_id: string;
  conversation_id: string;
  activity_id: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  updated_at: Date;
}

export function toJob(row: JobRow): JobRecord {
  return {
    id: Number(row.id),
    skill: row.skill,
    action: row.action,
    status: row.status,
    idempotencyKey: row.idempotency_key,
    input: row.input,
    result: row.result,
    error: row.error,
    attempts: row.attempts,
    connector: row.connector,
    subjectType: row.subject_type,
    subjectId: row.subject_id,
    requestedBy: row.requested_by,
    requestedByName: row.requested_by_name,
    channelId: row.channel_id,
    conversationId: row.conversation_id,
    activityId: row.activity_id,
    createdAt: new Date(row.created_at),
    startedAt: row.started_at ? new Date(row.started_at) : null,
    finishedAt: row.finished_at ? new Date(row.finished_at) : null,
    updatedAt: new Date(row.updated_at),
  };
}

export async function insertJob(tx: QueryRunner, request: JobRequest, connector: string): Promise<number> {
  const { rows } = await execute<{ id: string }>(
    tx,
    `INSERT INTO automation_jobs (skill, action, idempotency_key, input, connector, subject_type, subject_id,
                                  requested_by, requested_by_name, channel_id, conversation_id, activity_id)
     VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9, $10, $11, $12)
     RETURNING id`,
    [
      request.skill,
      request.action,
      request.idempotencyKey,
      json(request.input),
      connector,
      request.subject?.type ?? null,
      request.subject?.id ?? null,
      request.requestedBy.id,
      request.requestedBy.name ?? null,
      request.origin.channelId,
      request.origin.conversationId,
      request.origin.activityId ?? null,
    ],
  );
  return Number(rows[0]!.id);
}

/** The job row, locked for the rest of the transaction. */
export async function lockJob(tx: QueryRunner, id: number): Promise<JobRecord | undefined> {
  const { rows } = await execute<JobRow>(tx, 'SELECT * FROM automation_jobs WHERE id = $1 FOR UPDATE', [id]);
  return rows[0] ? toJob(rows[0]) : undefined;
}

export async function getJob(target: Target, id: number): Promise<JobRecord | undefined> {
  const { rows } = await execute<JobRow>(target, 'SELECT * FROM automation_jobs WHERE id = $1', [id]);
  return rows[0] ? toJob(rows[0]) : undefined;
}

export interface JobFilter {
  requestedBy?: string;
  statuses?: readonly JobStatus[];
  subject?: { type: string; id: string };
  limit?: number;
}

export async function listJobs(target: Target, filter: JobFilter = {}): Promise<JobRecord[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.requestedBy) {
    params.push(filter.requestedBy);
    where.push(`requested_by = $${params.length}`);
  }
  if (filter.statuses && filter.statuses.length > 0) {
    params.push([...filter.statuses]);
    where.push(`status = ANY($${params.length}::text[])`);
  }
  if (filter.subject) {
    params.push(filter.subject.type, filter.subject.id);
    where.push(`subject_type = $${params.length - 1} AND subject_id = $${params.length}`);
  }
  params.push(filter.limit ?? 10);
  const { rows } = await execute<JobRow>(
    target,
    `SELECT * FROM automation_jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
    params,
  );
  return rows.map(toJob);
}

export async function addEvent(
  target: Target,
  jobId: number,
  kind: string,
  message: string,
  data?: Record<string, unknown>,
): Promise<void> {
  await execute(
    target,
    'INSERT INTO automation_job_events (job_id, kind, message, data) VALUES ($1, $2, $3, $4::jsonb)',
    [jobId, kind, message, data ? json(data) : null],
  );
}

export async function listEvents(target: Target, jobId: number): Promise<JobEvent[]> {
  const { rows } = await execute<{
    id: string;
    job_id: string;
    at: Date;
    kind: string;
    message: string;
    data: Record<string, unknown> | null;
  }>(target, 'SELECT * FROM automation_job_events WHERE job_id = $1 ORDER BY id', [jobId]);
  return rows.map((r) => ({
    id: Number(r.id),
    jobId: Number(r.job_id),
    at: new Date(r.at),
    kind: r.kind,
    message: r.message,
    data: r.data,
  }));
}

export async function insertNotification(
  tx: QueryRunner,
  n: { jobId: number | null; kind: string; channelId?: string; conversationId?: string; userId?: string; reply: unknown },
): Promise<number> {
  const { rows } = await execute<{ id: string }>(
    tx,
    `INSERT INTO notifications (job_id, kind, channel_id, conversation_id, user_id, reply)
     VALUES ($1, $2, $3, $4, $5, $6::jsonb) RETURNING id`,
    [n.jobId, n.kind, n.channelId ?? null, n.conversationId ?? null, n.userId ?? null, json(n.reply)],
  );
  return Number(rows[0]!.id);
}

export async function getNotification(target: Target, id: number): Promise<(NotificationRecord & { status: string }) | undefined> {
  const { rows } = await execute<{
    id: string;
    job_id: string | null;
    kind: string;
    channel_id: string | null;
    conversation_id: string | null;
    user_id: string | null;
    reply: NotificationRecord['reply'];
    attempts: number;
    status: string;
  }>(target, 'SELECT * FROM notifications WHERE id = $1', [id]);
  const r = rows[0];
  if (!r) return undefined;
  return {
    id: Number(r.id),
    jobId: r.job_id === null ? null : Number(r.job_id),
    kind: r.kind,
    channelId: r.channel_id,
    conversationId: r.conversation_id,
    userId: r.user_id,
    reply: r.reply,
    attempts: r.attempts,
    status: r.status,
  };
}

export interface AuditEntry {
  actorId: string;
  actorName?: string | null;
  channelId?: string | null;
  conversationId?: string | null;
  activityId?: string | null;
  action: string;
  outcome: string;
  subjectType?: string | null;
  subjectId?: string | null;
  jobId?: number | null;
  details?: Record<string, unknown>;
}

/** One audit_log row: who, what, when (now), from which message, with what outcome. */
export async function audit(target: Target, e: AuditEntry): Promise<void> {
  await execute(
    target,
    `INSERT INTO audit_log (actor_id, actor_name, channel_id, conversation_id, activity_id, action, outcome,
                            subject_type, subject_id, job_id, details)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb)`,
    [
      e.actorId,
      e.actorName ?? null,
      e.channelId ?? null,
      e.conversationId ?? null,
      e.activityId ?? null,
      e.action,
      e.outcome,
      e.subjectType ?? null,
      e.subjectId ?? null,
      e.jobId ?? null,
      json(e.details ?? {}),
    ],
  );
}

/** Runs `fn` in a transaction on its own query runner; rolls back if it throws. */
export async function inTransaction<T>(dataSource: DataSource, fn: (tx: QueryRunner) => Promise<T>): Promise<T> {
  const tx = dataSource.createQueryRunner();
  try {
    await tx.connect();
    await tx.startTransaction();
    const value = await fn(tx);
    await tx.commitTransaction();
    return value;
  } catch (err) {
    if (tx.isTransactionActive) await tx.rollbackTransaction().catch(() => {});
    throw err;
  } finally {
    await tx.release();
  }
}

/** A job that has been running longer than expected, with its latest progress event. */
export interface SlowJob {
  job: JobRecord;
  /** The latest step event ("Sending PO-1101 to Acme Corp", "Attempt 1 failed: …"), if any. */
  progress: string | null;
}

/**
 * Claims up to `limit` active jobs created more than `afterSeconds` ago (within the last day) whose
 * requester has not been told "still working" yet, and marks them told. Rows locked by a running
 * step are skipped (they are claimed on a later tick), so this never waits for a step.
 */
export async function claimSlowJobs(tx: QueryRunner, afterSeconds: number, limit = 50): Promise<SlowJob[]> {
  const { rows } = await execute<JobRow & { progress: string | null }>(
    tx,
    `WITH slow AS (
       SELECT id FROM automation_jobs
       WHERE status IN ('queued', 'running', 'waiting') AND still_working_at IS NULL
         AND created_at < now() - $1 * interval '1 second' AND created_at > now() - interval '1 day'
       ORDER BY id LIMIT $2
       FOR UPDATE SKIP LOCKED
     )
     UPDATE automation_jobs j SET still_working_at = now()
     FROM slow WHERE j.id = slow.id
     RETURNING j.*, (SELECT e.message FROM automation_job_events e
                     WHERE e.job_id = j.id AND e.kind IN ('dispatching', 'dispatched', 'attempt_failed', 'started', 'queued')
                     ORDER BY e.id DESC LIMIT 1) AS progress`,
    [afterSeconds, limit],
  );
  return rows.map((row) => ({ job: toJob(row), progress: row.progress }));
}
