import type { QueryRunner } from 'typeorm';
import { execute } from '../../db/sql.js';
import { StateMachine } from '../stateMachine.js';

/**
 * The stock transfer lifecycle as a table: (state, event) → next state + side effect. The
 * confirmation creates the transfer `requested` (TR-… names the operation; its job's idempotency
 * key is `transfer:TR-…`); only `book` writes ledger rows, and only from `requested`, through a
 * guarded UPDATE — so however often the job runs, or whoever else tries to book the same
 * transfer at the same time, its stock moves once. test/reliability/storage.lifecycle.test.ts
 * walks every pair; docs/notes/callbacks-lifecycles.md shows the table.
 */
export const TRANSFER_STATUSES = ['requested', 'moved', 'refused', 'abandoned'] as const;
export type TransferStatus = (typeof TRANSFER_STATUSES)[number];
export const TRANSFER_EVENTS = ['book', 'refuse', 'give_up'] as const;
export type TransferEvent = (typeof TRANSFER_EVENTS)[number];

export const transferMachine = new StateMachine<TransferStatus, TransferEvent>('stock transfer', TRANSFER_STATUSES, TRANSFER_EVENTS, [
  { from: 'requested', event: 'book', to: 'moved', effect: 'ledger rows transfer_out (per source bin) + transfer_in, in the same transaction; tell the clerk' },
  { from: 'requested', event: 'refuse', to: 'refused', effect: 'too little stock / no bin at booking time: tell the clerk nothing was moved' },
  { from: 'requested', event: 'give_up', to: 'abandoned', effect: 'retries exhausted (dead letter): tell the clerk nothing was moved' },
]);

/** The idempotency key of a transfer's job: one job per transfer, whoever asks how often. */
export const transferKey = (number: string) => `transfer:${number}`;

export type TransferTransition = { ok: true; from: TransferStatus; to: TransferStatus } | { ok: false; status: TransferStatus | undefined; reason: string };

function targetOf(event: TransferEvent): TransferStatus {
  const targets = new Set(transferMachine.table.filter((r) => r.event === event).map((r) => r.to));
  if (targets.size !== 1) throw new Error(`stock transfer: ${event} must have exactly one target state`);
  return [...targets][0]!;
}

/**
 * Applies `event` to transfer `number` as one guarded write (`UPDATE … WHERE status = ANY(sources)
 * RETURNING`): a pair the table does not allow, or a writer that lost a race, matches no row and
 * changes nothing. `toBin` is the bin it was put in (book); `reason` why it was refused.
 */
export async function transitionTransfer(
  tx: QueryRunner,
  number: string,
  event: TransferEvent,
  change: { toBin?: string; reason?: string } = {},
): Promise<TransferTransition> {
  const { rows } = await execute<{ from: TransferStatus }>(
    tx,
    `UPDATE stock_transfers t SET status = $2, to_bin = COALESCE($3, t.to_bin), status_reason = COALESCE($4, t.status_reason), updated_at = now()
     FROM (SELECT id, status FROM stock_transfers WHERE number = $1 FOR UPDATE) old
     WHERE t.id = old.id AND t.status = ANY($5::text[])
     RETURNING old.status AS "from"`,
    [number, targetOf(event), change.toBin ?? null, change.reason ?? null, transferMachine.sourcesOf(event)],
  );
  const from = rows[0]?.from;
  if (from) return { ok: true, from, to: targetOf(event) };
  const current = await execute<{ status: TransferStatus }>(tx, 'SELECT status FROM stock_transfers WHERE number = $1', [number]);
  const status = current.rows[0]?.status;
  const decision = status ? transferMachine.decide(status, event) : undefined;
  return { ok: false, status, reason: decision && !decision.ok ? decision.reason : `${number} not found` };
}
