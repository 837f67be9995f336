/**
 * Every outcome of a send whose order was cancelled meanwhile, on both databases, at the job
 * handlers (real rows, real transactions; the job system's dispatch is what the other tests run):
 * - not dispatched yet → `send_skipped`: cancelled, nothing sent, the cancel job tells the canceller;
 * - a retry after an attempt that may have dispatched (a crash) → the compensation runs;
 * - no result in time, retries spent → the compensation runs (never a live orphan);
 * - the supplier declines → cancelled, nothing to undo;
 * - the cancel job calls `cancel_purchase_order`; a refusal leaves the order confirmed, and a second
 *   cancel gets its own key (`cancel:PO-…:2`); a compensation never starts a second cancel job while
 *   one is under way.
 * The cancel job always answers in the canceller's conversation (kept in `cancel_request`).
 */
import type { QueryRunner } from 'typeorm';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addEvent, inTransaction, insertJob, lockJob } from '../../src/jobs/store.js';
import type { Finish, JobHandler, JobHandlerEnv, JobRecord, JobRequest, JobSubmitter, StepResult } from '../../src/jobs/types.js';
import { seedDemoData } from '../../src/skills/data/seed.js';
import { startCancelJob } from '../../src/skills/procurement/cancellation.js';
import { procurementJobHandlers } from '../../src/skills/procurement/jobs.js';
import type { CancelRequest, PoStatus } from '../../src/skills/procurement/orderMachine.js';
import { RoleDirectory } from '../../src/skills/roles.js';
import { databaseTargets, type TestDatabase } from '../helpers/databases.js';
import { rows } from '../helpers/procurementFixture.js';

const targets = await databaseTargets();

const ALICE: CancelRequest = {
  by: 'alice',
  byName: 'Alice',
  channelId: 'test',
  conversationId: 'conv-alice',
  activityId: 'act-1',
  reason: 'project stopped',
  at: new Date().toISOString(),
};

/** Records the jobs handlers start (as real rows, so the handlers see them). */
class RecordingSubmitter implements JobSubmitter {
  readonly started: JobRequest[] = [];
  async enqueue(tx: QueryRunner, request: JobRequest): Promise<{ jobId: number }> {
    this.started.push(request);
    return { jobId: await insertJob(tx, request, 'test') };
  }
  kick(): void {}
}

