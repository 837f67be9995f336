/**
 * Callbacks bound to their job (docs/rpa-callbacks.md), on both databases, with a fake RPA system
 * on loopback behind the webhook connector. A customs filing gives two waiting jobs (submit and
 * decision); callbacks are then aimed at them the ways an attacker or a confused RPA flow would:
 * one job's signed callback posted to the other job's URL, a stale timestamp, a tampered body, a
 * missing or mismatched jobId, a replay after it was applied. Each must be refused with nothing
 * changed; the documented openssl/curl block, run as a child process, must be accepted.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { signedHeaders, signV1, verifyV1, TIMESTAMP_HEADER, V1_SIGNATURE_HEADER } from '../../src/jobs/connectors/signature.js';
import { allText, ChatUser } from '../helpers/chatUser.js';
import { databaseTargets } from '../helpers/databases.js';
import { eventually, rows, TEST_ROLES, useSkillApp } from '../helpers/procurementFixture.js';

const targets = await databaseTargets();
// Chat round trips and job pick-up under a loaded CI box: room beyond the 30 s default.
vi.setConfig({ testTimeout: 90_000 });

/**
 * These tests are about exactly-once, not overload: admission control (src/bot/http/admission.ts)
 * must not shed their few concurrent turns on a loaded CI box, so it gets a high floor and a long queue.
 */
const ROOMY_ADMISSION = { ADMISSION_MIN_INFLIGHT: '16', ADMISSION_QUEUE_TIMEOUT_MS: '14000' };
const SECRET = 'test-callback-secret-0123456789';
const DOC = readFileSync(fileURLToPath(new URL('../../docs/rpa-callbacks.md', import.meta.url)), 'utf8');

interface Step {
  headers: IncomingMessage['headers'];
  raw: Buffer;
  body: { jobId: number; operation: string; idempotencyKey: string; callbackUrl: string };
}

/** The RPA side: accepts every step with 202 and remembers it. */
class FakeRpa {
  readonly steps: Step[] = [];
  private server?: Server;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        this.steps.push({ headers: req.headers, raw, body: JSON.parse(raw.toString('utf8')) as Step['body'] });
        res.writeHead(202, { 'content-type': 'application/json' });
        res.end('{"accepted":true}');
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

interface Answer {
  status: number;
  json: { status?: string; error?: { code: string; message: string } } | undefined;
}

async function postRaw(url: string, raw: string, headers: Record<string, string>): Promise<Answer> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: raw });
  return { status: res.status, json: (await res.json().catch(() => undefined)) as Answer['json'] };
}

/** The documented shell block, verbatim. */
function documentedScript(): string {
  const block = /<!-- callback-example:start -->\s*```bash\n([\s\S]*?)```\s*<!-- callback-example:end -->/.exec(DOC)?.[1];
  if (!block) throw new Error('docs/rpa-callbacks.md lost its callback-example block');
  return block;
}

describe('the documented signature', () => {
  it('the worked example in the doc is what signV1 computes, and what the doc\'s openssl command prints', async () => {
    const body = '{"jobId":17,"status":"succeeded","data":{"supplierReference":"ACME-48213"}}';
    const documented = /<!-- worked-example-signature -->\s*`X-RPA-Signature: (v1=[0-9a-f]{64})`/.exec(DOC)?.[1];
    expect(documented).toBe(signV1('whsec-example-0123456789', 17, 1767225600, body));
    // The doc's own sig= line, with the worked example's values.
    const sigLine = documentedScript().split('\n').find((l) => l.startsWith('sig='))!;
    const { stdout } = await promisify(execFile)('bash', ['-c', `set -euo pipefail\nts=1767225600\nbody='${body}'\n${sigLine}\nprintf 'v1=%s' "$sig"`], {
      env: { ...process.env, JOB_ID: '17', WEBHOOK_SECRET: 'whsec-example-0123456789' },
    });
    expect(stdout).toBe(documented);
  });

  it('verifyV1: binds job, time and body; allows 5 minutes either way', () => {
    const body = Buffer.from('{"jobId":3,"status":"succeeded"}');
    const now = 1_767_225_600_000;
    const headers = signedHeaders(SECRET, 3, body, now);
    expect(verifyV1(SECRET, 3, body, headers, now)).toEqual({ ok: true, timestamp: now / 1000 });
    expect(verifyV1(SECRET, 4, body, headers, now)).toMatchObject({ ok: false, code: 'invalid_signature' });
    expect(verifyV1(SECRET, 3, Buffer.from('{"jobId":3,"status":"failed"}'), headers, now)).toMatchObject({ ok: false, code: 'invalid_signature' });
    expect(verifyV1('another-secret-0123456789', 3, body, headers, now)).toMatchObject({ ok: false, code: 'invalid_signature' });
    expect(verifyV1(SECRET, 3, body, headers, now + 300_000)).toMatchObject({ ok: true });
    expect(verifyV1(SECRET, 3, body, headers, now - 300_000)).toMatchObject({ ok: true });
    expect(verifyV1(SECRET, 3, body, headers, now + 301_000)).toMatchObject({ ok: false, code: 'stale_timestamp' });
    expect(verifyV1(SECRET, 3, body, headers, now - 301_000)).toMatchObject({ ok: false, code: 'stale_timestamp' });
    expect(verifyV1(SECRET, 3, body, { [TIMESTAMP_HEADER]: headers[TIMESTAMP_HEADER] }, now)).toMatchObject({ ok: false, code: 'missing_signature' });
    // Rotation: any one of several v1 values may match.
    const rotated = { ...headers, [V1_SIGNATURE_HEADER]: `v1=${'0'.repeat(64)}, ${headers[V1_SIGNATURE_HEADER]}` };
    expect(verifyV1(SECRET, 3, body, rotated, now)).toMatchObject({ ok: true });
  });
});

