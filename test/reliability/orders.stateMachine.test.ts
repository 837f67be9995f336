/**
 * The purchase-order table (src/skills/procurement/orderMachine.ts), on both databases:
 * - EVERY (status, event) pair applied to a real row through the guarded write: a pair with a row
 *   lands exactly on the table's next status, any other is refused and changes nothing;
 * - a caller holding a stale copy of the order can't move it (the guard is the locked row and the
 *   UPDATE's WHERE, not the caller's read);
 * - 5 concurrent approvals of one order in separate transactions: exactly one wins;
 * - docs/reliability.md shows the code's table.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction } from '../../src/jobs/store.js';
import { seedDemoData } from '../../src/skills/data/seed.js';
import {
  ORDER_EVENTS,
  ORDER_MACHINE,
  orderMachineMarkdown,
  PO_STATUSES,
  transitionOrder,
  type PoStatus,
} from '../../src/skills/procurement/orderMachine.js';
import { CANCELLABLE, findOrder, setStatus } from '../../src/skills/procurement/orders.js';
import { databaseTargets, type TestDatabase } from '../helpers/databases.js';
import { rows } from '../helpers/procurementFixture.js';

const targets = await databaseTargets();
const NOTES = readFileSync(fileURLToPath(new URL('../../docs/reliability.md', import.meta.url)), 'utf8');
const PO = 'PO-1001';

describe('the order table', () => {
  it('covers every status and event, and the notes show the code\'s table', () => {
    expect(ORDER_MACHINE.allPairs()).toHaveLength(PO_STATUSES.length * ORDER_EVENTS.length);
    for (const event of ORDER_EVENTS) expect(ORDER_MACHINE.sourcesOf(event).length, event).toBeGreaterThan(0);
    // Every status is reachable from draft.
    const reached = new Set<PoStatus>(['draft']);
    for (let grew = true; grew; ) {
      grew = false;
      for (const row of ORDER_MACHINE.table) {
        if (reached.has(row.from) && !reached.has(row.to)) {
          reached.add(row.to);
          grew = true;
        }
      }
    }
    expect([...reached].sort()).toEqual([...PO_STATUSES].sort());
    // A cancel of an order that may be at the supplier never goes straight to cancelled.
    for (const from of ['approved', 'sent', 'confirmed'] as const) expect(ORDER_MACHINE.decide(from, 'cancel')).toMatchObject({ ok: true, transition: { to: 'cancelling' } });
    expect(CANCELLABLE).toEqual(ORDER_MACHINE.sourcesOf('cancel'));
    expect(NOTES).toContain(orderMachineMarkdown());
  });
});

describe.each(targets)('the order table on $name', (target) => {
  let t: TestDatabase | undefined;
  const db = (): DataSource => t!.db.dataSource;

  beforeAll(async () => {
    if (target.skip) return;
    t = await target.create();
    await seedDemoData(db());
  });
  afterAll(() => t?.dispose());

  const statusOf = async (number = PO) =>
    (await rows<{ status: PoStatus }>(db(), 'SELECT status FROM purchase_orders WHERE number = $1', [number]))[0]!.status;
  // Test set-up only: put the row into a status directly (what the walk starts each pair from).
  const putInto = (status: PoStatus, number = PO) =>
    rows(db(), `UPDATE purchase_orders SET status = $2, cancel_request = NULL WHERE number = $1`, [number, status]);

  it.skipIf(target.skip)('every (status, event) pair: allowed rows move exactly as the table says, every other pair is refused with no change', async () => {
    let allowed = 0;
    let refused = 0;
    for (const [status, event] of ORDER_MACHINE.allPairs()) {
      await putInto(status);
      const before = await rows(db(), 'SELECT * FROM purchase_orders WHERE number = $1', [PO]);
      const outcome = await inTransaction(db(), (tx) => transitionOrder(tx, PO, event, { reason: `walk ${status} × ${event}` }));
      const expected = ORDER_MACHINE.decide(status, event);
      const where = `${status} × ${event}`;
      if (expected.ok) {
        allowed += 1;
        expect(outcome, where).toMatchObject({ ok: true, from: status, to: expected.transition.to });
        expect(await statusOf(), where).toBe(expected.transition.to);
      } else {
        refused += 1;
        expect(outcome, where).toMatchObject({ ok: false, reason: 'refused' });
        expect(await rows(db(), 'SELECT * FROM purchase_orders WHERE number = $1', [PO]), where).toEqual(before);
      }
    }
    expect(allowed).toBe(ORDER_MACHINE.table.length);
    expect(allowed + refused).toBe(PO_STATUSES.length * ORDER_EVENTS.length);
    // The database accepts every status of the table (the CHECK constraint knows `cancelling`).
    for (const status of PO_STATUSES) {
      await putInto(status);
      expect(await statusOf()).toBe(status);
    }
    expect(await inTransaction(db(), (tx) => transitionOrder(tx, 'PO-99999', 'approve'))).toEqual({ ok: false, reason: 'not_found' });
  });

  it.skipIf(target.skip)('a caller with a stale copy of the order cannot move it', async () => {
    await putInto('sent');
    const stale = (await findOrder(db(), PO))!;
    await putInto('cancelled'); // someone else moved it meanwhile
    await expect(inTransaction(db(), (tx) => setStatus(tx, stale, 'received'))).rejects.toThrow(/not allowed/);
    expect(await statusOf()).toBe('cancelled');
    // setStatus still works for a target status the table allows (goods receipts use it).
    await putInto('confirmed');
    const fresh = (await findOrder(db(), PO))!;
    await inTransaction(db(), (tx) => setStatus(tx, fresh, 'partially_received'));
    expect(await statusOf()).toBe('partially_received');
    await expect(inTransaction(db(), (tx) => setStatus(tx, fresh, 'draft'))).rejects.toThrow(/not allowed/);
  });

  it.skipIf(target.skip)('5 concurrent approvals in separate transactions: exactly one wins', async () => {
    await putInto('pending_approval');
    await rows(db(), 'UPDATE purchase_orders SET approved_by = NULL, approved_by_name = NULL, approved_at = NULL WHERE number = $1', [PO]);
    const approvers = ['bob', 'dave', 'erin', 'carol', 'frank'];
    const outcomes = await Promise.all(
      approvers.map((by) =>
        inTransaction(db(), async (tx) => {
          const outcome = await transitionOrder(tx, PO, 'approve', { approvedBy: by, approvedByName: by });
          // Hold the lock a moment so the others really wait on it (PostgreSQL runs them in parallel).
          await new Promise((r) => setTimeout(r, 20));
          return outcome;
        }),
      ),
    );
    const winners = outcomes.filter((o) => o.ok);
    expect(winners).toHaveLength(1);
    const [order] = await rows<{ status: string; approved_by: string }>(db(), 'SELECT status, approved_by FROM purchase_orders WHERE number = $1', [PO]);
    expect(order!.status).toBe('approved');
    expect(approvers[outcomes.findIndex((o) => o.ok)]).toBe(order!.approved_by);
    for (const loser of outcomes.filter((o) => !o.ok)) {
      // The losers see the winner's row: who approved it and when.
      expect(loser).toMatchObject({ ok: false, reason: 'refused', order: { status: 'approved', approvedBy: order!.approved_by } });
    }
  });
});