describe.each(targets)('send outcomes of a cancelled order on $name', (target) => {
  let t: TestDatabase | undefined;
  const db = (): DataSource => t!.db.dataSource;
  const submitter = new RecordingSubmitter();
  const handlers = new Map<string, JobHandler>(
    procurementJobHandlers({
      settings: { approvalThreshold: 10_000, currency: 'USD' },
      roles: new RoleDirectory({ byUser: {}, defaults: ['buyer'] }),
    }).map((h) => [h.action, h]),
  );

  beforeAll(async () => {
    if (target.skip) return;
    t = await target.create();
    await seedDemoData(db());
  });
  afterAll(() => t?.dispose());

  let seq = 0;
  /** An order in `status` (cancel requested by Alice) and a send job of Bob's for it. */
  async function prepare(number: string, status: PoStatus): Promise<number> {
    await rows(db(), `UPDATE purchase_orders SET status = $2, cancel_request = $3::jsonb, supplier_reference = NULL WHERE number = $1`, [
      number,
      status,
      JSON.stringify(ALICE),
    ]);
    seq += 1;
    return inTransaction(db(), (tx) =>
      insertJob(
        tx,
        {
          skill: 'procurement',
          action: 'procurement.approve_order',
          input: { order: number },
          idempotencyKey: `test-send:${number}:${seq}`,
          requestedBy: { id: 'bob', name: 'Bob' },
          origin: { channelId: 'test', conversationId: 'conv-bob' },
          subject: { type: 'purchase_order', id: number },
        },
        'test',
      ),
    );
  }

  /** Runs one handler method in a transaction, as the job system does (job row locked). */
  function step<T>(jobId: number, fn: (handler: JobHandler, job: JobRecord, tx: QueryRunner, env: JobHandlerEnv) => Promise<T>): Promise<T> {
    return inTransaction(db(), async (tx) => {
      const job = (await lockJob(tx, jobId))!;
      const env: JobHandlerEnv = {
        event: (kind, message, data) => addEvent(tx, jobId, kind, message, data),
        setSubject: async () => {},
        enqueue: (request) => submitter.enqueue(tx, request),
        now: () => new Date(),
      };
      return fn(handlers.get(job.action)!, job, tx, env);
    });
  }

  const statusOf = async (number: string) =>
    (await rows<{ status: string; supplier_reference: string | null }>(db(), 'SELECT status, supplier_reference FROM purchase_orders WHERE number = $1', [number]))[0]!;
  const cancelJobs = (number: string) =>
    rows<{ id: string; idempotency_key: string; conversation_id: string; requested_by: string }>(
      db(),
      `SELECT id, idempotency_key, conversation_id, requested_by FROM automation_jobs WHERE subject_id = $1 AND action = 'procurement.cancel_order' ORDER BY id`,
      [number],
    );
  /** What the job's requester is told (the first notice; the order's creator may get a copy). */
  const finishText = (f: Finish | StepResult) => ('notices' in f ? (f.notices[0]?.reply.text ?? '') : '');

  it.skipIf(target.skip)('not dispatched yet: the send is skipped, the order is cancelled, the canceller hears from the cancel job', async () => {
    const job = await prepare('PO-1005', 'cancelling');
    const result = await step(job, (h, j, tx, env) => h.run(j, tx, env));
    expect(result).toMatchObject({ kind: 'finish', status: 'cancelled' });
    expect(finishText(result)).toBe('PO-1005 was not sent to Initech: Alice cancelled it first.');
    expect((await statusOf('PO-1005')).status).toBe('cancelled');
    expect(await cancelJobs('PO-1005')).toMatchObject([{ idempotency_key: 'cancel:PO-1005', conversation_id: 'conv-alice', requested_by: 'alice' }]);
    // The cancel job: nothing is open at the supplier, it only tells Alice.
    const [cancel] = await cancelJobs('PO-1005');
    const told = await step(Number(cancel!.id), (h, j, tx, env) => h.run(j, tx, env));
    expect(told).toMatchObject({ kind: 'finish', status: 'succeeded' });
    expect(finishText(told)).toMatch(/^🗑️ PO-1005 with Initech is cancelled\. Nothing was open at the supplier\./);
  });

  it.skipIf(target.skip)('a retry after an attempt that may have dispatched: the compensation runs', async () => {
    const job = await prepare('PO-1003', 'cancelling');
    await inTransaction(db(), (tx) => addEvent(tx, job, 'dispatching', 'Sending PO-1003 (attempt 1, then the worker died)'));
    const result = await step(job, (h, j, tx, env) => h.run(j, tx, env));
    expect(result).toMatchObject({ kind: 'finish', status: 'succeeded' });
    expect(finishText(result)).toMatch(/^⚠️ PO-1003 may have reached Northwind Traders \(no clear answer\), but Alice cancelled it meanwhile\. I'm asking Northwind Traders to cancel it \(job \d+\)/);
    expect((await statusOf('PO-1003')).status).toBe('cancelling');
    const [cancel] = await cancelJobs('PO-1003');
    expect(cancel).toMatchObject({ idempotency_key: 'cancel:PO-1003', conversation_id: 'conv-alice' });
    // The cancel job goes to the supplier; Northwind refuses: the order stays with them, confirmed.
    const dispatch = await step(Number(cancel!.id), (h, j, tx, env) => h.run(j, tx, env));
    expect(dispatch).toMatchObject({ kind: 'dispatch', operation: 'cancel_purchase_order', payload: { order: 'PO-1003', reason: 'project stopped' } });
    const refused = await step(Number(cancel!.id), (h, j, tx, env) => h.complete(j, { status: 'failed', error: 'already shipped' }, tx, env));
    expect(refused.notices[0]!.reply.text).toBe('❌ Northwind Traders did not confirm cancelling PO-1003: already shipped. It stays confirmed.');
    expect((await statusOf('PO-1003')).status).toBe('confirmed');
    await rows(db(), `UPDATE automation_jobs SET status = 'failed' WHERE id = $1`, [cancel!.id]);
    // A second cancel is a new operation with its own key.
    const again = await inTransaction(db(), (tx) => startCancelJob((request) => submitter.enqueue(tx, request), tx, 'PO-1003', ALICE));
    expect((await cancelJobs('PO-1003')).map((c) => [Number(c.id), c.idempotency_key])).toEqual([
      [Number(cancel!.id), 'cancel:PO-1003'],
      [again, 'cancel:PO-1003:2'],
    ]);
  });

  it.skipIf(target.skip)('no result in time: the compensation runs; a second trigger does not start a second cancel job', async () => {
    const job = await prepare('PO-1002', 'cancelling');
    const finish = await step(job, (h, j, tx, env) => h.complete(j, { status: 'failed', timedOut: true, error: 'no result within 5 s' }, tx, env));
    expect(finish).toMatchObject({ status: 'succeeded', result: { status: 'cancelling' } });
    expect(await cancelJobs('PO-1002')).toHaveLength(1);
    // Retries of the same send spent later (another job of the order): the cancel job under way is reused.
    const other = await prepare('PO-1002', 'cancelling');
    const dead = await step(other, (h, j, tx, env) => h.deadLetter(j, 'webhook answered HTTP 503', tx, env));
    expect(dead.status).toBe('dead_letter');
    expect(await cancelJobs('PO-1002')).toHaveLength(1);
    expect((await statusOf('PO-1002')).status).toBe('cancelling');
  });

  it.skipIf(target.skip)('the supplier declines the order being cancelled: cancelled, nothing to undo', async () => {
    const job = await prepare('PO-1004', 'cancelling');
    const finish = await step(job, (h, j, tx, env) => h.complete(j, { status: 'failed', error: 'out of stock' }, tx, env));
    expect(finish.notices[0]!.reply.text).toBe(
      'Acme Corp did not accept PO-1004 (out of stock), and Alice had cancelled it meanwhile: it is cancelled, nothing is open at Acme Corp.',
    );
    expect((await statusOf('PO-1004')).status).toBe('cancelled');
    expect(await cancelJobs('PO-1004')).toMatchObject([{ idempotency_key: 'cancel:PO-1004', conversation_id: 'conv-alice' }]);
  });

  it.skipIf(target.skip)('a succeeded send for a cancelled order keeps the supplier reference and re-opens the cancel', async () => {
    const job = await prepare('PO-1006', 'cancelled');
    const finish = await step(job, (h, j, tx, env) => h.complete(j, { status: 'succeeded', data: { supplierReference: 'GLX-9' } }, tx, env));
    expect(finish.notices[0]!.reply.text).toMatch(/^⚠️ PO-1006 reached Globex \(ref GLX-9\), but Alice cancelled it meanwhile/);
    expect(await statusOf('PO-1006')).toEqual({ status: 'cancelling', supplier_reference: 'GLX-9' });
    const [cancel] = await cancelJobs('PO-1006');
    const dispatch = await step(Number(cancel!.id), (h, j, tx, env) => h.run(j, tx, env));
    expect(dispatch).toMatchObject({ kind: 'dispatch', operation: 'cancel_purchase_order', payload: { supplierReference: 'GLX-9' } });
    const done = await step(Number(cancel!.id), (h, j, tx, env) => h.complete(j, { status: 'succeeded' }, tx, env));
    expect(done.notices[0]!.reply.text).toMatch(/^🗑️ PO-1006 with Globex is cancelled\. Globex confirmed the cancel\./);
    expect(await statusOf('PO-1006')).toEqual({ status: 'cancelled', supplier_reference: 'GLX-9' });
  });

  it.skipIf(target.skip)('a late "succeeded" (after the send was given up) for an order being cancelled records the reference; the cancel under way is reused', async () => {
    const job = await prepare('PO-1007', 'cancelling');
    await step(job, (h, j, tx, env) => h.complete(j, { status: 'failed', timedOut: true, error: 'no result within 5 s' }, tx, env));
    expect(await cancelJobs('PO-1007')).toHaveLength(1);
    const late = await step(job, (h, j, tx, env) => h.late!(j, { status: 'succeeded', data: { supplierReference: 'LATE-7' } }, tx, env));
    expect(late!.notices[0]!.reply.text).toMatch(/^Update on job \d+: \S.* answered after I had stopped waiting\. ⚠️ PO-1007 reached .* \(ref LATE-7\), but Alice cancelled it meanwhile/);
    expect(await statusOf('PO-1007')).toEqual({ status: 'cancelling', supplier_reference: 'LATE-7' });
    expect(await cancelJobs('PO-1007')).toHaveLength(1);
  });

  it.skipIf(target.skip)('a late result for an order that has moved on (placed, received…) changes nothing', async () => {
    const job = await prepare('PO-1001', 'received');
    const late = await step(job, (h, j, tx, env) => h.late!(j, { status: 'succeeded', data: { supplierReference: 'LATE-8' } }, tx, env));
    expect(late).toBeUndefined();
    expect(await statusOf('PO-1001')).toEqual({ status: 'received', supplier_reference: null });
  });

  it.skipIf(target.skip)('a late answer to a cancel that timed out settles the order: confirmed → cancelled, and told', async () => {
    await prepare('PO-1002', 'cancelling');
    const cancelId = await inTransaction(db(), (tx) => startCancelJob((request) => submitter.enqueue(tx, request), tx, 'PO-1002', ALICE));
    const cancel = { id: cancelId };
    const timedOut = await step(Number(cancel.id), (h, j, tx, env) => h.complete(j, { status: 'failed', timedOut: true, error: 'no result within 5 s' }, tx, env));
    expect(timedOut.notices[0]!.reply.text).toMatch(/did not answer the cancel of PO-1002 in time/);
    expect((await statusOf('PO-1002')).status).toBe('cancelling');
    const late = await step(Number(cancel.id), (h, j, tx, env) => h.late!(j, { status: 'succeeded' }, tx, env));
    expect(late!.notices[0]!.reply.text).toMatch(/^Update on job \d+: Globex answered after I had stopped waiting\. 🗑️ PO-1002 with Globex is cancelled\. Globex confirmed the cancel\./);
    expect((await statusOf('PO-1002')).status).toBe('cancelled');
    // Once settled, another late answer finds nothing to do.
    expect(await step(Number(cancel.id), (h, j, tx, env) => h.late!(j, { status: 'succeeded' }, tx, env))).toBeUndefined();
  });
});
