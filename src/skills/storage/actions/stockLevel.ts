import { z } from 'zod';
import { closestProduct, findProduct, findWarehouse, type MasterRecords } from '../../data/masterData.js';
import { EXPORT_WORDS, stockExport } from '../../excel/exports.js';
import { listing, quantity } from '../../format.js';
import type { ReadAction, SkillContext, SkillReply } from '../../types.js';
import { extractStockQuery } from '../extract.js';
import { binsText, shown, warehouseText } from '../replies.js';
import { stockLevelSchema, type StockLevelSlots } from '../schemas.js';
import { stockBalances, type StockBalance } from '../stock.js';

const n = (v: number) => v.toLocaleString('en-US', { maximumFractionDigits: 3 });
const sum = (rows: readonly StockBalance[]) => rows.reduce((s, r) => s + r.quantity, 0);

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) out.set(key(item), [...(out.get(key(item)) ?? []), item]);
  return out;
}

function productAnswer(md: MasterRecords, sku: string, rows: StockBalance[]): SkillReply {
  const p = findProduct(md, sku)!;
  const byWarehouse = groupBy(rows, (r) => r.warehouse);
  if (rows.length === 0) return { text: `We have no ${p.name} (${p.sku}) on hand in any warehouse.` };
  const parts = [...byWarehouse].map(([code, list]) => `${n(sum(list))} in ${warehouseText(code, list[0]!.warehouseName)} (${list.map((r) => r.bin).join(', ')})`);
  const text = `We have ${quantity(sum(rows), p.unit)} of ${p.name} (${p.sku}) on hand: ${listing(parts)}.`;
  return {
    text,
    cardText: text,
    card: {
      title: `${p.sku} ${p.name} on hand`,
      facts: [{ title: 'Total', value: quantity(sum(rows), p.unit) }],
      table: { columns: ['Warehouse', 'Bin', 'On hand'], rows: rows.map((r) => [warehouseText(r.warehouse, r.warehouseName), r.bin, n(r.quantity)]) },
    },
  };
}

function productInWarehouseAnswer(md: MasterRecords, sku: string, warehouse: string, here: StockBalance[], all: StockBalance[]): SkillReply {
  const p = findProduct(md, sku)!;
  const w = findWarehouse(md, warehouse)!;
  const elsewhere = all.filter((r) => r.warehouse !== w.code);
  const others = [...groupBy(elsewhere, (r) => r.warehouse)].map(([code, list]) => `${n(sum(list))} in ${code}`);
  const otherText = others.length ? ` Elsewhere: ${listing(others)}.` : '';
  if (here.length === 0) {
    return { text: `${warehouseText(w.code, w.name)} has no ${p.name} (${p.sku}) on hand.${otherText}` };
  }
  const text = `${warehouseText(w.code, w.name)} has ${quantity(sum(here), p.unit)} of ${p.name} (${p.sku}): ${binsText(here)}.${otherText}`;
  return {
    text,
    cardText: text,
    card: {
      title: `${p.sku} in ${w.code} ${w.name}`,
      facts: [{ title: 'On hand', value: quantity(sum(here), p.unit) }],
      table: { columns: ['Bin', 'On hand'], rows: here.map((r) => [r.bin, n(r.quantity)]) },
    },
  };
}

function warehouseAnswer(md: MasterRecords, warehouse: string, rows: StockBalance[]): SkillReply {
  const w = findWarehouse(md, warehouse)!;
  if (rows.length === 0) return { text: `${warehouseText(w.code, w.name)} has no stock on hand.` };
  const bySku = [...groupBy(rows, (r) => r.sku)];
  const header = `${warehouseText(w.code, w.name)} holds ${bySku.length} product${bySku.length === 1 ? '' : 's'}:`;
  const lines = bySku.map(([sku, list]) => `• ${sku} ${list[0]!.productName}: ${quantity(sum(list), list[0]!.unit)} (${binsText(list)})`);
  return {
    text: [header, ...lines].join('\n'),
    cardText: header,
    card: {
      title: `Stock in ${w.code} ${w.name}`,
      table: { columns: ['SKU', 'Product', 'Bin', 'On hand'], rows: rows.map((r) => [r.sku, r.productName, r.bin, quantity(r.quantity, r.unit)]) },
    },
  };
}

