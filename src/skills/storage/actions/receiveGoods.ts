import { findWarehouse, type MasterRecords } from '../../data/masterData.js';
import { listing, quantity, statusLabel } from '../../format.js';
import { findOrder, type Order } from '../../procurement/orders.js';
import type { CheckResult, Draft, SkillContext, SkillReply, WriteAction } from '../../types.js';
import { extractReceipt, type DraftLine } from '../extract.js';
import {
  findShipment,
  openShipmentsOf,
  planReceipt,
  RECEIVABLE_PO,
  receiptsOf,
  receiptsOfShipment,
  receiveBlock,
  shipmentLeft,
  type PlanResult,
  type Shipment,
} from '../receipts.js';
import { binText, canHandleStock, goodsText, notAllowed, pct, receiptCard, receiptNotes, shown, warehouseText } from '../replies.js';
import { receiveGoodsSchema, type ReceiveGoodsSlots } from '../schemas.js';
import { binsOf } from '../stock.js';
import { requestedInTurn } from '../../turnJob.js';

const MAX_QUANTITY = 1_000_000;

type Ask = Extract<CheckResult<ReceiveGoodsSlots>, { status: 'ask' }>;
const ask = (slot: string, text: string, choices?: string[]): Ask => ({ status: 'ask', slot, text, choices });
const refuse = (text: string): CheckResult<ReceiveGoodsSlots> => ({ status: 'refuse', reply: { text } });

/** Quantities as a spreadsheet may give them ("40", "1,200"). */
function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^\s*\d[\d,]*(?:\.\d+)?\s*$/.test(v)) return Number(v.replace(/[,\s]/g, ''));
  return undefined;
}

const ID = { po: /^PO-\d{1,12}$/, shipment: /^SH-\d{1,12}$/, warehouse: /^WH-[A-Z0-9]{1,8}$/, bin: /^[A-Z0-9]{1,6}(?:-[A-Z0-9]{1,6}){0,3}$/ };

/** Malformed ids get a plain answer before any look-up. */
function malformed(draft: Draft): string | undefined {
  const what = { po: 'a purchase order number (like PO-1007)', shipment: 'a shipment number (like SH-2001)', warehouse: 'a warehouse code (like WH-A)', bin: 'a bin code (like A-01-01)' };
  for (const key of ['po', 'shipment', 'warehouse', 'bin'] as const) {
    const v = draft[key];
    if (v === undefined) continue;
    if (typeof v !== 'string' || !ID[key].test(v.trim().toUpperCase())) return `"${shown(String(v))}" isn't ${what[key]}, so I did nothing.`;
  }
  return undefined;
}

function normalized(draft: Draft): Draft {
  const d: Draft = { ...draft };
  for (const key of ['po', 'shipment', 'warehouse', 'bin']) if (typeof d[key] === 'string') d[key] = (d[key] as string).trim().toUpperCase();
  return d;
}

const outstanding = (order: Order) =>
  order.lines.filter((l) => l.receivedQuantity < l.quantity).map((l) => ({ sku: l.sku, quantity: l.quantity - l.receivedQuantity }));

function expectedText(order: Order): string {
  return listing(
    order.lines
      .filter((l) => l.receivedQuantity < l.quantity)
      .map((l) => `${quantity(l.quantity - l.receivedQuantity, l.unit)} of ${l.sku} ${l.productName}`),
  );
}

function poRefusal(order: Order, receipts: string[]): string | undefined {
  if (RECEIVABLE_PO.includes(order.status)) return undefined;
  if (order.status === 'received') {
    return `${order.number} is already fully received${receipts.length ? ` (${listing(receipts)})` : ''}, so there is nothing left to receive on it.`;
  }
  if (order.status === 'cancelled' || order.status === 'rejected') {
    return `${order.number} is ${statusLabel(order.status)}, so goods can't be received against it.`;
  }
  return `${order.number} hasn't been sent to ${order.supplier} yet (it is ${statusLabel(order.status)}), so there is nothing to receive on it.`;
}

