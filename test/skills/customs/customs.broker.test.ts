/**
 * Customs through the webhook connector, on both databases: a fake broker / customs system
 * receives the signed declaration (submit) and the request for the decision, and answers with
 * signed callbacks in whatever order it likes — a decision before the acknowledgment, a decision
 * straight away in the answer to the submission, or no answer at all (down: retried, then
 * dead-lettered, and the filer is told once).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUES } from '../../../src/jobs/JobSystem.js';
import { SIGNATURE_HEADER, signedHeaders, verifySignature } from '../../../src/jobs/connectors/signature.js';
import { allText, ChatUser } from '../../helpers/chatUser.js';
import { databaseTargets } from '../../helpers/databases.js';
import { eventually, rows, TEST_ROLES, useSkillApp } from '../../helpers/procurementFixture.js';

const targets = await databaseTargets();
const SECRET = 'test-customs-broker-secret-0123';

interface BrokerRequest {
  headers: IncomingMessage['headers'];
  raw: Buffer;
  body: { jobId: number; action: string; operation: string; idempotencyKey: string; callbackUrl: string; payload: Record<string, unknown>; attempt: number };
}

/** Plays a customs broker's system: 202 for everything, or a scripted answer per operation, or down (503). */
class FakeBroker {
  readonly requests: BrokerRequest[] = [];
  down = false;
  /** A synchronous answer to an operation (HTTP 200 with a result body). */
  answers: Record<string, unknown> = {};
  private server?: Server;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const body = JSON.parse(raw.toString('utf8')) as BrokerRequest['body'];
        this.requests.push({ headers: req.headers, raw, body });
        const answer = this.answers[body.operation];
        res.writeHead(this.down ? 503 : answer ? 200 : 202, { 'content-type': 'application/json' });
        res.end(this.down ? '{"error":"customs system unavailable"}' : JSON.stringify(answer ?? { accepted: true }));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/customs`;
  }

  of(declaration: string, operation: string): BrokerRequest[] {
    return this.requests.filter((r) => r.body.payload.declaration === declaration && r.body.operation === operation);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** A v1-signed callback for the url's job (the body's jobId is filled in). */
async function callback(url: string, body: Record<string, unknown>): Promise<{ status: number; json: unknown }> {
  const jobId = Number(/\/automations\/(\d+)\/callback/.exec(url)?.[1]);
  const raw = JSON.stringify({ jobId, ...body });
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...signedHeaders(SECRET, jobId, raw) }, body: raw });
  return { status: res.status, json: await res.json().catch(() => undefined) };
}

describe.each(targets)('customs through a broker webhook on $name', (target) => {
  let broker: FakeBroker;
  let brokerUrl = '';

  beforeAll(async () => {
    if (target.skip) return;
    broker = new FakeBroker();
    brokerUrl = await broker.start();
  });

  // Registered before useSkillApp's: after-hooks run in reverse, so the app is closed before the broker stops.
  afterAll(async () => {
    await broker?.stop();
  });

  const fixture = useSkillApp(target, () => ({
    USER_ROLES: `${TEST_ROLES},frank=broker`,
    AUTOMATION_CONNECTOR: 'webhook',
    WEBHOOK_URL: brokerUrl,
    WEBHOOK_SECRET: SECRET,
    JOB_RETRY_LIMIT: '1',
    JOB_RETRY_DELAY_S: '0',
  }));

  const jobs = (number: string) =>
    rows<{ id: string; action: string; status: string; idempotency_key: string }>(
      fixture.app.db.dataSource,
      `SELECT id, action, status, idempotency_key FROM automation_jobs WHERE subject_type = 'customs_declaration' AND subject_id = $1 ORDER BY id`,
      [number],
    );
  const declaration = async (number: string) =>
    (await rows<{ status: string; authority_reference: string | null; duty_amount: string | null; status_reason: string | null }>(
      fixture.app.db.dataSource,
      'SELECT status, authority_reference, duty_amount, status_reason FROM customs_declarations WHERE number = $1',
      [number],
    ))[0];

  /** Files a declaration by chat and returns its number once both jobs have reached the broker. */
  async function file(user: ChatUser, request: string, answers: string[] = []): Promise<string> {
    const first = allText(await user.say(request));
    for (const answer of answers) await user.say(answer);
    expect(first).not.toMatch(/can't|needs the broker/);
    const done = allText(await user.click('Confirm'));
    const number = /^📝 (CD-\d+) is drafted/.exec(done)?.[1];
    expect(number, done).toBeDefined();
    return number!;
  }

  it.skipIf(target.skip)('the declaration reaches the broker signed and complete; a decision before the acknowledgment still ends right', async () => {
    const user = new ChatUser(() => fixture.app.url, fixture.receiver, 'frank', 'Frank Broker');
    const number = await file(user, 'file a declaration for the Shenzhen container');
    await eventually(async () => (await jobs(number)).every((j) => j.status === 'waiting'), 15_000, 'both jobs to wait for the broker');
    const [submitJob, decisionJob] = await jobs(number);
    const [submit] = broker.of(number, 'submit_customs_declaration');
    const [decision] = broker.of(number, 'await_customs_decision');
    for (const [r, job] of [
      [submit!, submitJob!],
      [decision!, decisionJob!],
    ] as const) {
      expect(verifySignature(SECRET, r.raw, r.headers[SIGNATURE_HEADER])).toBe(true);
      expect(r.headers['idempotency-key']).toBe(job.idempotency_key);
      expect(r.body.callbackUrl).toBe(`${fixture.app.url}/api/automations/${job.id}/callback`);
    }
    expect(submitJob!.idempotency_key).not.toBe(decisionJob!.idempotency_key);
    expect(submit!.body.payload).toMatchObject({
      declaration: number,
      shipment: 'SH-2003',
      kind: 'import',
      currency: 'USD',
      customsValue: 3690,
      dutyEstimate: 195.03,
      purchaseOrder: 'PO-1007',
      transport: { mode: 'sea', carrier: 'COSCO Shipping', originCountry: 'CN', originPort: 'Shenzhen' },
      destination: { warehouse: 'WH-B', city: 'Dallas', country: 'US' },
      lines: [
        { lineNo: 1, sku: 'SKU-1001', description: 'steel bearings 6204', hsCode: '848210', originCountry: 'CN', quantity: 400, unit: 'piece', value: 1800 },
        { lineNo: 2, sku: 'SKU-1005', description: 'lithium-ion battery packs', hsCode: '850760', originCountry: 'CN', quantity: 10, unit: 'piece', value: 1890 },
      ],
    });
    expect(await declaration(number)).toMatchObject({ status: 'submitted' });

    // The decision first…
    const cleared = { status: 'succeeded', data: { status: 'cleared', authorityReference: 'BRK-881', dutyAssessed: 190.5 } };
    expect(await callback(decision!.body.callbackUrl, cleared)).toEqual({ status: 200, json: { status: 'applied' } });
    await user.waitForNotification(new RegExp(`^✅ ${number} for SH-2003 is cleared by customs \\(ref BRK-881\\); duty assessed \\$190\\.50\\. SH-2003 is ready to receive into WH-B Dallas\\.`));
    expect(await declaration(number)).toEqual({ status: 'cleared', authority_reference: 'BRK-881', duty_amount: '190.50', status_reason: null });
    // …then the acknowledgment: applied to its job, but nothing changes and nobody is told again.
    const ack = { status: 'succeeded', data: { status: 'under_review', authorityReference: 'BRK-881' } };
    expect(await callback(submit!.body.callbackUrl, ack)).toEqual({ status: 200, json: { status: 'applied' } });
    expect(await callback(submit!.body.callbackUrl, ack)).toMatchObject({ status: 409, json: { error: { code: 'already_applied' } } });
    await new Promise((r) => setTimeout(r, 300));
    expect(user.notifications(/📨/)).toHaveLength(0);
    expect(user.notifications()).toHaveLength(1);
    expect((await jobs(number)).map((j) => j.status)).toEqual(['succeeded', 'succeeded']);
    const walked = await rows<{ message: string }>(
      fixture.app.db.dataSource,
      `SELECT message FROM automation_job_events WHERE job_id = $1 AND kind = 'declaration_status' ORDER BY id`,
      [decisionJob!.id],
    );
    expect(walked.map((e) => e.message)).toEqual([`${number} is under review (ref BRK-881)`, `${number} cleared`]);
    expect(await rows(fixture.app.db.dataSource, `SELECT status FROM shipments WHERE number = 'SH-2003'`)).toEqual([{ status: 'cleared' }]);

    // A re-delivered run message for the finished filing job sends nothing again.
    const before = broker.requests.length;
    const [sent] = await rows<{ id: string }>(fixture.app.db.dataSource, `INSERT INTO pgboss.job (name, data) VALUES ($1, $2::jsonb) RETURNING id`, [
      QUEUES.run,
      JSON.stringify({ jobId: Number(submitJob!.id) }),
    ]);
    await eventually(async () => (await rows<{ state: string }>(fixture.app.db.dataSource, 'SELECT state FROM pgboss.job WHERE id = $1', [sent!.id]))[0]?.state === 'completed');
    expect(broker.requests.length).toBe(before);
  });

  it.skipIf(target.skip)('a broker that answers the submission with its decision at once: held, and the later decision changes nothing', async () => {
    broker.answers = {
      submit_customs_declaration: { status: 'succeeded', data: { status: 'held', reason: 'commercial invoice missing', authorityReference: 'BRK-900' } },
    };
    const user = new ChatUser(() => fixture.app.url, fixture.receiver, 'frank', 'Frank Broker');
    try {
      const number = await file(user, 'file a declaration for SH-2002');
      await user.waitForNotification(new RegExp(`^⚠️ ${number} for SH-2002 is held by customs \\(ref BRK-900\\): commercial invoice missing\\. File a corrected declaration`));
      expect(await declaration(number)).toMatchObject({ status: 'held', authority_reference: 'BRK-900', status_reason: 'commercial invoice missing' });
      // The decision job either found the declaration decided already (and asked nothing), or waits
      // for the broker, whose late decision is then applied to the job but changes nothing.
      const state = await eventually(async () => {
        const status = (await jobs(number))[1]?.status;
        return status === 'waiting' || status === 'succeeded' ? status : undefined;
      }, 15_000, 'the decision job to wait or finish');
      if (state === 'waiting') {
        const [decision] = broker.of(number, 'await_customs_decision');
        expect(await callback(decision!.body.callbackUrl, { status: 'succeeded', data: { status: 'cleared' } })).toEqual({ status: 200, json: { status: 'applied' } });
      } else expect(broker.of(number, 'await_customs_decision')).toEqual([]);
      expect(await declaration(number)).toMatchObject({ status: 'held' });
      expect((await jobs(number)).map((j) => j.status)).toEqual(['succeeded', 'succeeded']);
      expect(user.notifications()).toHaveLength(1);
      expect(allText(await user.say('has SH-2002 cleared?'))).toMatch(new RegExp(`^No — ${number} for SH-2002 .* is held\\. Customs is holding it \\(customs ref BRK-900\\): commercial invoice missing\\.`));
    } finally {
      broker.answers = {};
    }
  });

  it.skipIf(target.skip)('a customs system that is down: both jobs retried and dead-lettered, the filer told once', async () => {
    broker.down = true;
    const user = new ChatUser(() => fixture.app.url, fixture.receiver, 'frank', 'Frank Broker');
    try {
      const number = await file(user, 'file a customs declaration for SH-2004', ['yes']);
      const [told] = await user.waitForNotification(/^⚠️ I couldn't submit/, 20_000);
      expect(told!.text).toBe(
        `⚠️ I couldn't submit ${number} for SH-2004: webhook answered HTTP 503. I tried 2 times; customs never acknowledged it, and job ${(await jobs(number))[0]!.id} is in the dead-letter queue for an operator to look at.`,
      );
      await eventually(async () => (await jobs(number)).every((j) => j.status === 'dead_letter'), 20_000, 'both jobs to be dead-lettered');
      await new Promise((r) => setTimeout(r, 300));
      expect(user.notifications()).toHaveLength(1);
      expect(broker.of(number, 'submit_customs_declaration').map((r) => r.body.attempt)).toEqual([1, 2]);
      expect(await declaration(number)).toMatchObject({ status: 'submitted' });
      expect(allText(await user.say('my failed jobs'))).toMatch(/file declaration · CD-\d+ · dead letter/);
    } finally {
      broker.down = false;
    }
  });
});
