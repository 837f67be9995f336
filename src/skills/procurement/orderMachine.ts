import type { QueryRunner } from 'typeorm';
import { execute } from '../../db/sql.js';
import { StateMachine, type Transition } from '../stateMachine.js';
import type { DeferredRequester } from '../turnJob.js';

/**
 * The purchase-order lifecycle as one table: every (status, event) pair either has a row here (the
 * next status and the side effect it starts) or is refused and changes nothing. Every status change
 * of an order goes through `transitionOrder`, a guarded write: the row is locked and the UPDATE only
 * applies while the status is still the row's `from`, so concurrent requests serialize on the row
 * and exactly one of them wins (the others are told what happened instead).
 *
 * The cancel of an order the supplier may hold is itself an automation (`cancel_purchase_order`,
 * job key `cancel:PO-…`), and it waits for an in-flight send: the order goes to `cancelling` and the
 * cancel job starts once the send has its outcome.
 */
export const PO_STATUSES = [
  'draft',
  'pending_approval',
  'approved',
  'sent',
  'confirmed',
  'partially_received',
  'received',
  'cancelling',
  'cancelled',
  'rejected',
] as const;
export type PoStatus = (typeof PO_STATUSES)[number];

export const ORDER_EVENTS = [
  'submit_for_approval',
  'auto_approve',
  'approve',
  'reject',
  'send_succeeded',
  'supplier_confirmed',
  'supplier_declined',
  'send_skipped',
  'send_unknown',
  'cancel',
  'cancel_confirmed',
  'cancel_refused',
  'receive_part',
  'receive_all',
] as const;
export type OrderEvent = (typeof ORDER_EVENTS)[number];

const SEND_AUTO = 'the create job sends send_purchase_order (Idempotency-Key send:PO-…)';
const SEND_APPROVED = 'job approve:PO-… sends send_purchase_order (Idempotency-Key send:PO-…)';
const COMPENSATE = 'job cancel:PO-… → cancel_purchase_order; tell the canceller';

const TABLE: Transition<PoStatus, OrderEvent>[] = [
  { from: 'draft', event: 'submit_for_approval', to: 'pending_approval', effect: 'approval cards to approvers; tell the requester' },
  { from: 'draft', event: 'auto_approve', to: 'approved', effect: SEND_AUTO },
  { from: 'draft', event: 'cancel', to: 'cancelled', effect: 'job cancel:PO-… tells the canceller (nothing at the supplier)' },
  { from: 'pending_approval', event: 'approve', to: 'approved', effect: SEND_APPROVED },
  { from: 'pending_approval', event: 'reject', to: 'rejected', effect: 'job reject:PO-… tells requester and creator' },
  { from: 'pending_approval', event: 'cancel', to: 'cancelled', effect: 'job cancel:PO-… tells the canceller (nothing at the supplier)' },
  { from: 'approved', event: 'send_succeeded', to: 'sent', effect: 'store the supplier reference; tell "placed"' },
  { from: 'approved', event: 'supplier_declined', to: 'rejected', effect: 'tell requester and creator' },
  { from: 'approved', event: 'cancel', to: 'cancelling', effect: 'wait for the in-flight send; then job cancel:PO-…' },
  { from: 'sent', event: 'supplier_confirmed', to: 'confirmed', effect: 'store the supplier reference; tell "placed"' },
  { from: 'sent', event: 'supplier_declined', to: 'rejected', effect: 'tell requester and creator' },
  { from: 'sent', event: 'cancel', to: 'cancelling', effect: COMPENSATE },
  { from: 'sent', event: 'receive_part', to: 'partially_received', effect: 'goods receipt booked' },
  { from: 'sent', event: 'receive_all', to: 'received', effect: 'goods receipt booked' },
  { from: 'confirmed', event: 'cancel', to: 'cancelling', effect: COMPENSATE },
  { from: 'confirmed', event: 'receive_part', to: 'partially_received', effect: 'goods receipt booked' },
  { from: 'confirmed', event: 'receive_all', to: 'received', effect: 'goods receipt booked' },
  { from: 'partially_received', event: 'receive_all', to: 'received', effect: 'goods receipt booked' },
  { from: 'cancelling', event: 'send_succeeded', to: 'cancelling', effect: `store the supplier reference; ${COMPENSATE}` },
  { from: 'cancelling', event: 'send_unknown', to: 'cancelling', effect: `no send outcome (timeout, retries spent, crash): ${COMPENSATE}` },
  { from: 'cancelling', event: 'supplier_declined', to: 'cancelled', effect: 'job cancel:PO-… tells the canceller (nothing at the supplier)' },
  { from: 'cancelling', event: 'send_skipped', to: 'cancelled', effect: 'job cancel:PO-… tells the canceller (never sent)' },
  { from: 'cancelling', event: 'cancel_confirmed', to: 'cancelled', effect: 'tell the canceller and the creator' },
  { from: 'cancelling', event: 'cancel_refused', to: 'confirmed', effect: 'tell the canceller: the supplier keeps the order' },
  { from: 'cancelled', event: 'send_succeeded', to: 'cancelling', effect: `a send result for a cancelled order: ${COMPENSATE}` },
];

