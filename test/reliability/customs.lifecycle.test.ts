/**
 * The customs declaration lifecycle (src/skills/customs/lifecycle.ts), on both databases:
 * - every (state, event) pair of the table, applied to a real row: an allowed pair lands exactly on
 *   the table's next state, any other is refused and changes nothing — even when the caller's copy
 *   of the declaration is stale (the guard is the UPDATE's WHERE, not the caller's read);
 * - 5 concurrent `submit`s of one draft in separate transactions: exactly one wins;
 * - 5 brokers confirming the filing of the same shipment at the same moment, through the chat and
 *   the webhook connector: one declaration, one submission and one wait at the fake RPA (keys
 *   `file:CD-…` / `decision:CD-…`), and a clear "already filed by … at …" for the other four;
 * - the table in docs/reliability.md is the code's table.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { inTransaction } from '../../src/jobs/store.js';
import { findDeclaration, type DeclarationStatus } from '../../src/skills/customs/declarations.js';
import { DECLARATION_EVENTS, declarationMachine, targetOf, transitionDeclaration } from '../../src/skills/customs/lifecycle.js';
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
const SECRET = 'test-customs-lifecycle-secret-0123';
const NOTES = readFileSync(fileURLToPath(new URL('../../docs/reliability.md', import.meta.url)), 'utf8');

/** Counts the steps that reach the RPA side, by operation and idempotency key. */
class FakeRpa {
  readonly steps: { key: string | undefined; operation: string; declaration: string }[] = [];
  private server?: Server;

  async start(): Promise<string> {
    this.server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { operation: string; payload: { declaration: string } };
        this.steps.push({ key: req.headers['idempotency-key'] as string | undefined, operation: body.operation, declaration: body.payload.declaration });
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

describe('the declaration table', () => {
  it('each event leads to one state, and the notes show the code\'s table', () => {
    for (const event of DECLARATION_EVENTS) expect(declarationMachine.sourcesOf(event).length, event).toBeGreaterThan(0);
    for (const event of DECLARATION_EVENTS) expect(() => targetOf(event)).not.toThrow();
    expect(NOTES).toContain(declarationMachine.toMarkdown());
  });
});

describe.each(targets)('customs declaration lifecycle on $name', (target) => {
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
    USER_ROLES: `${TEST_ROLES},frank=broker,gina=broker,hank=broker,ivy=broker,jo=broker`,
    AUTOMATION_CONNECTOR: 'webhook',
    WEBHOOK_URL: rpaUrl,
    WEBHOOK_SECRET: SECRET,
    ...ROOMY_ADMISSION,
  }));
  const ds = (): DataSource => fixture.app.db.dataSource;

  let serial = 0;
  /** A fresh shipment with one declaration in `status` (straight into the table: any state). */
  async function declarationIn(status: DeclarationStatus): Promise<string> {
    serial += 1;
    const shipment = `SH-${980000 + serial}`;
    const number = `CD-${980000 + serial}`;
    await rows(ds(), `INSERT INTO shipments (number, direction, origin_country, warehouse_code, status) VALUES ($1, 'inbound', 'CN', 'WH-B', 'at_customs')`, [shipment]);
    await rows(
      ds(),
      `INSERT INTO customs_declarations (number, shipment_id, kind, status, currency, customs_value)
       SELECT $1, id, 'import', $2, 'USD', 100 FROM shipments WHERE number = $3`,
      [number, status, shipment],
    );
    return number;
  }

  const stateOf = async (number: string) =>
    (await rows<{ status: DeclarationStatus; updated_at: Date; status_reason: string | null }>(
      ds(),
      'SELECT status, updated_at, status_reason FROM customs_declarations WHERE number = $1',
      [number],
    ))[0]!;

