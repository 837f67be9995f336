/**
 * Durable automations when things go wrong, on both databases: an RPA side that keeps failing
 * (retries with backoff → dead letter → the user is told), a supplier that declines, a server
 * restart between the start of a job and its result (the notification still arrives), and the
 * webhook connector (signed requests, Idempotency-Key, signed callbacks; a bad signature is a
 * 401 and changes nothing).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../../src/app.js';
import { QUEUES } from '../../src/jobs/JobSystem.js';
import { SIGNATURE_HEADER, signedHeaders, verifySignature, verifyV1 } from '../../src/jobs/connectors/signature.js';
import { allText, ChatUser } from '../helpers/chatUser.js';
import { databaseTargets } from '../helpers/databases.js';
import { eventually, rows, startProcurementApp, useChatDatabase } from '../helpers/procurementFixture.js';

const targets = await databaseTargets();
const SECRET = 'test-webhook-secret-0123456789';

interface RpaRequest {
  headers: IncomingMessage['headers'];
  raw: Buffer;
  body: { jobId: number; operation: string; idempotencyKey: string; callbackUrl: string; payload: Record<string, unknown>; attempt: number };
}

/** Plays UiPath / Power Automate / n8n: accepts signed jobs (202), or fails the first `failFirst`. */
class FakeRpa {
  readonly requests: RpaRequest[] = [];
  failFirst = 0;
  private server?: Server;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        this.requests.push({ headers: req.headers, raw, body: JSON.parse(raw.toString('utf8')) as RpaRequest['body'] });
        const fail = this.requests.length <= this.failFirst;
        res.writeHead(fail ? 503 : 202, { 'content-type': 'application/json' });
        res.end(fail ? '{"error":"busy"}' : '{"accepted":true}');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/rpa`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** Posts a callback signed the v1 way for the url's job; `secret: null` sends it unsigned, `signedBody` signs another body. */
async function callback(
  url: string,
  body: unknown,
  { secret = SECRET, signedBody = body }: { secret?: string | null; signedBody?: unknown } = {},
): Promise<{ status: number; json: unknown }> {
  const raw = JSON.stringify(body);
  const jobId = Number(/\/automations\/(\d+)\/callback/.exec(url)?.[1]);
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(secret === null ? {} : signedHeaders(secret, jobId, JSON.stringify(signedBody))) },
    body: raw,
  });
  return { status: res.status, json: await res.json().catch(() => undefined) };
}

describe.each(targets)('automation failures on $name', (target) => {
  const fixture = useChatDatabase(target);
  let app: RunningApp | undefined; // each test starts its own

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  const user = (id: string) => new ChatUser(() => app!.url, fixture.receiver, id, id);
  const job = async (u: ChatUser) =>
    (
      await rows<{ id: string; status: string; attempts: number; subject_id: string | null; idempotency_key: string }>(
        app!.db.dataSource,
        'SELECT id, status, attempts, subject_id, idempotency_key FROM automation_jobs WHERE requested_by = $1',
        [u.userId],
      )
    )[0];
  const events = async (jobId: string) =>
    (await rows<{ kind: string; message: string }>(app!.db.dataSource, 'SELECT kind, message FROM automation_job_events WHERE job_id = $1 ORDER BY id', [jobId])).map(
      (e) => e.kind,
    );

  it.skipIf(target.skip)('an RPA side that keeps failing: retried with backoff, dead-lettered, and the user is told', async () => {
    app = await startProcurementApp(fixture.db.config, { SIMULATOR_OUTCOME: 'error', JOB_RETRY_LIMIT: '2', JOB_RETRY_DELAY_S: '0' });
    const u = user('dead-letter');
    await u.say('order 20 units of SKU-1001 from Acme Corp');
    expect(allText(await u.click('Confirm'))).toMatch(/^On it: job \d+/);
    const [told] = await u.waitForNotification(/⚠️ I couldn't send PO-\d+/, 20_000);
    expect(told!.text).toMatch(/simulated RPA endpoint unavailable \(HTTP 503; SIMULATOR_OUTCOME=error\)\. I tried 3 times; PO-\d+ is approved, and job \d+ is in the dead-letter queue/);
    const j = (await job(u))!;
    expect(j).toMatchObject({ status: 'dead_letter', attempts: 3 });
    expect((await events(j.id)).filter((k) => k === 'attempt_failed')).toHaveLength(3);
    expect(await events(j.id)).toContain('dead_letter');
    const dead = await rows(app.db.dataSource, `SELECT 1 FROM pgboss.job WHERE name = $1 AND (data->>'jobId')::bigint = $2`, [QUEUES.dead, j.id]);
    expect(dead).toHaveLength(1);
    expect(allText(await u.say('my failed jobs'))).toMatch(new RegExp(`^1 failed automation job of yours:[^]*${j.id}: create order · ${j.subject_id} · dead letter`));
  });

  it.skipIf(target.skip)('a supplier that declines fails the job (no retry) and rejects the order', async () => {
    app = await startProcurementApp(fixture.db.config, { SIMULATOR_OUTCOME: 'reject' });
    const u = user('declined');
    await u.say('order 20 units of SKU-1001 from Acme Corp');
    await u.click('Confirm');
    const [told] = await u.waitForNotification(/❌ Acme Corp did not accept PO-\d+/);
    expect(told!.text).toMatch(/Acme Corp declined \(simulated: SIMULATOR_OUTCOME=reject\)\. The order is now rejected\./);
    const j = (await job(u))!;
    expect(j).toMatchObject({ status: 'failed', attempts: 1 });
    const [order] = await rows<{ status: string }>(app.db.dataSource, 'SELECT status FROM purchase_orders WHERE number = $1', [j.subject_id]);
    expect(order?.status).toBe('rejected');
  });

  it.skipIf(target.skip)('a restart between the start of a job and its result: the notification still arrives', async () => {
    app = await startProcurementApp(fixture.db.config, { SIMULATOR_DELAY_MS: '1500' });
    const u = user('restart');
    await u.say('order 20 units of SKU-1001 from Acme Corp');
    await u.click('Confirm');
    await eventually(async () => (await job(u))?.status === 'waiting', 10_000, 'the job to wait for the supplier');
    await app.close();
    app = undefined;
    expect(u.notifications()).toHaveLength(0);
    // A new process on the same database: the supplier's reply, the job row and the conversation
    // reference are all in Postgres.
    app = await startProcurementApp(fixture.db.config, { SIMULATOR_DELAY_MS: '1500' });
    const [told] = await u.waitForNotification(/✅ PO-\d+ is placed: Acme Corp confirmed it/, 20_000);
    const j = (await job(u))!;
    expect(j.status).toBe('succeeded');
    expect(told!.text).toContain(j.subject_id!);
  });

  describe('webhook connector', () => {
    let rpa: FakeRpa;
    let rpaUrl: string;

    beforeAll(async () => {
      rpa = new FakeRpa();
      rpaUrl = await rpa.start();
    });

    afterAll(() => rpa?.stop());

    it.skipIf(target.skip)('signs each job, retries a 503 with the same Idempotency-Key, and applies only a correctly signed callback', async () => {
      app = await startProcurementApp(fixture.db.config, {
        AUTOMATION_CONNECTOR: 'webhook',
        WEBHOOK_URL: rpaUrl,
        WEBHOOK_SECRET: SECRET,
      });
      rpa.failFirst = 1;
      const u = user('webhook');
      await u.say('order 20 units of SKU-1001 from Acme Corp');
      await u.click('Confirm');
      await eventually(async () => (await job(u))?.status === 'waiting', 15_000, 'the job to be handed to the RPA tool');
      const j = (await job(u))!;
      expect(rpa.requests).toHaveLength(2);
      for (const r of rpa.requests) {
        expect(verifySignature(SECRET, r.raw, r.headers[SIGNATURE_HEADER])).toBe(true);
        expect(verifyV1(SECRET, Number(j.id), r.raw, r.headers)).toEqual({ ok: true, timestamp: expect.any(Number) });
        // The send of an auto-approved order carries the operation's key, not the create job's.
        expect(r.headers['idempotency-key']).toBe(`send:${j.subject_id}`);
        expect(r.body).toMatchObject({ jobId: Number(j.id), operation: 'send_purchase_order', idempotencyKey: `send:${j.subject_id}` });
        expect(r.body.payload).toMatchObject({ order: j.subject_id, supplier: 'Acme Corp', total: 90 });
      }
      expect(rpa.requests.map((r) => r.body.attempt)).toEqual([1, 2]);
      const callbackUrl = rpa.requests[1]!.body.callbackUrl;
      expect(callbackUrl).toBe(`${app.url}/api/automations/${j.id}/callback`);

      const result = { jobId: Number(j.id), status: 'succeeded', data: { supplierReference: 'ACME-777', confirmed: true } };
      // Wrong secret, tampered body, missing header: 401, nothing changes.
      expect((await callback(callbackUrl, result, { secret: 'another-secret-0123456789' })).status).toBe(401);
      expect((await callback(callbackUrl, { ...result, status: 'failed' }, { signedBody: result })).status).toBe(401);
      expect((await callback(callbackUrl, result, { secret: null })).status).toBe(401);
      expect((await job(u))!.status).toBe('waiting');
      const [still] = await rows<{ status: string }>(app.db.dataSource, 'SELECT status FROM purchase_orders WHERE number = $1', [j.subject_id]);
      expect(still?.status).toBe('approved');

      const ok = await callback(callbackUrl, result);
      expect(ok).toEqual({ status: 200, json: { status: 'applied' } });
      const [told] = await u.waitForNotification(/✅ PO-\d+ is placed: Acme Corp confirmed it \(ref ACME-777\)/);
      expect(told).toBeDefined();
      // The RPA side retries its callback: 409, applied once.
      expect(await callback(callbackUrl, result)).toMatchObject({ status: 409, json: { error: { code: 'already_applied' } } });
      const unknown = `${app.url}/api/automations/999999/callback`;
      const other = { jobId: 999999, status: 'succeeded' };
      expect((await callback(unknown, other)).status).toBe(404);
      expect(u.notifications(/is placed/)).toHaveLength(1);
    });

    it.skipIf(target.skip)('no result within JOB_RESULT_TIMEOUT_S: the job fails, the order is left as it is; a late result is applied once, a second is a duplicate', async () => {
      app = await startProcurementApp(fixture.db.config, {
        AUTOMATION_CONNECTOR: 'webhook',
        WEBHOOK_URL: rpaUrl,
        WEBHOOK_SECRET: SECRET,
        JOB_RESULT_TIMEOUT_S: '1',
      });
      rpa.failFirst = 0;
      const u = user('webhook-timeout');
      await u.say('order 20 units of SKU-1001 from Acme Corp');
      await u.click('Confirm');
      const [told] = await u.waitForNotification(/⚠️ I got no result for PO-\d+ \(Acme Corp\): no result from the webhook connector within 1 s\. It is still approved/);
      expect(told).toBeDefined();
      const j = (await job(u))!;
      expect(j.status).toBe('failed');
      const [order] = await rows<{ status: string }>(app.db.dataSource, 'SELECT status FROM purchase_orders WHERE number = $1', [j.subject_id]);
      expect(order?.status).toBe('approved');
      // The supplier had it after all (followups to issue 12): the late answer places the order, once.
      const late = { jobId: Number(j.id), status: 'succeeded', data: { supplierReference: 'ACME-LATE' } };
      const url = `${app.url}/api/automations/${j.id}/callback`;
      expect(await callback(url, late)).toMatchObject({ status: 200 });
      await u.waitForNotification(/^Update on job \d+: Acme Corp answered after I had stopped waiting\. ✅ PO-\d+ is placed: it was sent to Acme Corp/);
      const [placed] = await rows<{ status: string; supplier_reference: string }>(app.db.dataSource, 'SELECT status, supplier_reference FROM purchase_orders WHERE number = $1', [j.subject_id]);
      expect(placed).toMatchObject({ status: 'sent', supplier_reference: 'ACME-LATE' });
      expect(await callback(url, late)).toMatchObject({ status: 409, json: { error: { code: 'already_applied' } } });
    });

    it.skipIf(target.skip)('without WEBHOOK_SECRET the callback route does not exist', async () => {
      app = await startProcurementApp(fixture.db.config);
      const res = await callback(`${app.url}/api/automations/1/callback`, { jobId: 1, status: 'succeeded' });
      expect(res.status).toBe(404);
    });
  });
});