export const ORDER_MACHINE = new StateMachine<PoStatus, OrderEvent>('purchase order', PO_STATUSES, ORDER_EVENTS, TABLE);

/** What a transition records besides the status (NULL leaves a column as it is). */
export interface OrderChange {
  approvedBy?: string;
  approvedByName?: string;
  supplierReference?: string;
  reason?: string;
  /** Who asked for a cancel and where to tell them (kept while the order is `cancelling`). */
  cancelRequest?: CancelRequest;
}

export interface CancelRequest extends DeferredRequester {
  reason: string;
  at: string;
}

/** The locked row as it was when a transition was refused (to tell the user who got there first). */
export interface OrderSnapshot {
  id: number;
  number: string;
  status: PoStatus;
  requestedBy: string;
  approvedBy: string | null;
  approvedByName: string | null;
  approvedAt: Date | null;
  cancelRequest: CancelRequest | null;
}

export type TransitionOutcome =
  | { ok: true; from: PoStatus; to: PoStatus; effect?: string; order: OrderSnapshot }
  | { ok: false; reason: 'not_found' }
  | { ok: false; reason: 'refused'; message: string; order: OrderSnapshot };

interface SnapshotRow {
  id: string;
  number: string;
  status: PoStatus;
  requested_by: string;
  approved_by: string | null;
  approved_by_name: string | null;
  approved_at: Date | null;
  cancel_request: CancelRequest | string | null;
}

const SNAPSHOT = 'id, number, status, requested_by, approved_by, approved_by_name, approved_at, cancel_request';

function toSnapshot(r: SnapshotRow): OrderSnapshot {
  return {
    id: Number(r.id),
    number: r.number,
    status: r.status,
    requestedBy: r.requested_by,
    approvedBy: r.approved_by,
    approvedByName: r.approved_by_name,
    approvedAt: r.approved_at ? new Date(r.approved_at) : null,
    cancelRequest: typeof r.cancel_request === 'string' ? (JSON.parse(r.cancel_request) as CancelRequest) : r.cancel_request,
  };
}

/** The order row, locked for the rest of `tx`. */
export async function lockOrderRow(tx: QueryRunner, number: string): Promise<OrderSnapshot | undefined> {
  const { rows } = await execute<SnapshotRow>(tx, `SELECT ${SNAPSHOT} FROM purchase_orders WHERE number = $1 FOR UPDATE`, [
    number.toUpperCase(),
  ]);
  return rows[0] ? toSnapshot(rows[0]) : undefined;
}

/**
 * Applies `event` to the order, inside `tx`: lock the row, look the (status, event) pair up in the
 * table, and UPDATE only `WHERE status = <the row's from>` (so even a caller that skipped the lock
 * can't move an order that moved meanwhile). A pair without a row changes nothing.
 */
export async function transitionOrder(
  tx: QueryRunner,
  number: string,
  event: OrderEvent,
  change: OrderChange = {},
): Promise<TransitionOutcome> {
  const current = await lockOrderRow(tx, number);
  if (!current) return { ok: false, reason: 'not_found' };
  const decision = ORDER_MACHINE.decide(current.status, event);
  if (!decision.ok) return { ok: false, reason: 'refused', message: decision.reason, order: current };
  const { from, to, effect } = decision.transition;
  // A cancel request is kept while cancelling and after (the cancel job reads it); a new one replaces it.
  const { rows } = await execute<SnapshotRow>(
    tx,
    `UPDATE purchase_orders SET status = $3,
       approved_by = COALESCE($4, approved_by), approved_at = CASE WHEN $4::text IS NULL THEN approved_at ELSE now() END,
       approved_by_name = COALESCE($5, approved_by_name),
       supplier_reference = COALESCE($6, supplier_reference), status_reason = COALESCE($7, status_reason),
       cancel_request = COALESCE($8::jsonb, cancel_request), updated_at = now()
     WHERE id = $1 AND status = $2
     RETURNING ${SNAPSHOT}`,
    [
      current.id,
      from,
      to,
      change.approvedBy ?? null,
      change.approvedByName ?? null,
      change.supplierReference ?? null,
      change.reason ?? null,
      change.cancelRequest ? JSON.stringify(change.cancelRequest) : null,
    ],
  );
  if (!rows[0]) return { ok: false, reason: 'refused', message: `${number}: it moved on from ${from} meanwhile`, order: current };
  return { ok: true, from, to, effect, order: toSnapshot(rows[0]) };
}

/** The table for the docs (docs/notes/orders.md). */
export function orderMachineMarkdown(): string {
  return [
    `Statuses: ${PO_STATUSES.map((s) => `\`${s}\``).join(', ')}.`,
    '',
    `Events: ${ORDER_EVENTS.map((e) => `\`${e}\``).join(', ')}.`,
    '',
    'Every (status, event) pair not listed is refused and changes nothing.',
    '',
    ORDER_MACHINE.toMarkdown(),
  ].join('\n');
}