  it.skipIf(target.skip)('every (state, event) pair: allowed → the table\'s next state; anything else refused, nothing changed', async () => {
    const pairs = declarationMachine.allPairs();
    expect(pairs).toHaveLength(declarationMachine.states.length * declarationMachine.events.length);
    let allowed = 0;
    for (const [state, event] of pairs) {
      const number = await declarationIn(state);
      const before = await stateOf(number);
      const expected = declarationMachine.decide(state, event);
      const result = await inTransaction(ds(), async (tx) => transitionDeclaration(tx, (await findDeclaration(tx, number, { lock: true }))!, event, { reason: 'walked' }));
      const after = await stateOf(number);
      if (expected.ok) {
        allowed += 1;
        expect(result, `${state} × ${event}`).toEqual({ ok: true, from: state, to: expected.transition.to });
        expect(after.status, `${state} × ${event}`).toBe(expected.transition.to);
      } else {
        expect(result, `${state} × ${event}`).toMatchObject({ ok: false, status: state, reason: expected.reason });
        expect(after, `${state} × ${event}`).toEqual(before);
      }
    }
    expect(allowed).toBe(declarationMachine.table.length);
  });

  it.skipIf(target.skip)('the guard is in the database: a stale copy that says "under review" cannot clear a rejected declaration', async () => {
    const number = await declarationIn('under_review');
    const stale = (await findDeclaration(ds(), number))!;
    await rows(ds(), `UPDATE customs_declarations SET status = 'rejected' WHERE number = $1`, [number]);
    const result = await inTransaction(ds(), (tx) => transitionDeclaration(tx, stale, 'clear'));
    expect(result).toMatchObject({ ok: false, status: 'rejected' });
    expect((await stateOf(number)).status).toBe('rejected');
  });

  it.skipIf(target.skip)('5 concurrent submits of one draft in separate transactions: exactly one moves it', async () => {
    const number = await declarationIn('draft');
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        inTransaction(ds(), async (tx) => {
          const d = (await findDeclaration(tx, number))!; // no lock: every writer reads "draft"
          return transitionDeclaration(tx, d, 'submit');
        }),
      ),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok)).toEqual(Array.from({ length: 4 }, () => expect.objectContaining({ ok: false, status: 'submitted' })));
    expect((await stateOf(number)).status).toBe('submitted');
  });

  it.skipIf(target.skip)('5 brokers confirm the same filing at once: one declaration, one call per operation at the RPA, a clear answer for the rest', async () => {
    const brokers = ['frank', 'gina', 'hank', 'ivy', 'jo'].map((id) => new ChatUser(() => fixture.app.url, fixture.receiver, id, `${id[0]!.toUpperCase()}${id.slice(1)} Broker`));
    for (const b of brokers) expect(allText(await b.say('file a declaration for the Shenzhen container'))).toMatch(/File this import declaration for SH-2003\?/);
    const replies = await Promise.all(brokers.map(async (b) => allText(await b.click('Confirm'))));
    const filed = replies.filter((r) => /^📝 CD-\d+ is drafted for SH-2003/.test(r));
    expect(filed, replies.join('\n---\n')).toHaveLength(1);
    const number = /^📝 (CD-\d+)/.exec(filed[0]!)![1]!;
    const winner = brokers[replies.indexOf(filed[0]!)]!;
    for (const r of replies.filter((x) => x !== filed[0])) {
      expect(r).toMatch(new RegExp(`^Nothing filed: SH-2003 already has declaration ${number}, which is (draft|submitted|under review)\\. .* It was filed by ${winner.name} at \\d\\d:\\d\\d UTC\\.`));
    }
    const declarations = await rows<{ number: string }>(
      ds(),
      `SELECT d.number FROM customs_declarations d JOIN shipments s ON s.id = d.shipment_id WHERE s.number = 'SH-2003'`,
    );
    expect(declarations.map((d) => d.number)).toEqual([number]);
    await eventually(async () => rpa.steps.filter((s) => s.declaration === number).length >= 2, 30_000, 'both steps at the RPA');
    await new Promise((r) => setTimeout(r, 1000)); // room for any extra call to arrive
    const steps = rpa.steps.filter((s) => s.declaration === number);
    expect(steps.map((s) => `${s.operation} ${s.key}`).sort()).toEqual([`await_customs_decision decision:${number}`, `submit_customs_declaration file:${number}`]);
    const jobs = await rows<{ idempotency_key: string }>(ds(), `SELECT idempotency_key FROM automation_jobs WHERE subject_id = $1 ORDER BY id`, [number]);
    expect(jobs.map((j) => j.idempotency_key)).toEqual([`file:${number}`, `decision:${number}`]);
  });
});
