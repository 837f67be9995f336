/**
 * Purchase orders reach the supplier exactly once, and a cancel never leaves a live order there —
 * on both databases, through the chat endpoint and the webhook connector, against a fake RPA
 * system on loopback that records every step (operation, Idempotency-Key, when it came and when it
 * was answered) and can hold a send open:
 * (a) one approver confirms "approve PO-…" in 5 conversations at once → 1 approval job, 1
 *     `send_purchase_order` with 1 Idempotency-Key; the 4 others are told who approved it and when;
 * (b) cancel while the send is held open at the RPA → no cancel until the send is answered, then
 *     `cancel_purchase_order` (key `cancel:PO-…`, the supplier's reference); cancelled; both told;
 * (c) a "succeeded" callback for an order cancelled meanwhile → the compensation goes out and the
 *     requester is told; also for an order already `cancelled` (the supplier reference is kept);
 * (d) a "succeeded" callback after the send's result deadline (the job had given up, the order is
 *     still `approved`) → applied once: the supplier reference is recorded, the order placed, the
 *     approver and the creator told it was a late answer; a replay → 409, no change.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedHeaders } from '../../src/jobs/connectors/signature.js';
import { allText, ChatUser } from '../helpers/chatUser.js';
import { databaseTargets } from '../helpers/databases.js';
import { eventually, rows, useSkillApp } from '../helpers/procurementFixture.js';

const targets = await databaseTargets();
const SECRET = 'test-orders-exactly-once-secret-0123';

interface Step {
  operation: string;
  key: string | undefined;
  jobId: number;
  order: string;
  payload: Record<string, unknown>;
  receivedAt: number;
  answeredAt?: number;
}

type Mode = 'answer' | 'accept' | 'hold';

/**
 * Plays the RPA side: `answer` replies at once with a result (a synchronous flow), `accept` with
 * 202 (the result comes by callback), `hold` keeps the request open until `release()`.
 */
class FakeRpa {
  readonly steps: Step[] = [];
  readonly mode: Record<string, Mode> = { send_purchase_order: 'answer', cancel_purchase_order: 'answer' };
  private held: (() => void)[] = [];
  private server?: Server;

