import type { DataSource, QueryRunner } from 'typeorm';
import { execute } from '../../db/sql.js';
import { ORDER_MACHINE, transitionOrder, type OrderChange, type PoStatus } from './orderMachine.js';

type Target = DataSource | QueryRunner;

export { PO_STATUSES, type PoStatus } from './orderMachine.js';

/** Statuses of an order that is still under way. */
export const OPEN_STATUSES: readonly PoStatus[] = [
  'draft',
  'pending_approval',
  'approved',
  'sent',
  'confirmed',
  'partially_received',
  'cancelling',
];
/** Statuses an order can be cancelled from (the `cancel` rows of the order table). */
export const CANCELLABLE: readonly PoStatus[] = ORDER_MACHINE.sourcesOf('cancel');

export interface OrderLine {
  lineNo: number;
  sku: string;
  productName: string;
  quantity: number;
  unit: string;
  unitPrice: number;
  amount: number;
  receivedQuantity: number;
}

export interface Order {
  id: number;
  number: string;
  supplierId: number;
  supplier: string;
  status: PoStatus;
  currency: string;
  total: number;
  shipTo: string | null;
  shipToName: string | null;
  needBy: string | null;
  requestedBy: string;
  requestedByName: string | null;
  approvedBy: string | null;
  approvedByName: string | null;
  approvedAt: Date | null;
  supplierReference: string | null;
  statusReason: string | null;
  createdAt: Date;
  updatedAt: Date;
  lines: OrderLine[];
}

interface OrderRow {
  id: string;
  number: string;
  supplier_id: number;
  supplier: string;
  status: PoStatus;
  currency: string;
  total: string;
  ship_to: string | null;
  ship_to_name: string | null;
  need_by: string | Date | null;
  requested_by: string;
  requested_by_name: string | null;
  approved_by: string | null;
  approved_by_name: string | null;
  approved_at: Date | null;
  supplier_reference: string | null;
  status_reason: string | null;
  created_at: Date;
  updated_at: Date;
  line_count?: string;
}

const ORDER_COLUMNS = `po.id, po.number, po.supplier_id, s.name AS supplier, po.status, po.currency, po.total, po.ship_to,
  w.name AS ship_to_name, to_char(po.need_by, 'YYYY-MM-DD') AS need_by, po.requested_by, po.requested_by_name, po.approved_by,
  po.approved_by_name, po.approved_at, po.supplier_reference, po.status_reason, po.created_at, po.updated_at`;

function toOrder(r: OrderRow, lines: OrderLine[]): Order {
  return {
    id: Number(r.id),
    number: r.number,
    supplierId: r.supplier_id,
    supplier: r.supplier,
    status: r.status,
    currency: r.currency.trim(),
    total: Number(r.total),
    shipTo: r.ship_to,
    shipToName: r.ship_to_name,
    needBy: typeof r.need_by === 'string' ? r.need_by : r.need_by ? r.need_by.toISOString().slice(0, 10) : null,
    requestedBy: r.requested_by,
    requestedByName: r.requested_by_name,
    approvedBy: r.approved_by,
    approvedByName: r.approved_by_name,
    approvedAt: r.approved_at ? new Date(r.approved_at) : null,
    supplierReference: r.supplier_reference,
    statusReason: r.status_reason,
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
    lines,
  };
}

/** One order with its lines; `lock` takes a row lock (inside a transaction). */
export async function findOrder(target: Target, number: string, options: { lock?: boolean } = {}): Promise<Order | undefined> {
  const { rows } = await execute<OrderRow>(
    target,
    `SELECT ${ORDER_COLUMNS} FROM purchase_orders po
     JOIN suppliers s ON s.id = po.supplier_id LEFT JOIN warehouses w ON w.code = po.ship_to
     WHERE po.number = $1 ${options.lock ? 'FOR UPDATE OF po' : ''}`,
    [number.toUpperCase()],
  );
  const row = rows[0];
  if (!row) return undefined;
  const id = Number(row.id);
  return toOrder(row, (await orderLines(target, [id])).get(id) ?? []);
}

/** The lines of some orders (by id), each order's in line order. */
export async function orderLines(target: Target, orderIds: readonly number[]): Promise<Map<number, OrderLine[]>> {
  const byOrder = new Map<number, OrderLine[]>();
  if (orderIds.length === 0) return byOrder;
  const { rows } = await execute<{
    po_id: string;
    line_no: number;
    sku: string;
    name: string;
    quantity: string;
    unit: string;
    unit_price: string;
    amount: string;
    received_quantity: string;
  }>(
    target,
    `SELECT l.po_id, l.line_no, l.sku, p.name, l.quantity, l.unit, l.unit_price, l.amount, l.received_quantity
     FROM purchase_order_lines l JOIN products p ON p.sku = l.sku WHERE l.po_id = ANY($1::bigint[]) ORDER BY l.po_id, l.line_no`,
    [orderIds],
  );
  for (const l of rows) {
    const id = Number(l.po_id);
    if (!byOrder.has(id)) byOrder.set(id, []);
    byOrder.get(id)!.push({
      lineNo: l.line_no,
      sku: l.sku,
      productName: l.name,
      quantity: Number(l.quantity),
      unit: l.unit,
      unitPrice: Number(l.unit_price),
      amount: Number(l.amount),
      receivedQuantity: Number(l.received_quantity),
    });
  }
  return byOrder;
}