/** The shipment named, or an open one of the order that can be received; or why not. */
async function resolveShipment(draft: Draft, order: Order | undefined, ctx: SkillContext): Promise<{ shipment?: Shipment; refusal?: string }> {
  if (typeof draft.shipment === 'string') {
    const shipment = await findShipment(ctx.env.db, draft.shipment);
    if (!shipment || shipment.direction !== 'inbound') return { refusal: `I can't find an inbound shipment ${draft.shipment}. Nothing was booked.` };
    const block = receiveBlock(shipment);
    if (block) {
      const receipts = shipment.status === 'delivered' ? await receiptsOfShipment(ctx.env.db, shipment.number) : [];
      const when = shipment.status === 'at_customs' || shipment.status === 'in_transit' ? ' I can receive it once customs has cleared it.' : '';
      return { refusal: `I can't receive ${shipment.number}: ${block}${receipts.length ? ` (${listing(receipts)})` : ''}. Nothing was booked.${when}` };
    }
    if (!shipment.po) return { refusal: `${shipment.number} isn't linked to a purchase order, so I can't book it against one.` };
    return { shipment };
  }
  if (!order) return {};
  const open = await openShipmentsOf(ctx.env.db, order.number);
  if (open.length === 0) return {};
  const ready = open.find((s) => !receiveBlock(s));
  if (ready) return { shipment: ready };
  const first = open[0]!;
  return {
    refusal: `I can't receive ${order.number} yet: its goods are on ${first.number}, and ${receiveBlock(first)}. Nothing was booked. I can receive it once customs has cleared it.`,
  };
}

async function checkWarehouse(draft: Draft, md: MasterRecords, order: Order, shipment: Shipment | undefined): Promise<string | Ask> {
  const warehouse = typeof draft.warehouse === 'string' ? draft.warehouse : (shipment?.warehouse ?? order.shipTo ?? undefined);
  const options = md.warehouses.map((w) => warehouseText(w.code, w.name));
  if (!warehouse) return ask('warehouse', `Which warehouse are the goods for: ${listing(options, 'or')}?`, md.warehouses.map((w) => w.code));
  if (!findWarehouse(md, warehouse)) {
    const usual = shipment?.warehouse ?? order.shipTo;
    const whose = shipment?.warehouse ? shipment.number : order.number;
    return ask(
      'warehouse',
      `I don't know warehouse ${warehouse}. Which one are the goods for: ${listing(options, 'or')}?${usual ? ` (${whose} delivers to ${usual}.)` : ''}`,
      md.warehouses.map((w) => w.code),
    );
  }
  return warehouse;
}

/** Lines from the draft: named ones, or "everything" (the shipment's, else what the order still expects). */
function draftLines(draft: Draft, order: Order, shipment: Shipment | undefined): DraftLine[] {
  // Lines may come from an LLM tool call or a spreadsheet: keep only objects.
  const lines = (Array.isArray(draft.lines) ? draft.lines : []).filter((l): l is DraftLine => typeof l === 'object' && l !== null);
  if (lines.length > 0) {
    // "40" for an order of one product: that product.
    const only = order.lines.length === 1 ? order.lines[0]!.sku : undefined;
    return lines.map((l) => ({ sku: typeof l.sku === 'string' ? l.sku.trim().toUpperCase() : only, quantity: toNumber(l.quantity) }));
  }
  // A shipment says what arrived: what it carries that no receipt has booked yet.
  if (draft.all === true || shipment) return shipment ? shipmentLeft(shipment) : outstanding(order);
  return [];
}

function shipmentAfterText(shipment: Shipment, lines: readonly { sku: string; quantity: number }[]): string {
  const left = shipmentLeft(shipment, lines);
  if (left.length === 0) return `${shipment.number} will be delivered.`;
  return `${shipment.number} stays open: ${listing(left.map((l) => `${quantity(l.quantity)} ${l.sku}`))} on it not received yet.`;
}

