import type { QueryRunner } from 'typeorm';
import { execute } from '../../db/sql.js';
import type { Finish, JobHandler, JobRecord, Notice, StepResult } from '../../jobs/types.js';
import { quantity, statusLabel } from '../format.js';
import { creatorConversation, findOrder, type Order } from '../procurement/orders.js';
import { findShipment, planReceipt, RECEIVABLE_PO, receiveBlock, bookReceipt, type Shipment } from './receipts.js';
import { binText, goodsText, pct, receiptCard, receiptNotes, warehouseText } from './replies.js';
import type { ReceiveGoodsSlots, TransferStockSlots } from './schemas.js';
import { transitionTransfer } from './lifecycle.js';
import { bookTransfer, onHand, requestTransfer } from './stock.js';

/**
 * How storage writes are carried out. Both complete inside the job, without a connector: a goods
 * receipt and a stock transfer are bookings in our own ledger (the warehouse staff confirmed what
 * is physically there), so there is no outside system to wait for, and running them in the job's
 * transaction makes the booking, the job's status, its notifications and the audit row commit
 * together. They still run as jobs so they are durable, retried on a lost database connection,
 * listed by "what's still running?", and exactly-once per confirmation (the idempotency key
 * claims the job; a re-delivered job finds itself finished and does nothing).
 */

const requester = { requester: true } as const;

function failed(text: string, error: string = text): { kind: 'finish' } & Finish {
  return { kind: 'finish', status: 'failed', error, message: text, notices: [{ kind: 'failed', to: requester, reply: { text } }] };
}

async function names(tx: QueryRunner, sku: string, warehouses: string[]) {
  const product = await execute<{ name: string; unit: string }>(tx, 'SELECT name, unit FROM products WHERE sku = $1', [sku]);
  const found = await execute<{ code: string; name: string }>(tx, 'SELECT code, name FROM warehouses WHERE code = ANY($1::text[])', [warehouses]);
  const byCode = new Map(found.rows.map((w) => [w.code, w.name]));
  return {
    product: product.rows[0] ?? { name: sku, unit: 'unit' },
    warehouse: (code: string) => warehouseText(code, byCode.get(code)),
    warehouseName: (code: string) => byCode.get(code) ?? null,
  };
}

/** The order's buyer, wherever they raised it from (else their latest conversation). */
async function buyerTarget(tx: QueryRunner, order: Order): Promise<Notice['to']> {
  const conversation = await creatorConversation(tx, order.number);
  return conversation ? { conversation } : { userId: order.requestedBy };
}

