import { z } from 'zod';
import { PO_STATUSES } from './orders.js';

/** Slots of each procurement action (also the input schemas of the LangChain tools). */

const orderNumber = z
  .string()
  .regex(/^PO-\d+$/, 'a purchase order number like PO-1001')
  .describe('Purchase order number, e.g. PO-1001');

export const orderLineSchema = z.object({
  sku: z.string().regex(/^SKU-\d+$/, 'a product code like SKU-1001').describe('Product code, e.g. SKU-1001'),
  quantity: z.number().positive().max(1_000_000).describe('How many, in the product’s unit'),
});

export const createOrderSchema = z.object({
  supplier: z.string().min(1).describe('Supplier name, e.g. Acme Corp'),
  lines: z.array(orderLineSchema).min(1).max(20).describe('What to order'),
  shipTo: z
    .string()
    .regex(/^WH-[A-Z0-9]+$/)
    .optional()
    .describe('Warehouse code to deliver to, e.g. WH-B (default WH-A)'),
  needBy: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .optional()
    .describe('Wanted delivery date, YYYY-MM-DD'),
});
export type CreateOrderSlots = z.infer<typeof createOrderSchema>;

export const orderRefSchema = z.object({ order: orderNumber });
export type OrderRefSlots = z.infer<typeof orderRefSchema>;

export const cancelOrderSchema = z.object({
  order: orderNumber,
  reason: z.string().max(500).optional().describe('Why it is cancelled'),
});
export type CancelOrderSlots = z.infer<typeof cancelOrderSchema>;

export const decideOrderSchema = z.object({
  order: orderNumber,
  note: z.string().max(500).optional().describe('A note for the requester'),
});
export type DecideOrderSlots = z.infer<typeof decideOrderSchema>;

export const listOrdersSchema = z.object({
  mine: z.boolean().optional().describe('Only orders the asking user raised'),
  statuses: z.array(z.enum(PO_STATUSES)).optional().describe('Only orders in these statuses'),
  supplier: z.string().optional().describe('Only orders with this supplier'),
  since: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .optional()
    .describe('Only orders created on or after this date (YYYY-MM-DD)'),
});
export type ListOrdersSlots = z.infer<typeof listOrdersSchema>;
