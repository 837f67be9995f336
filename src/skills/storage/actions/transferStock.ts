import { closestProduct, findProduct, findWarehouse, type MasterRecords, type ProductRecord } from '../../data/masterData.js';
import { listing, quantity } from '../../format.js';
import type { CheckResult, Draft, SkillContext, WriteAction } from '../../types.js';
import { extractTransfer } from '../extract.js';
import { binText, canHandleStock, goodsText, notAllowed, shown, warehouseText } from '../replies.js';
import { transferStockSchema, type TransferStockSlots } from '../schemas.js';
import { transferKey } from '../lifecycle.js';
import { attachTransferJob, availableToMove, binsOf, previewTransfer, requestTransfer, stockBalances, warehousesWithBin, type TransferRequest } from '../stock.js';
import { requestedInTurn } from '../../turnJob.js';

const MAX_QUANTITY = 1_000_000;

type Result = CheckResult<TransferStockSlots>;
const ask = (slot: string, text: string, choices?: string[]): Result => ({ status: 'ask', slot, text, choices });

function upper(draft: Draft, key: string): string | undefined {
  const v = draft[key];
  return typeof v === 'string' && v.trim() ? v.trim().toUpperCase() : undefined;
}

function resolveProduct(draft: Draft, md: MasterRecords): ProductRecord | Result {
  let sku = upper(draft, 'sku');
  if (!sku && typeof draft.unitHint === 'string') {
    // "move 20 pallets": the only product counted in pallets.
    const byUnit = md.products.filter((p) => p.unit === draft.unitHint);
    if (byUnit.length === 1) sku = byUnit[0]!.sku;
  }
  const examples = md.products.slice(0, 3).map((p) => `${p.sku} ${p.name}`);
  if (!sku) return ask('sku', `Which product should I move? For example ${listing(examples, 'or')}.`);
  const product = findProduct(md, sku);
  if (product) return product;
  const close = closestProduct(md, sku);
  if (close) {
    return {
      status: 'ask',
      slot: 'sku',
      text: `I can't find ${shown(sku)} in the product list. Did you mean ${close.sku} (${close.name})?`,
      suggestion: { patch: { sku: close.sku }, label: close.sku, onReject: { sku: null } },
    };
  }
  return ask('sku', `I can't find ${shown(sku)} in the product list. Which product do you mean? ${listing(examples, 'or')}.`);
}

/** A warehouse from the draft, or the one a named bin belongs to (when only one has it). */
async function resolveSide(
  draft: Draft,
  side: 'from' | 'to',
  product: ProductRecord,
  md: MasterRecords,
  ctx: SkillContext,
): Promise<{ warehouse: string; bin?: string } | Result> {
  const bin = upper(draft, `${side}Bin`);
  let warehouse = upper(draft, `${side}Warehouse`);
  if (!warehouse && bin) {
    const owners = await warehousesWithBin(ctx.env.db, bin);
    if (owners.length === 1) warehouse = owners[0];
    else if (side === 'to' && typeof draft.fromWarehouse === 'string' && owners.includes(draft.fromWarehouse.toUpperCase())) {
      warehouse = draft.fromWarehouse.toUpperCase();
    }
  }
  const choices = md.warehouses.map((w) => w.code);
  if (!warehouse) {
    if (side === 'from') {
      const held = await stockBalances(ctx.env.db, { sku: product.sku });
      const per = new Map<string, number>();
      for (const r of held) per.set(r.warehouse, (per.get(r.warehouse) ?? 0) + r.quantity);
      if (per.size === 0) return { status: 'refuse', reply: { text: `We have no ${product.name} (${product.sku}) on hand anywhere, so there is nothing to move.` } };
      const where = [...per].map(([code, q]) => `${warehouseText(code, findWarehouse(md, code)?.name)} (${quantity(q)})`);
      return ask('from', `From which warehouse? ${product.sku} is in ${listing(where)}.`, [...per.keys()]);
    }
    return ask('to', `Where to: ${listing(md.warehouses.map((w) => warehouseText(w.code, w.name)), 'or')}?`, choices);
  }
  if (!findWarehouse(md, warehouse)) {
    return ask(side, `I don't know warehouse ${shown(warehouse)}. ${side === 'from' ? 'From' : 'To'} which one: ${listing(md.warehouses.map((w) => warehouseText(w.code, w.name)), 'or')}?`, choices);
  }
  if (bin) {
    const bins = await binsOf(ctx.env.db, warehouse);
    if (!bins.some((b) => b.code === bin)) {
      return ask(`${side}Bin`, `${warehouse} has no bin ${shown(bin)}. Which bin: ${listing(bins.map((b) => b.code), 'or')}?`, bins.map((b) => b.code));
    }
  }
  return bin ? { warehouse, bin } : { warehouse };
}