async function receive(job: JobRecord, tx: QueryRunner): Promise<StepResult> {
  const input = job.input as unknown as ReceiveGoodsSlots;
  const order = await findOrder(tx, input.po, { lock: true });
  if (!order) return failed(`I couldn't book the receipt: ${input.po} no longer exists. Nothing was booked.`);
  if (!RECEIVABLE_PO.includes(order.status)) {
    return failed(`I couldn't book the receipt against ${order.number}: it is ${statusLabel(order.status)} now. Nothing was booked.`);
  }
  let shipment: Shipment | null = null;
  if (input.shipment) {
    shipment = (await findShipment(tx, input.shipment, { lock: true })) ?? null;
    const block = shipment ? receiveBlock(shipment) : `${input.shipment} no longer exists`;
    if (block) return failed(`I couldn't book the receipt: ${block}. Nothing was booked.`);
  }
  const warehouse = input.warehouse ?? order.shipTo!;
  // Planned again under the order's row lock: another receipt may have been booked since the confirmation.
  const planned = await planReceipt(tx, order, input.lines, warehouse, input.bin);
  if (planned.status === 'too_many') {
    return failed(
      `I couldn't book ${quantity(planned.quantity, planned.unit)} of ${planned.sku} against ${order.number}: with what was received since you confirmed (${quantity(planned.before, planned.unit)} of ${quantity(planned.ordered, planned.unit)}), that is more than ${pct} over the order. Nothing was booked.`,
    );
  }
  if (planned.status !== 'ok') return failed(`I couldn't book the receipt against ${order.number} (${planned.status.replace(/_/g, ' ')}). Nothing was booked.`);
  const booked = await bookReceipt(tx, order, planned.plan, {
    warehouse,
    shipment,
    jobId: job.id,
    actor: job.requestedBy,
    actorName: job.requestedByName,
  });
  const { plan } = booked;
  const where = await names(tx, plan.lines[0]!.sku, [warehouse]);
  const goods = plan.lines.map((l) => `${goodsText(l)} → ${binText(l.putAway)}`).join('; ');
  const notes = receiptNotes(order, plan);
  const shipmentText = !shipment
    ? ''
    : booked.shipmentDelivered
      ? ` ${shipment.number} is delivered.`
      : ` ${shipment.number} stays open: ${booked.shipmentLeft.map((l) => `${quantity(l.quantity)} ${l.sku}`).join(', ')} on it not received yet.`;
  const after = `${order.number} is now ${statusLabel(order.status)}.${shipmentText}`;
  const text = `📦 ${booked.number} booked into ${where.warehouse(warehouse)}: ${goods}. ${after}${notes.length ? ` ${notes.join(' ')}` : ''}`;
  const card = receiptCard(
    `${booked.number} — ${order.number} ${statusLabel(order.status)}`,
    order,
    plan,
    {
      warehouse,
      warehouseName: where.warehouseName(warehouse),
      shipment,
      shipmentAfter: booked.shipmentDelivered ? 'delivered' : 'open (more to receive)',
    },
    'Order status',
  );
  const notices: Notice[] = [
    { kind: 'completed', to: requester, reply: { text, cardText: `📦 ${booked.number} booked into ${where.warehouse(warehouse)}. ${after}`, card } },
  ];
  if (order.requestedBy !== job.requestedBy) {
    const who = job.requestedByName ?? job.requestedBy;
    const intro = `📦 Goods arrived for your ${order.number} (${order.supplier}): ${who} booked ${booked.number} into ${where.warehouse(warehouse)}`;
    const buyerText = `${intro} — ${plan.lines.map(goodsText).join('; ')}. ${after}${notes.length ? ` ${notes.join(' ')}` : ''}`;
    notices.push({ kind: 'info', to: await buyerTarget(tx, order), reply: { text: buyerText, cardText: `${intro}. ${after}`, card } });
  }
  return {
    kind: 'finish',
    status: 'succeeded',
    result: {
      receipt: booked.number,
      po: order.number,
      poStatus: order.status,
      shipment: shipment?.number ?? null,
      shipmentDelivered: booked.shipmentDelivered,
      warehouse,
      lines: plan.lines.map((l) => ({ sku: l.sku, quantity: l.quantity, bin: l.putAway.bin, over: l.over, outstanding: l.outstandingAfter })),
    },
    message: `${booked.number} booked; ${order.number} ${statusLabel(order.status)}`,
    notices,
    audit: {
      action: 'storage.goods_received',
      outcome: order.status,
      details: { receipt: booked.number, shipment: shipment?.number ?? null, over: plan.lines.filter((l) => l.over > 0).map((l) => ({ sku: l.sku, over: l.over })) },
    },
  };
}

