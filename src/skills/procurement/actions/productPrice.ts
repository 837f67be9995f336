import { z } from 'zod';
import { findProduct } from '../../data/masterData.js';
import { listing, money } from '../../format.js';
import type { ReadAction, SkillReply } from '../../types.js';

/**
 * "what does SKU-1001 cost?": the catalog's unit price of a product (master data `products`), read
 * only. The NLU keeps such questions out of scope (they are neither an order nor an HS search); the
 * bot routes them here (nlu/decision.ts `routedIntent`) so the user gets an answer instead of "not sure".
 */
export const PRODUCT_PRICE_ACTION = 'procurement.product_price';

const productPriceSchema = z.object({
  sku: z.string().regex(/^SKU-\d+$/).optional().describe('Product code, e.g. SKU-1001'),
});
type ProductPriceSlots = z.infer<typeof productPriceSchema>;

const CANT = "I can't look up prices for that, so I haven't done anything. I can tell you the catalog price of one of our products (e.g. \"what does SKU-1001 cost?\"), order, check stock, or track orders and shipments; type \"help\" to see more.";

export function productPriceAction(): ReadAction<ProductPriceSlots> {
  return {
    kind: 'read',
    name: PRODUCT_PRICE_ACTION,
    description: 'Tell the catalog unit price of a product (SKU-… or its name). Changes nothing.',
    schema: productPriceSchema,
    help: 'Ask "what does SKU-1001 cost?" or "price of the bearings".',
    extract(input, draft) {
      const sku = input.entities.find((e) => e.type === 'sku' && typeof e.value === 'string');
      return sku ? { ...draft, sku: sku.value } : draft;
    },
    async check(draft) {
      // Never asks: a price question without a known product gets the "can't look that up" answer.
      return { status: 'ready', slots: typeof draft.sku === 'string' ? { sku: draft.sku } : {} };
    },
    async answer(slots, ctx): Promise<SkillReply> {
      const md = await ctx.env.masterData.get();
      const p = slots.sku ? findProduct(md, slots.sku) : undefined;
      if (!p) {
        const known = md.products.slice(0, 6).map((x) => x.sku);
        return { text: slots.sku ? `I don't know a product ${slots.sku}, so I can't tell its price. Products: ${listing(known)}.` : CANT };
      }
      if (!(p.unitPrice > 0)) return { text: `The catalog has no price for ${p.name} (${p.sku}). ${CANT}` };
      return { text: `${p.name} (${p.sku}) is ${money(p.unitPrice, p.currency)} per ${p.unit} in our catalog (list price; the supplier's quote on an order may differ). Nothing was ordered.` };
    },
  };
}