const isResult = (v: unknown): v is Result => typeof v === 'object' && v !== null && 'status' in v;

export function transferStockAction(): WriteAction<TransferStockSlots> {
  return {
    kind: 'write',
    name: 'storage.transfer_stock',
    description: 'Move stock of one product between warehouses or between bins of one warehouse; never more than is on hand. Confirmed with the user first.',
    schema: transferStockSchema,
    help:
      'To move stock tell me the product, how many, from where and to where, e.g. "move 100 SKU-1001 from WH-A to WH-B" or ' +
      '"move 50 SKU-1001 from bin A-01-01 to bin A-03-01". Without a bin I take from the bins holding most and put it where that product already is, else in a free bin. Say "cancel" to stop.',
    extract: extractTransfer,
    editExamples: '"make it 50" or "from bin A-01-01 to bin A-03-01"',

    async check(draft, ctx) {
      if (!canHandleStock(ctx.actor)) return { status: 'refuse', reply: notAllowed(ctx.actor, 'move stock') };
      const md = await ctx.env.masterData.get();
      const product = resolveProduct(draft, md);
      if (isResult(product)) return product;
      const from = await resolveSide(draft, 'from', product, md, ctx);
      if (isResult(from)) return from;
      const to = await resolveSide(draft, 'to', product, md, ctx);
      if (isResult(to)) return to;
      if (from.warehouse === to.warehouse) {
        const bins = (await binsOf(ctx.env.db, to.warehouse)).map((b) => b.code).filter((b) => b !== from.bin);
        if (!to.bin) return ask('toBin', `That's within ${to.warehouse}: which bin should it go to? ${listing(bins, 'or')}.`, bins);
        if (from.bin === to.bin) return ask('toBin', `That's the bin it is already in. Which bin should it go to? ${listing(bins, 'or')}.`, bins);
      }
      const qty = typeof draft.quantity === 'number' ? draft.quantity : undefined;
      const req: Omit<TransferRequest, 'quantity'> = { sku: product.sku, fromWarehouse: from.warehouse, fromBin: from.bin, toWarehouse: to.warehouse, toBin: to.bin };
      const onHand = await availableToMove(ctx.env.db, req);
      const source = `${from.warehouse}${from.bin ? ` bin ${from.bin}` : ''}`;
      if (onHand <= 0) {
        return { status: 'refuse', reply: { text: `There is no ${product.name} (${product.sku}) in ${source}, so there is nothing to move. Nothing was changed.` } };
      }
      if (qty === undefined) {
        return ask('quantity', `How many ${product.name} (${product.sku}) should I move? ${source} has ${quantity(onHand, product.unit)}.`);
      }
      if (!(qty > 0) || qty > MAX_QUANTITY || !Number.isInteger(qty)) {
        return ask('quantity', `${product.name} are moved in whole ${product.unit}s, from 1 to ${MAX_QUANTITY.toLocaleString('en-US')}. How many should I move?`);
      }
      if (qty > onHand) {
        return ask(
          'quantity',
          `I can't move ${quantity(qty, product.unit)}: ${source} has only ${quantity(onHand, product.unit)} of ${product.name} (${product.sku}) on hand, and stock never goes below zero. How many should I move instead?`,
        );
      }
      if ((await previewTransfer(ctx.env.db, { ...req, quantity: qty })).status === 'no_bin') {
        return { status: 'refuse', reply: { text: `${to.warehouse} has no bin to put it in. Nothing was changed.` } };
      }
      const slots: TransferStockSlots = { sku: product.sku, quantity: qty, fromWarehouse: from.warehouse, toWarehouse: to.warehouse };
      if (from.bin) slots.fromBin = from.bin;
      if (to.bin) slots.toBin = to.bin;
      const parsed = transferStockSchema.safeParse(slots);
      if (!parsed.success) return ask('edit', `Something in that transfer doesn't add up (${parsed.error.issues[0]?.message}). What should I change?`);
      return { status: 'ready', slots: parsed.data };
    },

    async confirm(slots, ctx) {
      const md = await ctx.env.masterData.get();
      const product = findProduct(md, slots.sku)!;
      const preview = await previewTransfer(ctx.env.db, slots);
      if (preview.status !== 'ok') throw new Error(`transfer of ${slots.sku} no longer plans (${preview.status})`);
      const { plan } = preview;
      const fromName = findWarehouse(md, slots.fromWarehouse)?.name;
      const toName = findWarehouse(md, slots.toWarehouse)?.name;
      const goods = goodsText({ quantity: slots.quantity, unit: product.unit, productName: product.name, sku: product.sku });
      const fromBins = plan.legs.map((l) => `${l.bin} (${quantity(l.quantity)})`).join(', ');
      const text = [
        `Please confirm: move ${goods}`,
        `from ${warehouseText(slots.fromWarehouse, fromName)}, bin ${fromBins}`,
        `to ${warehouseText(slots.toWarehouse, toName)}, bin ${binText(plan.to)}.`,
        `${slots.fromWarehouse}${slots.fromBin ? ` ${slots.fromBin}` : ''} has ${quantity(plan.onHand, product.unit)} now; ${quantity(plan.onHand - slots.quantity, product.unit)} will be left.`,
        'Shall I move it? Say yes, no, or tell me what to change (e.g. "make it 50").',
      ].join('\n');
      return {
        text,
        card: {
          title: 'Move this stock?',
          facts: [
            { title: 'Product', value: `${product.sku} ${product.name}` },
            { title: 'Quantity', value: quantity(slots.quantity, product.unit) },
            { title: 'From', value: `${warehouseText(slots.fromWarehouse, fromName)} · ${fromBins}` },
            { title: 'To', value: `${warehouseText(slots.toWarehouse, toName)} · ${binText(plan.to)}` },
            { title: 'Left at source', value: quantity(plan.onHand - slots.quantity, product.unit) },
          ],
        },
      };
    },

    async submit(slots, ctx, tx) {
      // The transfer exists from here on (requested, nothing moved); its job is keyed by it, so one
      // transfer is one job and one booking (lifecycle.ts), however often it is confirmed.
      const transfer = await requestTransfer(tx, slots, { jobId: null, actor: ctx.actor.id, actorName: ctx.actor.name });
      const { jobId } = await ctx.env.jobs.enqueue(tx, {
        skill: 'storage',
        action: 'storage.transfer_stock',
        input: { ...slots, transfer },
        idempotencyKey: transferKey(transfer),
        ...requestedInTurn(ctx),
        subject: { type: 'product', id: slots.sku },
      });
      await attachTransferJob(tx, transfer, jobId);
      return {
        jobId,
        subject: { type: 'product', id: slots.sku },
        reply: {
          text: `On it: job ${jobId} is moving ${quantity(slots.quantity)} ${slots.sku} from ${slots.fromWarehouse}${slots.fromBin ? ` ${slots.fromBin}` : ''} to ${slots.toWarehouse}${slots.toBin ? ` ${slots.toBin}` : ''}. I'll tell you here when it's done.`,
        },
      };
    },
  };
}