async function transfer(job: JobRecord, tx: QueryRunner): Promise<StepResult> {
  const input = job.input as unknown as TransferStockSlots & { transfer?: string };
  // Jobs queued before transfers had a lifecycle carry no transfer number: request it now.
  const number = input.transfer ?? (await requestTransfer(tx, input, { jobId: job.id, actor: job.requestedBy, actorName: job.requestedByName }));
  const outcome = await bookTransfer(tx, number);
  const n = await names(tx, input.sku, [input.fromWarehouse, input.toWarehouse]);
  if (outcome.status === 'not_requested') {
    // Someone else already settled this transfer: say so, move nothing.
    const text = `${number} is already ${outcome.current ?? 'gone'}; nothing was moved now.`;
    const notices: Notice[] = [{ kind: 'info', to: requester, reply: { text } }];
    if (outcome.current === 'moved') return { kind: 'finish', status: 'succeeded', message: text, notices };
    return { kind: 'finish', status: 'failed', error: outcome.reason, message: text, notices };
  }
  const goods = goodsText({ quantity: input.quantity, unit: n.product.unit, productName: n.product.name, sku: input.sku });
  const source = `${n.warehouse(input.fromWarehouse)}${input.fromBin ? ` bin ${input.fromBin}` : ''}`;
  if (outcome.status === 'insufficient') {
    return failed(
      `❌ I couldn't move ${goods} from ${source}: only ${quantity(outcome.onHand, n.product.unit)} on hand there now — the stock changed after you confirmed (another transfer came first). Nothing was moved.`,
      `insufficient stock: ${outcome.onHand} on hand`,
    );
  }
  if (outcome.status === 'no_bin') return failed(`❌ I couldn't move ${goods}: ${input.toWarehouse} has no bin to put it in. Nothing was moved.`);
  const leftFrom = await onHand(tx, input.sku, input.fromWarehouse);
  const nowTo = await onHand(tx, input.sku, input.toWarehouse);
  const legs = outcome.legs.map((l) => l.bin).join(' + ');
  const levels =
    input.fromWarehouse === input.toWarehouse
      ? `${input.fromWarehouse} still has ${quantity(leftFrom, n.product.unit)} in all.`
      : `${input.fromWarehouse} now has ${quantity(leftFrom, n.product.unit)}, ${input.toWarehouse} ${quantity(nowTo, n.product.unit)}.`;
  const text = `✅ ${outcome.number}: moved ${goods} from ${n.warehouse(input.fromWarehouse)} (${legs}) to ${n.warehouse(input.toWarehouse)}, bin ${binText(outcome.to)}. ${levels}`;
  return {
    kind: 'finish',
    status: 'succeeded',
    result: { transfer: outcome.number, sku: input.sku, quantity: input.quantity, from: outcome.legs, to: outcome.to.bin },
    message: `${outcome.number}: ${quantity(input.quantity)} ${input.sku} ${input.fromWarehouse} → ${input.toWarehouse} ${outcome.to.bin}`,
    notices: [{ kind: 'completed', to: requester, reply: { text } }],
    audit: { action: 'storage.stock_moved', outcome: 'moved', details: { transfer: outcome.number, legs: outcome.legs, to: outcome.to.bin } },
  };
}

function deadLetter(what: string) {
  return async (job: JobRecord, error: string, tx: QueryRunner): Promise<Finish> => {
    // A requested transfer that will never be booked is abandoned (a no-op for any other state).
    const transfer = (job.input as { transfer?: unknown }).transfer;
    if (typeof transfer === 'string') await transitionTransfer(tx, transfer, 'give_up', { reason: error });
    const text = `⚠️ I couldn't ${what}: ${error}. I tried ${job.attempts} time${job.attempts === 1 ? '' : 's'}; nothing was booked, and job ${job.id} is in the dead-letter queue for an operator to look at.`;
    return {
      status: 'dead_letter',
      error,
      message: `Gave up after ${job.attempts} attempt${job.attempts === 1 ? '' : 's'}: ${error}`,
      notices: [{ kind: 'failed', to: requester, reply: { text } }],
      audit: { action: job.action, outcome: 'dead_letter', details: { error } },
    };
  };
}

const noConnector = async (): Promise<Finish> => ({ status: 'failed', message: 'Storage jobs do not use a connector', notices: [] });

export function storageJobHandlers(): JobHandler[] {
  return [
    { action: 'storage.receive_goods', run: receive, complete: noConnector, deadLetter: deadLetter('book the goods receipt') },
    { action: 'storage.transfer_stock', run: transfer, complete: noConnector, deadLetter: deadLetter('move the stock') },
  ];
}
