import { listing, quantity, statusLabel } from '../format.js';
import type { Order } from '../procurement/orders.js';
import type { Actor, CardSpec, SkillReply } from '../types.js';
import { describeRoles } from '../roles.js';
import type { PlannedLine, ReceiptPlan, Shipment } from './receipts.js';
import { OVER_DELIVERY_TOLERANCE } from './receipts.js';
import type { PutAway, StockBalance } from './stock.js';

/** Wording and cards of the storage skill. */

export const STOCK_ROLES = ['clerk', 'admin'] as const;

export function canHandleStock(actor: Actor): boolean {
  return actor.roles.some((r) => (STOCK_ROLES as readonly string[]).includes(r));
}

export function notAllowed(actor: Actor, what: string): SkillReply {
  return {
    text: `I can't ${what} for you: that needs the clerk role (warehouse staff), and yours is ${describeRoles(actor.roles)}. An admin can add it in USER_ROLES.`,
  };
}

const PUT_AWAY_WHY: Record<PutAway['reason'], string> = {
  chosen: 'as you asked',
  same_sku: 'already holds it',
  free: 'free bin',
  receiving: 'no free bin: receiving dock, put away later',
};

export function binText(p: PutAway): string {
  return `${p.bin} (${PUT_AWAY_WHY[p.reason]})`;
}

/** Ids as typed, shortened for replies (input may come from an LLM tool call or a spreadsheet). */
export const shown = (v: string): string => (v.length > 40 ? `${v.slice(0, 40)}…` : v);

export function warehouseText(code: string, name?: string | null): string {
  return name ? `${code} ${name}` : code;
}

export const pct = `${Math.round(OVER_DELIVERY_TOLERANCE * 100)}%`;

/** "400 pieces of steel bearings 6204 (SKU-1001)". */
export function goodsText(l: { quantity: number; unit: string; productName: string; sku: string }): string {
  return `${quantity(l.quantity, l.unit)} of ${l.productName} (${l.sku})`;
}

/** Over/under remarks for a receipt, one per line that has one, plus what the order still expects. */
export function receiptNotes(order: Pick<Order, 'number'>, plan: ReceiptPlan): string[] {
  const notes: string[] = [];
  for (const l of plan.lines) {
    if (l.over > 0) {
      notes.push(
        `Over-delivery: ${quantity(l.over, l.unit)} of ${l.sku} more than ordered (${quantity(l.before + l.quantity, l.unit)} received of ${quantity(l.ordered, l.unit)}); accepted within the ${pct} tolerance and noted on the receipt.`,
      );
    } else if (l.outstandingAfter > 0) {
      notes.push(`Under-delivery: ${quantity(l.outstandingAfter, l.unit)} of ${l.sku} still outstanding on ${order.number}.`);
    }
  }
  for (const o of plan.stillOpen) notes.push(`Not in this delivery: ${quantity(o.outstanding, o.unit)} of ${o.sku} still outstanding on ${order.number}.`);
  return notes;
}

function lineRow(l: PlannedLine): string[] {
  return [
    l.sku,
    l.productName,
    quantity(l.ordered, l.unit),
    quantity(l.before, l.unit),
    quantity(l.quantity, l.unit),
    binText(l.putAway),
  ];
}

export function receiptCard(
  title: string,
  order: Pick<Order, 'number' | 'supplier'>,
  plan: ReceiptPlan,
  where: { warehouse: string; warehouseName?: string | null; shipment?: Shipment | null; shipmentAfter?: string },
  statusTitle = 'Order after this',
): CardSpec {
  const facts = [
    { title: 'Purchase order', value: `${order.number} (${order.supplier})` },
    { title: 'Warehouse', value: warehouseText(where.warehouse, where.warehouseName) },
  ];
  if (where.shipment) facts.push({ title: 'Shipment', value: `${where.shipment.number}${where.shipment.carrier ? ` (${where.shipment.carrier})` : ''}` });
  facts.push({ title: statusTitle, value: statusLabel(plan.poStatusAfter) });
  if (where.shipment && where.shipmentAfter) facts.push({ title: statusTitle.replace('Order', 'Shipment'), value: where.shipmentAfter });
  const card: CardSpec = {
    title,
    facts,
    table: { columns: ['SKU', 'Product', 'Ordered', 'Received before', 'Now', 'Bin'], rows: plan.lines.map(lineRow) },
  };
  const notes = receiptNotes(order, plan);
  if (notes.length) card.notes = notes;
  return card;
}

// ------------------------------------------------------------------------------------ stock levels

export function binsText(rows: readonly StockBalance[]): string {
  return listing(rows.map((r) => `${r.quantity.toLocaleString('en-US', { maximumFractionDigits: 3 })} in ${r.bin}`));
}