function checkLines(lines: DraftLine[], order: Order): Ask | undefined {
  const onOrder = listing(order.lines.map((l) => `${l.sku} ${l.productName}`));
  if (lines.length === 0) {
    const expected = expectedText(order);
    return ask(
      'lines',
      `What arrived for ${order.number}? It still expects ${expected}. Say for example "${order.lines[0]!.quantity - order.lines[0]!.receivedQuantity} ${order.lines[0]!.sku}", or "everything".`,
      ['everything'],
    );
  }
  for (const [i, line] of lines.entries()) {
    if (!line.sku) return ask(`sku:${i}`, `Which product are the ${quantity(line.quantity ?? 0)} for? ${order.number} has ${onOrder}.`);
    const poLine = order.lines.find((l) => l.sku === line.sku);
    if (!poLine) return ask(`sku:${i}`, `${line.sku} isn't on ${order.number}, which has ${onOrder}. Which product arrived?`, order.lines.map((l) => l.sku));
    const left = Math.max(0, poLine.quantity - poLine.receivedQuantity);
    if (line.quantity === undefined) {
      return ask(`quantity:${i}`, `How many ${poLine.productName} (${poLine.sku}) arrived? ${order.number} expects ${quantity(left, poLine.unit)} more.`);
    }
    if (!(line.quantity > 0) || line.quantity > MAX_QUANTITY || !Number.isInteger(line.quantity)) {
      return ask(`quantity:${i}`, `${poLine.productName} are counted in whole ${poLine.unit}s, from 1 to ${MAX_QUANTITY.toLocaleString('en-US')}. How many arrived?`);
    }
  }
  return undefined;
}

/** Same product twice ("20 SKU-1001 … and 5 more SKU-1001"): one line with the sum. */
function mergeLines(lines: DraftLine[]): { sku: string; quantity: number }[] {
  const out = new Map<string, number>();
  for (const l of lines) out.set(l.sku!, (out.get(l.sku!) ?? 0) + l.quantity!);
  return [...out].map(([sku, q]) => ({ sku, quantity: q }));
}

function tooManyText(order: Order, plan: Extract<PlanResult, { status: 'too_many' }>): string {
  const left = Math.max(0, plan.max - plan.before);
  return (
    `I can't book ${quantity(plan.quantity, plan.unit)} of ${plan.sku}: ${order.number} ordered ${quantity(plan.ordered, plan.unit)}` +
    `${plan.before > 0 ? ` and ${quantity(plan.before, plan.unit)} were already received` : ''}, and I accept at most ${pct} over the order ` +
    `(${quantity(plan.max, plan.unit)} in all, so ${quantity(left, plan.unit)} now). Count again, or ask the buyer to amend the order first.`
  );
}

