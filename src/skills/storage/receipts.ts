import type { DataSource, QueryRunner } from 'typeorm';
import { execute } from '../../db/sql.js';
import { setStatus, type Order, type PoStatus } from '../procurement/orders.js';
import { postMovement, putAwayBin, round3, type PutAway } from './stock.js';

/** Goods receipts: what a receipt against a purchase order (or its shipment) does, and booking it. */

type Target = DataSource | QueryRunner;

/**
 * Over-delivery policy: a line may be received up to 10% over what was ordered (suppliers round
 * up to full cartons and pallets); the excess is booked and noted on the receipt. Anything beyond
 * that is refused, so the buyer can amend the order or send the excess back first.
 */
export const OVER_DELIVERY_TOLERANCE = 0.1;

/** Purchase order statuses goods can be received against. */
export const RECEIVABLE_PO: readonly PoStatus[] = ['sent', 'confirmed', 'partially_received'];

export interface Shipment {
  id: number;
  number: string;
  direction: string;
  status: string;
  po: string | null;
  warehouse: string | null;
  warehouseCountry: string | null;
  originCountry: string | null;
  eta: string | null;
  carrier: string | null;
  declaration: { number: string; status: string } | null;
  /** What it carries per product, and how much of that receipts against it have booked. */
  lines: { sku: string; quantity: number; received: number }[];
}

interface ShipmentRow {
  id: string;
  number: string;
  direction: string;
  status: string;
  po: string | null;
  warehouse_code: string | null;
  warehouse_country: string | null;
  origin_country: string | null;
  eta: string | null;
  carrier: string | null;
  declaration: string | null;
  declaration_status: string | null;
}

const SHIPMENT_COLUMNS = `s.id, s.number, s.direction, s.status, po.number AS po, s.warehouse_code, w.country AS warehouse_country,
  s.origin_country, to_char(s.eta, 'YYYY-MM-DD') AS eta, s.carrier,
  (SELECT d.number FROM customs_declarations d WHERE d.shipment_id = s.id ORDER BY d.id DESC LIMIT 1) AS declaration,
  (SELECT d.status FROM customs_declarations d WHERE d.shipment_id = s.id ORDER BY d.id DESC LIMIT 1) AS declaration_status`;
const SHIPMENT_FROM = `shipments s LEFT JOIN purchase_orders po ON po.id = s.po_id LEFT JOIN warehouses w ON w.code = s.warehouse_code`;

async function shipmentLines(target: Target, shipmentId: number | string): Promise<Shipment['lines']> {
  const { rows } = await execute<{ sku: string; quantity: string; received: string }>(
    target,
    `SELECT sl.sku, SUM(sl.quantity) AS quantity,
            COALESCE((SELECT SUM(grl.quantity) FROM goods_receipt_lines grl JOIN goods_receipts gr ON gr.id = grl.receipt_id
                      WHERE gr.shipment_id = sl.shipment_id AND grl.sku = sl.sku), 0) AS received
     FROM shipment_lines sl WHERE sl.shipment_id = $1
     GROUP BY sl.shipment_id, sl.sku ORDER BY MIN(sl.line_no)`,
    [shipmentId],
  );
  return rows.map((l) => ({ sku: l.sku, quantity: Number(l.quantity), received: Number(l.received) }));
}

/** What a shipment still carries that no receipt has booked (after `receiving`, if given). */
export function shipmentLeft(s: Shipment, receiving: readonly ReceiptLineInput[] = []): { sku: string; quantity: number }[] {
  return s.lines
    .map((l) => ({
      sku: l.sku,
      quantity: round3(l.quantity - l.received - receiving.filter((r) => r.sku === l.sku).reduce((sum, r) => sum + r.quantity, 0)),
    }))
    .filter((l) => l.quantity > 0);
}

async function toShipment(target: Target, r: ShipmentRow): Promise<Shipment> {
  return {
    id: Number(r.id),
    number: r.number,
    direction: r.direction,
    status: r.status,
    po: r.po,
    warehouse: r.warehouse_code,
    warehouseCountry: r.warehouse_country?.trim() ?? null,
    originCountry: r.origin_country?.trim() ?? null,
    eta: r.eta,
    carrier: r.carrier,
    declaration: r.declaration ? { number: r.declaration, status: r.declaration_status ?? 'unknown' } : null,
    lines: await shipmentLines(target, r.id),
  };
}

export async function findShipment(target: Target, number: string, options: { lock?: boolean } = {}): Promise<Shipment | undefined> {
  const { rows } = await execute<ShipmentRow>(
    target,
    `SELECT ${SHIPMENT_COLUMNS} FROM ${SHIPMENT_FROM} WHERE s.number = $1 ${options.lock ? 'FOR UPDATE OF s' : ''}`,
    [number.toUpperCase()],
  );
  return rows[0] ? toShipment(target, rows[0]) : undefined;
}