export interface OrderFilter {
  requestedBy?: string;
  statuses?: readonly PoStatus[];
  supplier?: string;
  since?: string;
  limit?: number;
}

export interface OrderSummary extends Omit<Order, 'lines'> {
  lineCount: number;
}

export async function listOrders(target: Target, filter: OrderFilter): Promise<{ orders: OrderSummary[]; total: number }> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: (p: string) => string, value: unknown) => {
    params.push(value);
    where.push(sql(`$${params.length}`));
  };
  if (filter.requestedBy) add((p) => `po.requested_by = ${p}`, filter.requestedBy);
  if (filter.statuses?.length) add((p) => `po.status = ANY(${p}::text[])`, [...filter.statuses]);
  if (filter.supplier) add((p) => `s.name = ${p}`, filter.supplier);
  if (filter.since) add((p) => `po.created_at >= ${p}::date`, filter.since);
  const whereSql = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const count = await execute<{ n: string }>(
    target,
    `SELECT count(*) AS n FROM purchase_orders po JOIN suppliers s ON s.id = po.supplier_id ${whereSql}`,
    params,
  );
  params.push(filter.limit ?? 10);
  const { rows } = await execute<OrderRow>(
    target,
    `SELECT ${ORDER_COLUMNS}, (SELECT count(*) FROM purchase_order_lines l WHERE l.po_id = po.id) AS line_count
     FROM purchase_orders po JOIN suppliers s ON s.id = po.supplier_id LEFT JOIN warehouses w ON w.code = po.ship_to
     ${whereSql} ORDER BY po.created_at DESC, po.id DESC LIMIT $${params.length}`,
    params,
  );
  return {
    orders: rows.map((r) => {
      const { lines: _lines, ...order } = toOrder(r, []);
      return { ...order, lineCount: Number(r.line_count ?? 0) };
    }),
    total: Number(count.rows[0]?.n ?? 0),
  };
}

export interface NewOrder {
  supplierId: number;
  currency: string;
  shipTo: string | null;
  needBy: string | null;
  requestedBy: string;
  requestedByName: string | null;
  lines: { sku: string; quantity: number; unit: string; unitPrice: number }[];
}

/** Inserts a draft order with its lines; returns its number (PO-1101, PO-1102, …). */
export async function insertOrder(tx: QueryRunner, order: NewOrder): Promise<string> {
  const total = order.lines.reduce((sum, l) => sum + round2(l.quantity * l.unitPrice), 0);
  const { rows } = await execute<{ id: string; number: string }>(
    tx,
    `INSERT INTO purchase_orders (number, supplier_id, status, currency, total, ship_to, need_by, requested_by, requested_by_name)
     VALUES ('PO-' || nextval('purchase_order_number_seq'), $1, 'draft', $2, $3, $4, $5, $6, $7)
     RETURNING id, number`,
    [order.supplierId, order.currency, round2(total), order.shipTo, order.needBy, order.requestedBy, order.requestedByName],
  );
  const { id, number } = rows[0]!;
  let lineNo = 0;
  for (const line of order.lines) {
    lineNo += 1;
    await execute(
      tx,
      `INSERT INTO purchase_order_lines (po_id, line_no, sku, quantity, unit, unit_price, amount) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [id, lineNo, line.sku, line.quantity, line.unit, line.unitPrice, round2(line.quantity * line.unitPrice)],
    );
  }
  return number;
}

export type StatusChange = Omit<OrderChange, 'cancelRequest'>;

/**
 * Moves an order to `to` through the order table (for callers that name the target status, e.g.
 * goods receipts): the row from the order's status to `to` must exist, and the guarded write must
 * apply (the order is still in that status), else it throws and the caller's transaction rolls back.
 */
export async function setStatus(tx: QueryRunner, order: Order, to: PoStatus, change: StatusChange = {}): Promise<void> {
  const row = ORDER_MACHINE.rowTo(order.status, to);
  if (!row) throw new Error(`${order.number}: ${order.status} → ${to} is not allowed`);
  const outcome = await transitionOrder(tx, order.number, row.event, change);
  if (!outcome.ok) throw new Error(outcome.reason === 'not_found' ? `${order.number} not found` : outcome.message);
  applyChange(order, outcome.to, change);
}

/** Mirrors a transition into an `Order` already loaded. */
export function applyChange(order: Order, to: PoStatus, change: StatusChange): void {
  order.status = to;
  if (change.approvedBy) order.approvedBy = change.approvedBy;
  if (change.approvedByName) order.approvedByName = change.approvedByName;
  if (change.supplierReference) order.supplierReference = change.supplierReference;
  if (change.reason) order.statusReason = change.reason;
}

/** Where the order's creator asked from (to tell them what happened to it later). */
export async function creatorConversation(
  target: Target,
  number: string,
): Promise<{ channelId: string; conversationId: string } | undefined> {
  const { rows } = await execute<{ channel_id: string; conversation_id: string }>(
    target,
    `SELECT channel_id, conversation_id FROM automation_jobs
     WHERE subject_type = 'purchase_order' AND subject_id = $1 AND action = 'procurement.create_order'
     ORDER BY id LIMIT 1`,
    [number],
  );
  const row = rows[0];
  return row ? { channelId: row.channel_id, conversationId: row.conversation_id } : undefined;
}

export function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