export function receiveGoodsAction(): WriteAction<ReceiveGoodsSlots> {
  return {
    kind: 'write',
    name: 'storage.receive_goods',
    description:
      'Receive goods into a warehouse against a purchase order or an inbound shipment (which must have cleared customs): quantities per line, put-away bins, order status. Confirmed with the user first.',
    schema: receiveGoodsSchema,
    help:
      'To receive goods tell me the purchase order or shipment (e.g. "receive goods for PO-1007", "receive goods from SH-2001") and what arrived ' +
      '("400 SKU-1001 and 10 SKU-1005", or "everything"). I put each product in the bin that already holds it, else in a free one; ' +
      `name a bin ("into bin A-03-01") or another warehouse to override. Up to ${pct} over the order is accepted and noted. Say "cancel" to stop.`,
    extract: extractReceipt,
    editExamples: '"make it 30", "15 SKU-1001" or "into bin A-03-01"',

    async check(input, ctx) {
      if (!canHandleStock(ctx.actor)) return { status: 'refuse', reply: notAllowed(ctx.actor, 'receive goods') };
      const bad = malformed(input);
      if (bad) return refuse(bad);
      const draft = normalized(input);
      const md = await ctx.env.masterData.get();
      const named = typeof draft.po === 'string' ? draft.po : undefined;
      let order = named ? await findOrder(ctx.env.db, named) : undefined;
      if (named && !order) return refuse(`I can't find ${named}. Nothing was booked.`);
      if (order) {
        const refusal = poRefusal(order, order.status === 'received' ? await receiptsOf(ctx.env.db, order.number) : []);
        if (refusal) return refuse(refusal);
      }
      const { shipment, refusal } = await resolveShipment(draft, order, ctx);
      if (refusal) return refuse(refusal);
      if (shipment && order && shipment.po !== order.number) {
        return refuse(`${shipment.number} carries goods for ${shipment.po}, not ${order.number}. Which one did you mean?`);
      }
      if (!order && shipment?.po) {
        order = await findOrder(ctx.env.db, shipment.po);
        const poProblem = order ? poRefusal(order, await receiptsOf(ctx.env.db, order.number)) : `I can't find ${shipment.po}.`;
        if (poProblem) return refuse(`${shipment.number} is for ${shipment.po}, but ${poProblem}`);
      }
      if (!order) return ask('po', 'Which purchase order or shipment are the goods for? For example PO-1007 or SH-2001.');

      const warehouse = await checkWarehouse(draft, md, order, shipment);
      if (typeof warehouse !== 'string') return warehouse;
      const bins = await binsOf(ctx.env.db, warehouse);
      if (bins.length === 0) return refuse(`${warehouse} has no bins set up, so I can't put anything away there.`);
      let bin: string | undefined;
      if (typeof draft.bin === 'string') {
        bin = draft.bin;
        if (!bins.some((b) => b.code === bin)) {
          return ask('bin', `${warehouse} has no bin ${bin}. Which bin should it go to: ${listing(bins.map((b) => b.code), 'or')}?`, bins.map((b) => b.code));
        }
      }

      const lines = draftLines(draft, order, shipment);
      const problem = checkLines(lines, order);
      if (problem) return problem;
      const merged = mergeLines(lines);
      const planned = await planReceipt(ctx.env.db, order, merged, warehouse, bin);
      if (planned.status === 'too_many') {
        const i = lines.findIndex((l) => l.sku === planned.sku);
        return ask(`quantity:${Math.max(0, i)}`, `${tooManyText(order, planned)} How many should I book?`);
      }
      if (planned.status === 'not_on_order') return ask('lines', `${planned.sku} isn't on ${order.number}. What arrived?`);
      if (planned.status === 'no_bin') return refuse(`${warehouse} has no bin to put the goods in.`);

      const slots: ReceiveGoodsSlots = { po: order.number, lines: merged, warehouse };
      if (bin) slots.bin = bin;
      if (shipment) slots.shipment = shipment.number;
      const parsed = receiveGoodsSchema.safeParse(slots);
      if (!parsed.success) {
        return ask('edit', `Something in that receipt doesn't add up (${parsed.error.issues[0]?.message}). What should I change?`);
      }
      return { status: 'ready', slots: parsed.data };
    },

    async confirm(slots, ctx) {
      const md = await ctx.env.masterData.get();
      const order = (await findOrder(ctx.env.db, slots.po))!;
      const shipment = slots.shipment ? ((await findShipment(ctx.env.db, slots.shipment)) ?? null) : null;
      const warehouse = slots.warehouse ?? order.shipTo!;
      const planned = await planReceipt(ctx.env.db, order, slots.lines, warehouse, slots.bin);
      if (planned.status !== 'ok') throw new Error(`${slots.po}: receipt no longer plans (${planned.status})`);
      const { plan } = planned;
      const name = findWarehouse(md, warehouse)?.name;
      const text = [
        `Please confirm this goods receipt against ${order.number} (${order.supplier})${shipment ? ` from shipment ${shipment.number}` : ''} into ${warehouseText(warehouse, name)}:`,
        ...plan.lines.map((l) => `• ${goodsText(l)} → bin ${binText(l.putAway)}`),
        ...receiptNotes(order, plan),
        `${order.number} will then be ${statusLabel(plan.poStatusAfter)}.${shipment ? ` ${shipmentAfterText(shipment, slots.lines)}` : ''}`,
        'Shall I book it? Say yes, no, or tell me what to change (e.g. "make it 30" or "into bin A-03-01").',
      ].join('\n');
      const card = receiptCard('Receive these goods?', order, plan, {
        warehouse,
        warehouseName: name,
        shipment,
        shipmentAfter: shipment ? (shipmentLeft(shipment, slots.lines).length === 0 ? 'delivered' : 'open (more to receive)') : undefined,
      });
      return { text, card };
    },

    async submit(slots, ctx, tx, key) {
      const { jobId } = await ctx.env.jobs.enqueue(tx, {
        skill: 'storage',
        action: 'storage.receive_goods',
        input: { ...slots },
        idempotencyKey: key,
        ...requestedInTurn(ctx),
        subject: { type: 'purchase_order', id: slots.po },
      });
      const what = slots.lines.map((l) => `${quantity(l.quantity)} ${l.sku}`).join(', ');
      const reply: SkillReply = {
        text: `On it: job ${jobId} is booking the receipt of ${what} against ${slots.po}${slots.shipment ? ` (${slots.shipment})` : ''} into ${slots.warehouse}. I'll tell you here when it's done.`,
      };
      return { jobId, reply, subject: { type: 'purchase_order', id: slots.po } };
    },
  };
}