/** Inbound shipments of an order that have not arrived (or been cancelled) yet. */
export async function openShipmentsOf(target: Target, poNumber: string): Promise<Shipment[]> {
  const { rows } = await execute<ShipmentRow>(
    target,
    `SELECT ${SHIPMENT_COLUMNS} FROM ${SHIPMENT_FROM}
     WHERE po.number = $1 AND s.direction = 'inbound' AND s.status NOT IN ('delivered', 'cancelled') ORDER BY s.id`,
    [poNumber.toUpperCase()],
  );
  return Promise.all(rows.map((r) => toShipment(target, r)));
}

/** A domestic shipment crosses no border: it can be received straight from transit. */
const isDomestic = (s: Shipment) => !!s.originCountry && s.originCountry === s.warehouseCountry;

/**
 * Why a shipment cannot be received now, or undefined when it can: it must have cleared customs
 * (the customs skill sets `cleared`), or be a domestic one that has left the supplier.
 */
export function receiveBlock(s: Shipment): string | undefined {
  const declaration = s.declaration ? ` (declaration ${s.declaration.number} is ${s.declaration.status.replace(/_/g, ' ')})` : '';
  switch (s.status) {
    case 'cleared':
      return undefined;
    case 'in_transit':
      if (isDomestic(s)) return undefined;
      return `${s.number} is still in transit${s.eta ? ` (ETA ${s.eta})` : ''} and has not cleared customs yet${declaration}`;
    case 'at_customs':
      return `${s.number} is still held at customs${declaration || ' (no declaration filed yet)'}`;
    case 'planned':
      return `${s.number} has not left the supplier yet`;
    case 'delivered':
      return `${s.number} was already received`;
    case 'cancelled':
      return `${s.number} was cancelled`;
    default:
      return `${s.number} is ${s.status.replace(/_/g, ' ')}`;
  }
}

/** Mark a received shipment delivered (only from a receivable state). */
export async function markDelivered(tx: QueryRunner, shipmentId: number): Promise<void> {
  await execute(
    tx,
    `UPDATE shipments SET status = 'delivered', updated_at = now() WHERE id = $1 AND status IN ('cleared', 'in_transit')`,
    [shipmentId],
  );
}

// ------------------------------------------------------------------------------------ planning

export interface ReceiptLineInput {
  sku: string;
  quantity: number;
}

export interface PlannedLine {
  poLineNo: number;
  sku: string;
  productName: string;
  unit: string;
  ordered: number;
  /** Received before this receipt. */
  before: number;
  quantity: number;
  /** What the order still expects after this receipt (0 when complete or over). */
  outstandingAfter: number;
  /** How much of this receipt is over the ordered quantity. */
  over: number;
  putAway: PutAway;
}

export interface ReceiptPlan {
  lines: PlannedLine[];
  /** Lines of the order not in this receipt that still expect goods. */
  stillOpen: { sku: string; productName: string; unit: string; outstanding: number }[];
  /** The order's status once this receipt is booked. */
  poStatusAfter: PoStatus;
}

export type PlanResult =
  | { status: 'ok'; plan: ReceiptPlan }
  | { status: 'not_on_order'; sku: string }
  | { status: 'too_many'; sku: string; productName: string; unit: string; ordered: number; before: number; quantity: number; max: number }
  | { status: 'no_bin' };

/** The most that may be received in all on an ordered quantity (tolerance, whole units). */
export function maxReceivable(ordered: number): number {
  return Math.floor(round3(ordered * (1 + OVER_DELIVERY_TOLERANCE)));
}

/**
 * Matches receipt lines to the order's lines (same SKU on several lines: the first still open),
 * checks the over-delivery policy, and picks each line's bin (`bin` if the user named one).
 */
export async function planReceipt(
  target: Target,
  order: Order,
  lines: readonly ReceiptLineInput[],
  warehouse: string,
  bin?: string,
): Promise<PlanResult> {
  const received = new Map(order.lines.map((l) => [l.lineNo, l.receivedQuantity]));
  const planned: PlannedLine[] = [];
  const taken = new Set<string>();
  for (const line of lines) {
    const candidates = order.lines.filter((l) => l.sku === line.sku);
    if (candidates.length === 0) return { status: 'not_on_order', sku: line.sku };
    const poLine = candidates.find((l) => received.get(l.lineNo)! < l.quantity) ?? candidates[0]!;
    const before = received.get(poLine.lineNo)!;
    const after = round3(before + line.quantity);
    const max = maxReceivable(poLine.quantity);
    if (after > max) {
      return {
        status: 'too_many',
        sku: line.sku,
        productName: poLine.productName,
        unit: poLine.unit,
        ordered: poLine.quantity,
        before,
        quantity: line.quantity,
        max,
      };
    }
    received.set(poLine.lineNo, after);
    const putAway: PutAway | undefined = bin ? { bin, reason: 'chosen' } : await putAwayBin(target, warehouse, line.sku, taken);
    if (!putAway) return { status: 'no_bin' };
    if (putAway.reason === 'free') taken.add(putAway.bin);
    planned.push({
      poLineNo: poLine.lineNo,
      sku: line.sku,
      productName: poLine.productName,
      unit: poLine.unit,
      ordered: poLine.quantity,
      before,
      quantity: line.quantity,
      outstandingAfter: Math.max(0, round3(poLine.quantity - after)),
      over: Math.max(0, round3(after - Math.max(before, poLine.quantity))),
      putAway,
    });
  }
  const inReceipt = new Set(planned.map((p) => p.poLineNo));
  const stillOpen = order.lines
    .filter((l) => !inReceipt.has(l.lineNo) && received.get(l.lineNo)! < l.quantity)
    .map((l) => ({ sku: l.sku, productName: l.productName, unit: l.unit, outstanding: round3(l.quantity - received.get(l.lineNo)!) }));
  const complete = order.lines.every((l) => received.get(l.lineNo)! >= l.quantity);
  return { status: 'ok', plan: { lines: planned, stillOpen, poStatusAfter: complete ? 'received' : 'partially_received' } };
}

