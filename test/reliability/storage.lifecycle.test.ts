/**
 * The stock transfer lifecycle (src/skills/storage/lifecycle.ts), on both databases:
 * - every (state, event) pair of the table, applied to a real row: allowed → exactly the table's
 *   next state; anything else refused with nothing changed;
 * - 5 concurrent bookings of one requested transfer, each in its own transaction: it moves once
 *   (one set of ledger rows), the other four are told it is already moved;
 * - the transfer job run again after it booked (a redelivery): nothing moves twice;
 * - one confirmation card clicked 5 times at once: one transfer, one job keyed `transfer:TR-…`,
 *   one booking, and every click answered;
 * - the table in docs/reliability.md is the code's table.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DataSource } from 'typeorm';
import { describe, expect, it, vi } from 'vitest';
import { inTransaction, lockJob } from '../../src/jobs/store.js';
import type { JobHandlerEnv } from '../../src/jobs/types.js';
import { storageJobHandlers } from '../../src/skills/storage/jobs.js';
import { TRANSFER_EVENTS, transferMachine, transitionTransfer, type TransferStatus } from '../../src/skills/storage/lifecycle.js';
import { bookTransfer, requestTransfer } from '../../src/skills/storage/stock.js';
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
const NOTES = readFileSync(fileURLToPath(new URL('../../docs/reliability.md', import.meta.url)), 'utf8');

describe('the transfer table', () => {
  it('each event has a source, and the notes show the code\'s table', () => {
    for (const event of TRANSFER_EVENTS) expect(transferMachine.sourcesOf(event).length, event).toBeGreaterThan(0);
    expect(NOTES).toContain(transferMachine.toMarkdown());
  });
});

describe.each(targets)('stock transfer lifecycle on $name', (target) => {
  const fixture = useSkillApp(target, { USER_ROLES: `${TEST_ROLES},wendy=clerk`, ...ROOMY_ADMISSION });
  const ds = (): DataSource => fixture.app.db.dataSource;

  let serial = 0;
  /** A transfer row in `status` (straight into the table: any state). */
  async function transferIn(status: TransferStatus): Promise<string> {
    serial += 1;
    const number = `TR-${990000 + serial}`;
    await rows(
      ds(),
      `INSERT INTO stock_transfers (number, status, sku, quantity, from_warehouse, to_warehouse, to_bin, moved_by)
       VALUES ($1, $2, 'SKU-1001', 1, 'WH-A', 'WH-B', $3, 'test')`,
      [number, status, status === 'moved' ? 'B-01-02' : null],
    );
    return number;
  }
  const stateOf = async (number: string) =>
    (await rows<{ status: TransferStatus; to_bin: string | null; status_reason: string | null; updated_at: Date }>(
      ds(),
      'SELECT status, to_bin, status_reason, updated_at FROM stock_transfers WHERE number = $1',
      [number],
    ))[0]!;
  const ledgerOf = (number: string) =>
    rows<{ kind: string; quantity: string }>(ds(), `SELECT kind, quantity::text FROM stock_movements WHERE reference_id = $1 ORDER BY id`, [number]);
  const onHand = async (warehouse: string, sku: string) =>
    Number((await rows<{ q: string | null }>(ds(), 'SELECT SUM(quantity)::text AS q FROM stock_balances WHERE warehouse_code = $1 AND sku = $2', [warehouse, sku]))[0]!.q ?? 0);

  it.skipIf(target.skip)('every (state, event) pair: allowed → the table\'s next state; anything else refused, nothing changed', async () => {
    let allowed = 0;
    for (const [state, event] of transferMachine.allPairs()) {
      const number = await transferIn(state);
      const before = await stateOf(number);
      const expected = transferMachine.decide(state, event);
      const result = await inTransaction(ds(), (tx) => transitionTransfer(tx, number, event, { toBin: 'B-01-02', reason: 'walked' }));
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
    expect(allowed).toBe(transferMachine.table.length);
  });

  it.skipIf(target.skip)('5 concurrent bookings of one transfer: it moves once, the others are told it already moved', async () => {
    const number = await inTransaction(ds(), (tx) =>
      requestTransfer(tx, { sku: 'SKU-1004', quantity: 5, fromWarehouse: 'WH-B', toWarehouse: 'WH-C' }, { jobId: null, actor: 'test' }),
    );
    const fromBefore = await onHand('WH-B', 'SKU-1004');
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => inTransaction(ds(), (tx) => bookTransfer(tx, number))));
    expect(outcomes.filter((o) => o.status === 'moved')).toHaveLength(1);
    expect(outcomes.filter((o) => o.status === 'not_requested')).toEqual(
      Array.from({ length: 4 }, () => expect.objectContaining({ current: 'moved', reason: 'stock transfer: book is not allowed when moved' })),
    );
    expect(await onHand('WH-B', 'SKU-1004')).toBe(fromBefore - 5);
    expect((await ledgerOf(number)).map((m) => `${m.kind} ${Number(m.quantity)}`)).toEqual(['transfer_out -5', 'transfer_in 5']);
    expect((await stateOf(number)).status).toBe('moved');
  });

  it.skipIf(target.skip)('a transfer job delivered again after it booked moves nothing more', async () => {
    const wendy = new ChatUser(() => fixture.app.url, fixture.receiver, 'wendy', 'Wendy Clerk');
    expect(allText(await wendy.say('move 20 pallets from WH-B to WH-C'))).toMatch(/Move this stock\?|Please confirm/);
    await wendy.click('Confirm');
    const [job] = await eventually(
      async () => {
        const found = await rows<{ id: string; status: string; input: { transfer: string } }>(
          ds(),
          `SELECT id, status, input FROM automation_jobs WHERE conversation_id = $1 AND status = 'succeeded'`,
          [wendy.conversationId],
        );
        return found.length ? found : undefined;
      },
      30_000,
      'the transfer job to finish',
    );
    const number = job!.input.transfer;
    const ledger = await ledgerOf(number);
    expect(ledger).toHaveLength(2);
    // pg-boss delivers at least once: run the handler's step again on the same job.
    const handler = storageJobHandlers().find((h) => h.action === 'storage.transfer_stock')!;
    const env: JobHandlerEnv = { event: async () => {}, setSubject: async () => {}, enqueue: async () => ({ jobId: 0 }), now: () => new Date() };
    const again = await inTransaction(ds(), async (tx) => handler.run((await lockJob(tx, Number(job!.id)))!, tx, env));
    expect(again).toMatchObject({ kind: 'finish', status: 'succeeded', message: `${number} is already moved; nothing was moved now.` });
    expect(await ledgerOf(number)).toEqual(ledger);
  });

  it.skipIf(target.skip)('one card confirmed 5 times at once: one transfer, one job keyed by it, one booking, every click answered', async () => {
    const wendy = new ChatUser(() => fixture.app.url, fixture.receiver, 'wendy', 'Wendy Clerk');
    await wendy.say('move 50 SKU-1001 from bin A-01-01 to bin A-03-01');
    const value = wendy.buttonValue('Confirm');
    const before = await rows<{ number: string }>(ds(), 'SELECT number FROM stock_transfers');
    const replies = await Promise.all(Array.from({ length: 5 }, () => wendy.click(value as Record<string, unknown>)));
    const created = (await rows<{ number: string; job_id: string }>(ds(), 'SELECT number, job_id FROM stock_transfers')).filter(
      (t) => !before.some((b) => b.number === t.number),
    );
    expect(created, JSON.stringify(replies.map(allText))).toHaveLength(1);
    const number = created[0]!.number;
    const jobs = await rows<{ id: string; idempotency_key: string }>(ds(), `SELECT id, idempotency_key FROM automation_jobs WHERE conversation_id = $1`, [wendy.conversationId]);
    expect(jobs, JSON.stringify(replies.map(allText))).toEqual([{ id: created[0]!.job_id, idempotency_key: `transfer:${number}` }]);
    // The first click gets the answer; repeats get the same answer or stay silent (never an error).
    const texts = replies.map(allText);
    const all = texts.join('\n---\n');
    expect(texts.filter((t) => /On it: job \d+ is moving 50 SKU-1001/.test(t)).length, all).toBeGreaterThanOrEqual(1);
    for (const r of texts) expect(r, all).not.toMatch(/error|went wrong/i);
    await eventually(async () => (await stateOf(number)).status === 'moved', 30_000, `${number} to be moved`);
    await new Promise((r) => setTimeout(r, 500));
    expect((await ledgerOf(number)).map((m) => `${m.kind} ${Number(m.quantity)}`)).toEqual(['transfer_out -50', 'transfer_in 50']);
  });
});
