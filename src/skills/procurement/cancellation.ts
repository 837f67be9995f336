import type { QueryRunner } from 'typeorm';
import { execute } from '../../db/sql.js';
import type { JobRecord, JobRequest } from '../../jobs/types.js';
import { operationKey } from '../runtime.js';
import { requestedLater } from '../turnJob.js';
import type { CancelRequest } from './orderMachine.js';

/**
 * Cancelling an order the supplier may hold is an automation of its own: a
 * `procurement.cancel_order` job keyed `cancel:PO-…` that calls `cancel_purchase_order`. It is
 * started by the cancel request when nothing is in flight, or by the send job once the send has its
 * outcome (so the supplier never sees the cancel before the order).
 */

const ACTIVE = `status IN ('queued', 'running', 'waiting')`;
const SEND_ACTIONS = ['procurement.create_order', 'procurement.approve_order'];

/** Is a job that sends this order to the supplier still running (its outcome unknown)? */
export async function sendInFlight(tx: QueryRunner, number: string): Promise<boolean> {
  const { rows } = await execute(
    tx,
    `SELECT 1 FROM automation_jobs WHERE subject_type = 'purchase_order' AND subject_id = $1 AND action = ANY($2::text[]) AND ${ACTIVE} LIMIT 1`,
    [number, SEND_ACTIONS],
  );
  return rows.length > 0;
}

/** Did an earlier attempt of this job already hand its step to the connector (so it may have arrived)? */
export async function dispatchedBefore(tx: QueryRunner, jobId: number): Promise<boolean> {
  const { rows } = await execute(
    tx,
    `SELECT 1 FROM automation_job_events WHERE job_id = $1 AND kind IN ('dispatching', 'dispatched') LIMIT 1`,
    [jobId],
  );
  return rows.length > 0;
}

/**
 * Starts the cancel job of an order (inside `tx`), unless one is already under way: returns its id.
 * The key is `cancel:PO-…` (`cancel:PO-…:2` for a second try after the supplier refused the first).
 */
export async function startCancelJob(
  /** Queues a job in `tx`: `ctx.env.jobs.enqueue(tx, …)` in a request, `env.enqueue` in a job step (wakes the workers after commit). */
  enqueue: (request: JobRequest) => Promise<{ jobId: number }>,
  tx: QueryRunner,
  number: string,
  request: CancelRequest,
): Promise<number> {
  const { rows } = await execute<{ id: string; active: boolean }>(
    tx,
    `SELECT id, ${ACTIVE} AS active FROM automation_jobs
     WHERE subject_type = 'purchase_order' AND subject_id = $1 AND action = 'procurement.cancel_order' ORDER BY id DESC`,
    [number],
  );
  const running = rows.find((r) => r.active);
  if (running) return Number(running.id);
  const { jobId } = await enqueue({
    skill: 'procurement',
    action: 'procurement.cancel_order',
    input: { order: number, reason: request.reason },
    idempotencyKey: operationKey('cancel', number, rows.length + 1),
    ...requestedLater(request),
    subject: { type: 'purchase_order', id: number },
  });
  return jobId;
}

/** The cancel request to act on when none was recorded (an order cancelled before this table existed). */
export function fallbackCancelRequest(job: JobRecord, reason: string): CancelRequest {
  return {
    by: job.requestedBy,
    byName: job.requestedByName,
    channelId: job.channelId,
    conversationId: job.conversationId,
    activityId: job.activityId,
    reason,
    at: new Date().toISOString(),
  };
}