describe.each(targets)('callbacks bound to their job on $name', (target) => {
  let rpa: FakeRpa;
  let rpaUrl = '';

  beforeAll(async () => {
    if (target.skip) return;
    rpa = new FakeRpa();
    rpaUrl = await rpa.start();
  });
  afterAll(async () => {
    await rpa?.stop();
  });

  const fixture = useSkillApp(target, () => ({
    USER_ROLES: `${TEST_ROLES},frank=broker`,
    AUTOMATION_CONNECTOR: 'webhook',
    WEBHOOK_URL: rpaUrl,
    WEBHOOK_SECRET: SECRET,
    ...ROOMY_ADMISSION,
  }));

  /** Everything a callback could change about a job: its row and its timeline. */
  async function snapshot(jobId: number) {
    const [job] = await rows<{ status: string; result: unknown; updated_at: Date }>(
      fixture.app.db.dataSource,
      'SELECT status, result, updated_at FROM automation_jobs WHERE id = $1',
      [jobId],
    );
    const [events] = await rows<{ n: string }>(fixture.app.db.dataSource, 'SELECT count(*) AS n FROM automation_job_events WHERE job_id = $1', [jobId]);
    const [d] = await rows<{ status: string }>(
      fixture.app.db.dataSource,
      `SELECT d.status FROM customs_declarations d JOIN automation_jobs j ON j.subject_id = d.number WHERE j.id = $1`,
      [jobId],
    );
    return { ...job, events: Number(events!.n), declaration: d?.status };
  }

  it.skipIf(target.skip)('a callback is applied only to the job it was signed for, only once, and only while fresh', async () => {
    const frank = new ChatUser(() => fixture.app.url, fixture.receiver, 'frank', 'Frank Broker');
    await frank.say('file a declaration for the Shenzhen container');
    const filed = allText(await frank.click('Confirm'));
    const number = /^📝 (CD-\d+) is drafted/.exec(filed)?.[1];
    expect(number, filed).toBeDefined();
    const steps = await eventually(async () => {
      const mine = rpa.steps.filter((s) => (s.body as unknown as { payload: { declaration: string } }).payload.declaration === number);
      return mine.length === 2 ? mine : undefined;
    }, 30_000, 'both steps at the RPA');
    const submit = steps.find((s) => s.body.operation === 'submit_customs_declaration')!;
    const decision = steps.find((s) => s.body.operation === 'await_customs_decision')!;
    const A = submit.body.jobId;
    const B = decision.body.jobId;
    // Our own requests carry the v1 scheme, keyed by the operation.
    expect(verifyV1(SECRET, A, submit.raw, submit.headers)).toMatchObject({ ok: true });
    expect(submit.headers['idempotency-key']).toBe(`file:${number}`);
    expect(decision.headers['idempotency-key']).toBe(`decision:${number}`);
    await eventually(async () => (await snapshot(A)).status === 'waiting' && (await snapshot(B)).status === 'waiting', 30_000, 'both jobs waiting');
    const before = { A: await snapshot(A), B: await snapshot(B) };

    // A's callback, correctly signed for A …
    const forA = JSON.stringify({ jobId: A, status: 'succeeded', data: { status: 'cleared', authorityReference: 'EVIL-1' } });
    const headersA = signedHeaders(SECRET, A, forA);
    // … posted to B's URL: 401 (the MAC binds A's id).
    const urlA = submit.body.callbackUrl;
    const urlB = decision.body.callbackUrl;
    expect(await postRaw(urlB, forA, headersA)).toMatchObject({ status: 401, json: { error: { code: 'invalid_signature' } } });
    // Signed for B's URL but saying it is A's result: 401 job_mismatch.
    expect(await postRaw(urlB, forA, signedHeaders(SECRET, B, forA))).toMatchObject({ status: 401, json: { error: { code: 'job_mismatch' } } });
    // jobId left out (correctly signed): 400.
    const noId = JSON.stringify({ status: 'succeeded', data: { status: 'cleared' } });
    expect(await postRaw(urlB, noId, signedHeaders(SECRET, B, noId))).toMatchObject({ status: 400, json: { error: { code: 'invalid_body' } } });
    // Stale: signed 10 minutes ago (or 10 minutes ahead).
    const forB = JSON.stringify({ jobId: B, status: 'succeeded', data: { status: 'cleared', authorityReference: 'BRK-9', dutyAssessed: 190 } });
    expect(await postRaw(urlB, forB, signedHeaders(SECRET, B, forB, Date.now() - 600_000))).toMatchObject({ status: 401, json: { error: { code: 'stale_timestamp' } } });
    expect(await postRaw(urlB, forB, signedHeaders(SECRET, B, forB, Date.now() + 600_000))).toMatchObject({ status: 401, json: { error: { code: 'stale_timestamp' } } });
    // Tampered: signature of one body, another body sent.
    const tampered = forB.replace('"cleared"', '"rejected"');
    expect(await postRaw(urlB, tampered, signedHeaders(SECRET, B, forB))).toMatchObject({ status: 401, json: { error: { code: 'invalid_signature' } } });
    // Unsigned, the old body-only scheme, a wrong secret: 401.
    expect(await postRaw(urlB, forB, {})).toMatchObject({ status: 401, json: { error: { code: 'missing_signature' } } });
    expect(await postRaw(urlB, forB, signedHeaders('another-secret-0123456789', B, forB))).toMatchObject({ status: 401 });
    // Nothing above changed anything.
    expect(await snapshot(A)).toEqual(before.A);
    expect(await snapshot(B)).toEqual(before.B);

    // The real one is applied …
    const headersB = signedHeaders(SECRET, B, forB);
    expect(await postRaw(urlB, forB, headersB)).toEqual({ status: 200, json: { status: 'applied' } });
    // (the notification's delivery adds to the timeline: wait for it before taking the snapshot)
    await frank.waitForNotification(new RegExp(`✅ ${number} for SH-2003 is cleared by customs \\(ref BRK-9\\)`));
    await eventually(
      async () => (await rows(fixture.app.db.dataSource, `SELECT 1 FROM automation_job_events WHERE job_id = $1 AND kind = 'notified'`, [B])).length > 0,
      10_000,
      'the delivery to be recorded',
    );
    const applied = await snapshot(B);
    expect(applied).toMatchObject({ status: 'succeeded', declaration: 'cleared' });
    // … and its replay (same bytes, same headers, inside the window) is a 409 that changes nothing.
    expect(await postRaw(urlB, forB, headersB)).toMatchObject({ status: 409, json: { error: { code: 'already_applied' } } });
    // So is a different, freshly signed result for the same job.
    const late = JSON.stringify({ jobId: B, status: 'failed', error: 'changed my mind' });
    expect(await postRaw(urlB, late, signedHeaders(SECRET, B, late))).toMatchObject({ status: 409, json: { error: { code: 'already_applied' } } });
    expect(await snapshot(B)).toEqual(applied);
    expect(frank.notifications(/is cleared by customs/)).toHaveLength(1);

    // The documented openssl + curl block, run verbatim, is accepted for job A.
    const { stdout } = await promisify(execFile)('bash', ['-c', `set -euo pipefail\n${documentedScript()}`], {
      env: { ...process.env, JOB_ID: String(A), CALLBACK_URL: urlA, WEBHOOK_SECRET: SECRET },
    });
    expect(JSON.parse(stdout)).toEqual({ status: 'applied' });
    expect(await snapshot(A)).toMatchObject({ status: 'succeeded' });
    // Replaying the captured request for A (say, from a proxy log) is refused too.
    expect(await postRaw(urlA, forA, headersA)).toMatchObject({ status: 409 });
  });

  it.skipIf(target.skip)('a callback for a job that does not exist, or a malformed URL id, is a 404', async () => {
    const body = JSON.stringify({ jobId: 999999, status: 'succeeded' });
    expect(await postRaw(`${fixture.app.url}/api/automations/999999/callback`, body, signedHeaders(SECRET, 999999, body))).toMatchObject({
      status: 404,
      json: { error: { code: 'not_found' } },
    });
    expect((await postRaw(`${fixture.app.url}/api/automations/abc/callback`, body, signedHeaders(SECRET, 999999, body))).status).toBe(404);
  });
});
