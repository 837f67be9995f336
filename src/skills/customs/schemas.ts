import { z } from 'zod';

/** Slots of each customs action (also the input schemas of the LangChain tools). */

const shipmentNumber = z.string().regex(/^SH-\d+$/, 'a shipment number like SH-2003').describe('Shipment number, e.g. SH-2003');
const declarationNumber = z.string().regex(/^CD-\d+$/, 'a declaration number like CD-3001').describe('Customs declaration number, e.g. CD-3001');
const hsCode = z.string().regex(/^(\d{6,10}|none)$/, '6 to 10 digits, or "none"');

export const fileDeclarationSchema = z.object({
  shipment: shipmentNumber,
  hsCodes: z
    .record(z.string().regex(/^SKU-\d+$/), hsCode)
    .optional()
    .describe('HS codes for products that have none in the product master (or to override), by SKU; "none" files the line without one'),
});
export type FileDeclarationSlots = z.infer<typeof fileDeclarationSchema>;

export const declarationStatusSchema = z.object({
  declaration: declarationNumber.optional(),
  shipment: shipmentNumber.optional(),
  description: z.string().max(200).optional().describe('Words describing the shipment, e.g. "the Shenzhen container"'),
  question: z.enum(['cleared', 'status']).optional().describe('Whether the user asked if it cleared'),
});
export type DeclarationStatusSlots = z.infer<typeof declarationStatusSchema>;

/** The largest value a duty estimate is given for (USD); beyond it the number is surely a typo. */
export const MAX_GOODS_VALUE = 1_000_000_000;

export const classifyGoodsSchema = z.object({
  description: z.string().min(2).max(200).describe('The goods, e.g. "nitrile gloves" or "lithium-ion battery packs"'),
  value: z.number().positive().max(MAX_GOODS_VALUE).optional().describe('Customs value of the goods, for a duty estimate'),
  currency: z.string().length(3).optional().describe('Currency of the value (ISO 4217), default USD'),
  origin: z
    .string()
    .regex(/^[A-Z]{2}$/)
    .optional()
    .describe('Country of origin, ISO 3166 alpha-2 code, e.g. CN'),
  sku: z.string().regex(/^SKU-\d+$/).optional().describe('Our product, when the goods are one'),
});
export type ClassifyGoodsSlots = z.infer<typeof classifyGoodsSchema>;