// ------------------------------------------------------------------------------------ booking

export interface BookedReceipt {
  number: string;
  plan: ReceiptPlan;
  /** The shipment is now delivered (everything on it received), or what it still carries. */
  shipmentDelivered: boolean;
  shipmentLeft: { sku: string; quantity: number }[];
}

/**
 * Books a planned receipt in `tx` (the order row is locked by the caller): the receipt and its
 * lines, one ledger row per line, the order lines' received quantities, the order's status and
 * the shipment's. All or nothing, in the job's transaction.
 */
export async function bookReceipt(
  tx: QueryRunner,
  order: Order,
  plan: ReceiptPlan,
  meta: { warehouse: string; shipment: Shipment | null; jobId: number | null; actor: string; actorName?: string | null },
): Promise<BookedReceipt> {
  const { rows } = await execute<{ id: string; number: string }>(
    tx,
    `INSERT INTO goods_receipts (number, po_id, shipment_id, warehouse_code, job_id, received_by, received_by_name)
     VALUES ('GR-' || nextval('goods_receipt_number_seq'), $1, $2, $3, $4, $5, $6) RETURNING id, number`,
    [order.id, meta.shipment?.id ?? null, meta.warehouse, meta.jobId, meta.actor, meta.actorName ?? null],
  );
  const receipt = rows[0]!;
  for (const [i, line] of plan.lines.entries()) {
    await execute(
      tx,
      `INSERT INTO goods_receipt_lines (receipt_id, line_no, po_id, po_line_no, sku, quantity, ordered_quantity, previously_received,
                                        over_quantity, warehouse_code, bin_code)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [receipt.id, i + 1, order.id, line.poLineNo, line.sku, line.quantity, line.ordered, line.before, line.over, meta.warehouse, line.putAway.bin],
    );
    await postMovement(tx, {
      sku: line.sku,
      warehouse: meta.warehouse,
      bin: line.putAway.bin,
      quantity: line.quantity,
      kind: 'receipt',
      referenceType: 'goods_receipt',
      referenceId: receipt.number,
      jobId: meta.jobId,
      actor: meta.actor,
      note: `${order.number}${meta.shipment ? ` / ${meta.shipment.number}` : ''}${line.over > 0 ? `; ${line.over} over the order` : ''}`,
    });
    await execute(
      tx,
      'UPDATE purchase_order_lines SET received_quantity = received_quantity + $3 WHERE po_id = $1 AND line_no = $2',
      [order.id, line.poLineNo, line.quantity],
    );
  }
  if (order.status !== plan.poStatusAfter) {
    await setStatus(tx, order, plan.poStatusAfter, { reason: `${receipt.number} booked` });
  } else {
    await execute(tx, 'UPDATE purchase_orders SET updated_at = now() WHERE id = $1', [order.id]);
  }
  // A shipment is delivered once receipts have booked all it carries (a receiving list may book it row by row).
  let left: { sku: string; quantity: number }[] = [];
  if (meta.shipment) {
    left = shipmentLeft({ ...meta.shipment, lines: await shipmentLines(tx, meta.shipment.id) });
    if (left.length === 0) await markDelivered(tx, meta.shipment.id);
  }
  return { number: receipt.number, plan, shipmentDelivered: !!meta.shipment && left.length === 0, shipmentLeft: left };
}

/** The receipts booked against an order, oldest first (for "already received" answers). */
export async function receiptsOf(target: Target, poNumber: string): Promise<string[]> {
  const { rows } = await execute<{ number: string }>(
    target,
    `SELECT r.number FROM goods_receipts r JOIN purchase_orders po ON po.id = r.po_id WHERE po.number = $1 ORDER BY r.id`,
    [poNumber.toUpperCase()],
  );
  return rows.map((r) => r.number);
}

/** The receipts booked from a shipment, oldest first. */
export async function receiptsOfShipment(target: Target, shipmentNumber: string): Promise<string[]> {
  const { rows } = await execute<{ number: string }>(
    target,
    `SELECT r.number FROM goods_receipts r JOIN shipments s ON s.id = r.shipment_id WHERE s.number = $1 ORDER BY r.id`,
    [shipmentNumber.toUpperCase()],
  );
  return rows.map((r) => r.number);
}