  async start(): Promise<string> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { jobId: number; operation: string; payload: Record<string, unknown> };
        const step: Step = {
          operation: body.operation,
          key: req.headers['idempotency-key'] as string | undefined,
          jobId: body.jobId,
          order: String(body.payload.order),
          payload: body.payload,
          receivedAt: performance.now(),
        };
        this.steps.push(step);
        const answer = () => {
          step.answeredAt = performance.now();
          const result =
            step.operation === 'cancel_purchase_order'
              ? { status: 'succeeded', data: { cancelled: true } }
              : { status: 'succeeded', data: { supplierReference: `ACME-${step.jobId}`, confirmed: true } };
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(result));
        };
        const mode = this.mode[step.operation] ?? 'accept';
        if (mode === 'hold') this.held.push(answer);
        else if (mode === 'answer') answer();
        else {
          step.answeredAt = performance.now();
          res.writeHead(202, { 'content-type': 'application/json' });
          res.end('{"accepted":true}');
        }
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/rpa`;
  }

  /** Answers every held request. */
  release(): void {
    for (const answer of this.held.splice(0)) answer();
  }

  of(order: string, operation?: string): Step[] {
    return this.steps.filter((s) => s.order === order && (!operation || s.operation === operation));
  }

  async stop(): Promise<void> {
    this.release();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

describe.each(targets)('orders exactly once on $name', (target) => {
  const rpa = new FakeRpa();
  let rpaUrl = '';
  beforeAll(async () => {
    if (!target.skip) rpaUrl = await rpa.start();
  });
  afterAll(() => rpa.stop());
  const fixture = useSkillApp(target, () => ({ AUTOMATION_CONNECTOR: 'webhook', WEBHOOK_URL: rpaUrl, WEBHOOK_SECRET: SECRET }));

  const user = (id: string, name: string) => new ChatUser(() => fixture.app.url, fixture.receiver, id, name);
  const order = async (number: string) =>
    (
      await rows<{ status: string; supplier_reference: string | null; approved_by: string | null }>(
        fixture.app.db.dataSource,
        'SELECT status, supplier_reference, approved_by FROM purchase_orders WHERE number = $1',
        [number],
      )
    )[0]!;
  const jobsOf = (number: string, action: string) =>
    rows<{ id: string; idempotency_key: string; status: string }>(
      fixture.app.db.dataSource,
      'SELECT id, idempotency_key, status FROM automation_jobs WHERE subject_id = $1 AND action = $2 ORDER BY id',
      [number, action],
    );

  /** Alice raises an order over the approval limit; it waits for an approver. */
  async function raiseOrder(alice: ChatUser): Promise<string> {
    expect(allText(await alice.say('order 80 units of SKU-1005 from Acme Corp'))).toMatch(/Approval: needed/);
    await alice.click('Confirm');
    const [waiting] = await alice.waitForNotification(/🕒 PO-\d+ is created and waiting for approval/);
    return /PO-\d+/.exec(waiting!.text)![0];
  }

  /** Bob approves it in one conversation; the send goes to the RPA. */
  async function approve(bob: ChatUser, number: string): Promise<void> {
    expect(allText(await bob.say(`approve ${number}`))).toMatch(new RegExp(`Approve ${number}\\?`));
    expect(allText(await bob.say('yes'))).toMatch(new RegExp(`^On it: job \\d+ is approving ${number}`));
  }

  /** Alice cancels it; returns the reply to her "yes". */
  async function cancel(alice: ChatUser, number: string): Promise<string> {
    expect(allText(await alice.say(`cancel ${number}`))).toMatch(new RegExp(`Cancel ${number}\\?`));
    return allText(await alice.say('yes'));
  }

  it.skipIf(target.skip)('(a) 5 concurrent approvals by one approver → 1 job, 1 send_purchase_order, 1 Idempotency-Key; 4 × "already approved"', async () => {
    rpa.mode.send_purchase_order = 'answer';
    const alice = user('alice', 'Alice');
    const number = await raiseOrder(alice);
    // Phone, desktop, a channel…: five conversations of the same approver, each at the confirmation.
    const bobs = Array.from({ length: 5 }, () => user('bob', 'Bob'));
    for (const bob of bobs) expect(allText(await bob.say(`approve ${number}`))).toMatch(new RegExp(`Approve ${number}\\?`));
    const replies = (await Promise.all(bobs.map((bob) => bob.say('yes')))).map(allText);

    expect(replies.filter((t) => new RegExp(`^On it: job \\d+ is approving ${number}`).test(t))).toHaveLength(1);
    const already = replies.filter((t) => new RegExp(`^${number} was already approved by Bob at \\d\\d:\\d\\d UTC`).test(t));
    expect(already, replies.join('\n')).toHaveLength(4);

    await alice.waitForNotification(new RegExp(`✅ ${number} is placed: Acme Corp confirmed it`));
    await new Promise((r) => setTimeout(r, 1000)); // room for any second send to show up
    const jobs = await jobsOf(number, 'procurement.approve_order');
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.idempotency_key).toBe(`approve:${number}`);
    const sends = rpa.of(number, 'send_purchase_order');
    expect(sends).toHaveLength(1);
    // The RPA's key names the operation at the supplier (`send:`), not the job (`approve:`).
    expect(new Set(sends.map((s) => s.key))).toEqual(new Set([`send:${number}`]));
    expect(await order(number)).toMatchObject({ status: 'confirmed', approved_by: 'bob' });
    // The refusals are in the audit log, from the conversations they came from.
    const refused = await rows(fixture.app.db.dataSource, `SELECT 1 FROM audit_log WHERE action = 'procurement.approve_order' AND subject_id = $1 AND outcome = 'refused'`, [number]);
    expect(refused).toHaveLength(4);
  });

  it.skipIf(target.skip)('(b) cancel while the send is held open at the RPA → the cancel goes out after the send is answered; cancelled; both told', async () => {
    rpa.mode.send_purchase_order = 'hold';
    const alice = user('alice', 'Alice');
    const bob = user('bob', 'Bob');
    const number = await raiseOrder(alice);
    await approve(bob, number);
    await eventually(async () => rpa.of(number, 'send_purchase_order').length === 1, 15_000, 'the send to reach the RPA');

    expect(await cancel(alice, number)).toMatch(new RegExp(`^${number} is being sent to Acme Corp right now\\. I'll cancel it as soon as Acme Corp has answered`));
    expect((await order(number)).status).toBe('cancelling');
    // The cancel waits for the send: nothing goes to the supplier while the send is open.
    await new Promise((r) => setTimeout(r, 1500));
    expect(rpa.of(number, 'cancel_purchase_order')).toHaveLength(0);
    expect(await jobsOf(number, 'procurement.cancel_order')).toHaveLength(0);

    rpa.release();
    const [cancelStep] = await eventually(async () => rpa.of(number, 'cancel_purchase_order').length > 0 && rpa.of(number, 'cancel_purchase_order'), 15_000, 'the cancel to reach the RPA');
    const [send] = rpa.of(number, 'send_purchase_order');
    expect(cancelStep!.receivedAt).toBeGreaterThan(send!.answeredAt!);
    expect(cancelStep!.key).toBe(`cancel:${number}`);
    expect(cancelStep!.payload).toMatchObject({ order: number, supplier: 'Acme Corp', supplierReference: `ACME-${send!.jobId}` });

    await alice.waitForNotification(new RegExp(`🗑️ ${number} with Acme Corp is cancelled\\. Acme Corp confirmed the cancel\\.`));
    await bob.waitForNotification(new RegExp(`⚠️ ${number} reached Acme Corp \\(ref ACME-${send!.jobId}\\), but Alice cancelled it meanwhile\\. I'm asking Acme Corp to cancel it \\(job \\d+\\)`));
    expect(await order(number)).toMatchObject({ status: 'cancelled', supplier_reference: `ACME-${send!.jobId}` });
    const cancels = await jobsOf(number, 'procurement.cancel_order');
    expect(cancels).toMatchObject([{ idempotency_key: `cancel:${number}`, status: 'succeeded' }]);
    expect(rpa.of(number).map((s) => s.operation)).toEqual(['send_purchase_order', 'cancel_purchase_order']);
  });

  /** Posts the RPA's signed result for a job. */
  async function callback(jobId: string, body: Record<string, unknown>): Promise<number> {
    const raw = JSON.stringify({ jobId: Number(jobId), ...body });
    const res = await fetch(`${fixture.app.url}/api/automations/${jobId}/callback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signedHeaders(SECRET, Number(jobId), raw) },
      body: raw,
    });
    return res.status;
  }

  it.skipIf(target.skip)('(c) a "succeeded" callback for an order cancelled meanwhile → compensation sent, requester told', async () => {
    rpa.mode.send_purchase_order = 'accept';
    const alice = user('alice', 'Alice');
    const bob = user('bob', 'Bob');
    const number = await raiseOrder(alice);
    await approve(bob, number);
    const [job] = await eventually(async () => {
      const jobs = await jobsOf(number, 'procurement.approve_order');
      return jobs[0]?.status === 'waiting' && jobs;
    }, 15_000, 'the send to wait for its callback');
    expect(await cancel(alice, number)).toMatch(new RegExp(`^${number} is being sent to Acme Corp right now`));
    expect(rpa.of(number, 'cancel_purchase_order')).toHaveLength(0);

    expect(await callback(job!.id, { status: 'succeeded', data: { supplierReference: 'ACME-CB-1', confirmed: true } })).toBe(200);
    const [cancelStep] = await eventually(async () => rpa.of(number, 'cancel_purchase_order').length > 0 && rpa.of(number, 'cancel_purchase_order'), 15_000, 'the compensation to reach the RPA');
    expect(cancelStep).toMatchObject({ key: `cancel:${number}`, payload: { supplierReference: 'ACME-CB-1' } });
    await alice.waitForNotification(new RegExp(`🗑️ ${number} with Acme Corp is cancelled\\. Acme Corp confirmed the cancel\\.`));
    await bob.waitForNotification(new RegExp(`⚠️ ${number} reached Acme Corp \\(ref ACME-CB-1\\), but Alice cancelled it meanwhile`));
    expect(await order(number)).toMatchObject({ status: 'cancelled', supplier_reference: 'ACME-CB-1' });
    // The same callback again changes nothing and sends no second cancel.
    expect(await callback(job!.id, { status: 'succeeded', data: { supplierReference: 'ACME-CB-1' } })).toBe(409);
    await new Promise((r) => setTimeout(r, 1000));
    expect(rpa.of(number, 'cancel_purchase_order')).toHaveLength(1);
  });

  it.skipIf(target.skip)('(c) …also for an order already marked cancelled: the supplier reference is kept and the compensation goes out', async () => {
    rpa.mode.send_purchase_order = 'accept';
    const alice = user('alice', 'Alice');
    const bob = user('bob', 'Bob');
    const number = await raiseOrder(alice);
    await approve(bob, number);
    const [job] = await eventually(async () => {
      const jobs = await jobsOf(number, 'procurement.approve_order');
      return jobs[0]?.status === 'waiting' && jobs;
    }, 15_000, 'the send to wait for its callback');
    // As the code before the order table did (and an operator still could): cancelled locally, send still out.
    await rows(fixture.app.db.dataSource, `UPDATE purchase_orders SET status = 'cancelled' WHERE number = $1`, [number]);

    expect(await callback(job!.id, { status: 'succeeded', data: { supplierReference: 'ACME-CB-2' } })).toBe(200);
    const [cancelStep] = await eventually(async () => rpa.of(number, 'cancel_purchase_order').length > 0 && rpa.of(number, 'cancel_purchase_order'), 15_000, 'the compensation to reach the RPA');
    expect(cancelStep).toMatchObject({ key: `cancel:${number}`, payload: { supplierReference: 'ACME-CB-2' } });
    await bob.waitForNotification(new RegExp(`⚠️ ${number} reached Acme Corp \\(ref ACME-CB-2\\)`));
    await bob.waitForNotification(new RegExp(`🗑️ ${number} with Acme Corp is cancelled\\. Acme Corp confirmed the cancel\\.`));
    expect(await order(number)).toMatchObject({ status: 'cancelled', supplier_reference: 'ACME-CB-2' });
  });

  it.skipIf(target.skip)('(d) a "succeeded" callback after the result deadline of an approved order → reference recorded, placed, both told; a replay → 409', async () => {
    rpa.mode.send_purchase_order = 'accept';
    const alice = user('alice', 'Alice');
    const bob = user('bob', 'Bob');
    const number = await raiseOrder(alice);
    await approve(bob, number);
    const [job] = await eventually(async () => {
      const jobs = await jobsOf(number, 'procurement.approve_order');
      return jobs[0]?.status === 'waiting' && jobs;
    }, 15_000, 'the send to wait for its callback');
    // The result deadline (JOB_RESULT_TIMEOUT_S) passes: what the deadline worker does.
    expect(await fixture.app.jobs.complete(Number(job!.id), { status: 'failed', timedOut: true, error: 'no result within 3600 s' }, 'deadline')).toBe('applied');
    await bob.waitForNotification(new RegExp(`⚠️ I got no result for ${number} \\(Acme Corp\\)`));
    expect((await jobsOf(number, 'procurement.approve_order'))[0]!.status).toBe('failed');
    expect((await order(number)).status).toBe('approved');

    // The supplier had it after all: the RPA reports late.
    expect(await callback(job!.id, { status: 'succeeded', data: { supplierReference: 'ACME-LATE-1', confirmed: true } })).toBe(200);
    expect(await order(number)).toMatchObject({ status: 'confirmed', supplier_reference: 'ACME-LATE-1' });
    const late = new RegExp(`^Update on job ${job!.id}: Acme Corp answered after I had stopped waiting\\. ✅ ${number} is placed: Acme Corp confirmed it \\(ref ACME-LATE-1\\)`);
    await bob.waitForNotification(late);
    await alice.waitForNotification(late);
    const events = await rows<{ kind: string }>(fixture.app.db.dataSource, `SELECT kind FROM automation_job_events WHERE job_id = $1 AND kind = 'late_result'`, [job!.id]);
    expect(events).toHaveLength(1);
    const audits = await rows(fixture.app.db.dataSource, `SELECT 1 FROM audit_log WHERE job_id = $1 AND action = 'procurement.order_sent' AND outcome = 'confirmed' AND details->>'late' = 'true'`, [job!.id]);
    expect(audits).toHaveLength(1);
    // A replay (or any other result now) changes nothing.
    expect(await callback(job!.id, { status: 'succeeded', data: { supplierReference: 'ACME-LATE-2', confirmed: true } })).toBe(409);
    expect(await order(number)).toMatchObject({ status: 'confirmed', supplier_reference: 'ACME-LATE-1' });
    expect(rpa.of(number, 'cancel_purchase_order')).toHaveLength(0);
  });
});
