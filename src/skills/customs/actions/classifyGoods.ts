import { execute } from '../../../db/sql.js';
import { money } from '../../format.js';
import type { CheckResult, ReadAction, SkillReply } from '../../types.js';
import { extractClassifyGoods } from '../extract.js';
import { classificationReply } from '../replies.js';
import { MAX_GOODS_VALUE, classifyGoodsSchema, type ClassifyGoodsSlots } from '../schemas.js';
import { classify, tariff } from '../tariff.js';

export function classifyGoodsAction(): ReadAction<ClassifyGoodsSlots> {
  return {
    kind: 'read',
    name: 'customs.classify_goods',
    description:
      'Find the HS code (HS 2022, 6 digits) and an illustrative duty rate for goods from the shipped tariff table; the closest few when unsure; a duty estimate when a value (and origin) is given.',
    schema: classifyGoodsSchema,
    help: 'Describe the goods, e.g. "HS code for nitrile gloves"; add a value and origin for a duty estimate: "HS code for $5,000 of lithium-ion battery packs from China".',
    extract: extractClassifyGoods,
    async check(draft): Promise<CheckResult<ClassifyGoodsSlots>> {
      if (typeof draft.description !== 'string' || draft.description.length < 2) {
        return { status: 'ask', slot: 'description', text: 'What goods should I classify? For example "nitrile gloves" or "lithium-ion battery packs".' };
      }
      const value = typeof draft.value === 'number' ? draft.value : undefined;
      if (value !== undefined && (!(value > 0) || value > MAX_GOODS_VALUE)) {
        const currency = typeof draft.currency === 'string' ? draft.currency : 'USD';
        return {
          status: 'refuse',
          reply: {
            text: `${money(value, currency)} is ${value > 0 ? 'more than I estimate duty for' : 'not a value I can estimate duty for'} (up to ${money(MAX_GOODS_VALUE, currency)}). Ask again with the real value, or without one for the HS code only.`,
          },
        };
      }
      const parsed = classifyGoodsSchema.safeParse({
        description: draft.description,
        value,
        currency: typeof draft.currency === 'string' ? draft.currency : undefined,
        origin: typeof draft.origin === 'string' ? draft.origin : undefined,
        sku: typeof draft.sku === 'string' ? draft.sku : undefined,
      });
      if (!parsed.success) return { status: 'ask', slot: 'description', text: 'What goods should I classify? Describe them in a few words.' };
      return { status: 'ready', slots: parsed.data };
    },
    async answer(slots, ctx): Promise<SkillReply> {
      let product: { sku: string; name: string; hsCode: string | null } | undefined;
      if (slots.sku) {
        const { rows } = await execute<{ sku: string; name: string; hs_code: string | null }>(ctx.env.db, 'SELECT sku, name, hs_code FROM products WHERE sku = $1', [
          slots.sku,
        ]);
        if (rows[0]) product = { sku: rows[0].sku, name: rows[0].name, hsCode: rows[0].hs_code };
      }
      return classificationReply(classify(slots.description), {
        description: slots.description,
        value: slots.value,
        currency: slots.currency,
        origin: slots.origin,
        product,
        tableSize: tariff().entries.length,
      });
    },
  };
}
