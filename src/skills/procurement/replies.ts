import { ago, money, quantity, statusLabel } from '../format.js';
import type { JobRecord } from '../../jobs/types.js';
import type { CardSpec, SkillReply } from '../types.js';
import type { Order, OrderLine, OrderSummary } from './orders.js';

/** Wording and cards of the procurement skill. */

export const notFound = (number: string): SkillReply => ({
  text: `I can't find ${number}. Try "my orders" to see the ones you raised.`,
});

export function lineText(l: Pick<OrderLine, 'quantity' | 'unit' | 'productName' | 'sku'>): string {
  return `${quantity(l.quantity, l.unit)} of ${l.productName} (${l.sku})`;
}

export function linesText(lines: readonly Pick<OrderLine, 'quantity' | 'unit' | 'productName' | 'sku'>[]): string {
  return lines.map(lineText).join('; ');
}

export function shipToText(order: Pick<Order, 'shipTo' | 'shipToName'>): string {
  return order.shipTo ? `${order.shipTo}${order.shipToName ? ` ${order.shipToName}` : ''}` : '—';
}

export function linesTable(lines: readonly OrderLine[], currency: string): CardSpec['table'] {
  return {
    columns: ['SKU', 'Product', 'Qty', 'Unit price', 'Amount'],
    rows: lines.map((l) => [l.sku, l.productName, quantity(l.quantity, l.unit), money(l.unitPrice, currency), money(l.amount, currency)]),
  };
}

export function orderCard(order: Order, title = `${order.number} — ${statusLabel(order.status)}`): CardSpec {
  const facts = [
    { title: 'Supplier', value: order.supplier },
    { title: 'Status', value: statusLabel(order.status) },
    { title: 'Total', value: money(order.total, order.currency) },
    { title: 'Ship to', value: shipToText(order) },
  ];
  if (order.needBy) facts.push({ title: 'Need by', value: order.needBy });
  facts.push({ title: 'Requested by', value: order.requestedByName ?? order.requestedBy });
  if (order.approvedBy) {
    facts.push({
      title: 'Approved by',
      value: order.approvedBy === 'auto' ? 'automatic (under the limit)' : (order.approvedByName ?? order.approvedBy),
    });
  }
  if (order.supplierReference) facts.push({ title: 'Supplier ref', value: order.supplierReference });
  if (order.statusReason) facts.push({ title: 'Note', value: order.statusReason });
  return { title, facts, table: linesTable(order.lines, order.currency) };
}

export function statusReply(order: Order, job: JobRecord | undefined, lastEvent: string | undefined, now: Date): SkillReply {
  const parts = [
    `${order.number} with ${order.supplier} is ${statusLabel(order.status)}${order.supplierReference ? ` (supplier ref ${order.supplierReference})` : ''}.`,
    `${order.lines.length === 1 ? '1 line' : `${order.lines.length} lines`}: ${linesText(order.lines)}.`,
    `Total ${money(order.total, order.currency)}, delivering to ${shipToText(order)}.`,
    `Raised by ${order.requestedByName ?? order.requestedBy} ${ago(order.createdAt, now)}.`,
  ];
  if (order.status === 'pending_approval') parts.push('It is waiting for an approver.');
  if (order.statusReason && (order.status === 'cancelled' || order.status === 'rejected')) parts.push(`Reason: ${order.statusReason}.`);
  if (job) {
    parts.push(`Latest automation: job ${job.id} (${job.action.split('.')[1]?.replace(/_/g, ' ')}) ${statusLabel(job.status)}${lastEvent ? ` — ${lastEvent}` : ''}.`);
  }
  const card = orderCard(order);
  if (job) card.notes = [`Job ${job.id}: ${statusLabel(job.status)}${lastEvent ? ` — ${lastEvent}` : ''}`];
  // With the card (facts, lines, job) the first sentence is enough.
  return { text: parts.join(' '), cardText: parts[0], card };
}

/** `description` is plural ("pending approval purchase orders …"); one order reads in the singular. */
export function listReply(orders: readonly OrderSummary[], total: number, description: string): SkillReply {
  if (orders.length === 0) return { text: `No ${description} found.` };
  const what = total === 1 ? description.replace('purchase orders', 'purchase order') : description;
  const header =
    total > orders.length
      ? `${total} ${what}; the ${orders.length} most recent:`
      : `${total} ${what}:`;
  const rows = orders.map(
    (o) => `• ${o.number} · ${o.supplier} · ${statusLabel(o.status)} · ${money(o.total, o.currency)} · ${o.requestedByName ?? o.requestedBy}`,
  );
  return {
    text: [header, ...rows].join('\n'),
    cardText: header,
    card: {
      title: 'Purchase orders',
      table: {
        columns: ['Order', 'Supplier', 'Status', 'Total', 'Requested by', 'Created'],
        rows: orders.map((o) => [
          o.number,
          o.supplier,
          statusLabel(o.status),
          money(o.total, o.currency),
          o.requestedByName ?? o.requestedBy,
          o.createdAt.toISOString().slice(0, 10),
        ]),
      },
    },
  };
}