function overviewAnswer(md: MasterRecords, rows: StockBalance[]): SkillReply {
  if (rows.length === 0) return { text: 'There is no stock on hand in any warehouse.' };
  const bySku = [...groupBy(rows, (r) => r.sku)];
  const header = `On hand across ${md.warehouses.length} warehouses:`;
  const lines = bySku.map(([sku, list]) => {
    const per = [...groupBy(list, (r) => r.warehouse)].map(([code, l]) => `${code} ${n(sum(l))}`);
    return `• ${sku} ${list[0]!.productName}: ${quantity(sum(list), list[0]!.unit)} (${per.join(', ')})`;
  });
  const codes = md.warehouses.map((w) => w.code);
  return {
    text: [header, ...lines].join('\n'),
    cardText: header,
    card: {
      title: 'Stock on hand',
      table: {
        columns: ['SKU', 'Product', ...codes, 'Total'],
        rows: bySku.map(([sku, list]) => [
          sku,
          list[0]!.productName,
          ...codes.map((c) => n(sum(list.filter((r) => r.warehouse === c)))),
          n(sum(list)),
        ]),
      },
    },
  };
}

/** The filters, plus `export`: the stock as an .xlsx file instead of an answer (src/skills/excel). */
const stockLevelWithExportSchema = stockLevelSchema.extend({
  export: z.boolean().optional().describe('Send the stock as an Excel (.xlsx) file instead of an answer'),
});
type StockLevelRequest = StockLevelSlots & { export?: boolean };

/** "export stock for WH-B": every bin line of the filter as an .xlsx. */
async function exportAnswer(slots: StockLevelRequest, ctx: SkillContext): Promise<SkillReply> {
  const lines = await stockBalances(ctx.env.db, { sku: slots.sku, warehouse: slots.warehouse });
  const where = [slots.sku, slots.warehouse && `in ${slots.warehouse}`].filter(Boolean).join(' ');
  if (lines.length === 0) return { text: `There is no stock on hand${where ? ` ${where}` : ''}, so there is nothing to export.` };
  const file = await stockExport(lines, ['stock', slots.warehouse, slots.sku].filter(Boolean).join('-'), ctx.env.now());
  return { text: `Here is the stock on hand${where ? ` ${where}` : ''} as a spreadsheet (${lines.length} bin line${lines.length === 1 ? '' : 's'}): ${file.name}`, file };
}

export function stockLevelAction(): ReadAction<StockLevelRequest> {
  return {
    kind: 'read',
    name: 'storage.stock_level',
    description: 'Tell how much stock is on hand, by product and/or warehouse (per bin), from the stock ledger.',
    schema: stockLevelWithExportSchema,
    help: 'Ask "how many SKU-1001 do we have in WH-A", "how many gloves do we have" or "what stock do we have in WH-B".',
    extract: (input, draft) => ({ ...extractStockQuery(input, draft), ...(EXPORT_WORDS.test(input.text) ? { export: true } : {}) }),
    async check(draft, ctx) {
      const md = await ctx.env.masterData.get();
      const slots: StockLevelRequest = {};
      if (draft.export === true) slots.export = true;
      if (draft.sku !== undefined) {
        const sku = String(draft.sku).trim().toUpperCase();
        const product = findProduct(md, sku);
        if (!product) {
          const close = closestProduct(md, sku);
          return {
            status: 'refuse',
            reply: {
              text: `I don't know a product ${shown(sku)}.${close ? ` Did you mean ${close.sku} (${close.name})?` : ''} Products: ${listing(md.products.map((p) => p.sku))}.`,
            },
          };
        }
        slots.sku = product.sku;
      }
      if (draft.warehouse !== undefined) {
        const code = String(draft.warehouse).trim().toUpperCase();
        const warehouse = findWarehouse(md, code);
        if (!warehouse) {
          return {
            status: 'refuse',
            reply: { text: `I don't know warehouse ${shown(code)}. Warehouses: ${listing(md.warehouses.map((w) => warehouseText(w.code, w.name)))}.` },
          };
        }
        slots.warehouse = warehouse.code;
      }
      return { status: 'ready', slots };
    },
    async answer(slots, ctx) {
      if (slots.export) return exportAnswer(slots, ctx);
      const md = await ctx.env.masterData.get();
      if (slots.sku && slots.warehouse) {
        const all = await stockBalances(ctx.env.db, { sku: slots.sku });
        return productInWarehouseAnswer(md, slots.sku, slots.warehouse, all.filter((r) => r.warehouse === slots.warehouse), all);
      }
      if (slots.sku) return productAnswer(md, slots.sku, await stockBalances(ctx.env.db, { sku: slots.sku }));
      if (slots.warehouse) return warehouseAnswer(md, slots.warehouse, await stockBalances(ctx.env.db, { warehouse: slots.warehouse }));
      return overviewAnswer(md, await stockBalances(ctx.env.db));
    },
  };
}
