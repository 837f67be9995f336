import { z } from 'zod';

/** Slots of each storage action (also the input schemas of the LangChain tools). */

const sku = z.string().regex(/^SKU-\d+$/, 'a product code like SKU-1001').describe('Product code, e.g. SKU-1001');
const warehouse = z.string().regex(/^WH-[A-Z0-9]+$/, 'a warehouse code like WH-A').describe('Warehouse code, e.g. WH-A');
const bin = z
  .string()
  .regex(/^[A-Z0-9]{1,6}(?:-[A-Z0-9]{1,6}){0,3}$/, 'a bin code like A-01-01')
  .describe('Bin code inside the warehouse, e.g. A-01-01');
const quantity = z.number().positive().max(1_000_000).describe('How many, in the product’s unit');

export const receiptLineSchema = z.object({ sku, quantity });

/**
 * One goods receipt. Deliberately flat so a spreadsheet row maps onto it:
 * `{ po: 'PO-1002', lines: [{ sku, quantity }], warehouse?, bin?, shipment? }`.
 */
export const receiveGoodsSchema = z.object({
  po: z.string().regex(/^PO-\d+$/, 'a purchase order number like PO-1001').describe('Purchase order the goods are for, e.g. PO-1002'),
  lines: z.array(receiptLineSchema).min(1).max(50).describe('What arrived: product and quantity per line'),
  warehouse: warehouse.optional().describe('Warehouse receiving the goods (default: the shipment’s or the order’s ship-to)'),
  bin: bin.optional().describe('Put everything into this bin (default: a bin holding the same product, else a free one)'),
  shipment: z
    .string()
    .regex(/^SH-\d+$/, 'a shipment number like SH-2001')
    .optional()
    .describe('Inbound shipment the goods came on, e.g. SH-2001 (must have cleared customs)'),
});
export type ReceiveGoodsSlots = z.infer<typeof receiveGoodsSchema>;

export const stockLevelSchema = z.object({
  sku: sku.optional().describe('Only this product'),
  warehouse: warehouse.optional().describe('Only this warehouse'),
});
export type StockLevelSlots = z.infer<typeof stockLevelSchema>;

export const transferStockSchema = z.object({
  sku,
  quantity,
  fromWarehouse: warehouse.describe('Warehouse to take the stock from'),
  fromBin: bin.optional().describe('Bin to take it from (default: the bins holding most first)'),
  toWarehouse: warehouse.describe('Warehouse to move it to (the same one to move between bins)'),
  toBin: bin.optional().describe('Bin to put it in (default: a bin holding the same product, else a free one)'),
});
export type TransferStockSlots = z.infer<typeof transferStockSchema>;
