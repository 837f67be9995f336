import { execute } from '../../../db/sql.js';
import { closestProduct, closestSupplier, findProduct, findSupplier, findWarehouse, type MasterRecords } from '../../data/masterData.js';
import { listing, money, plural, quantity } from '../../format.js';
import { describeRoles } from '../../roles.js';
import type { CheckResult, Draft, SkillContext, WriteAction } from '../../types.js';
import { extractCreateOrder, type DraftLine } from '../extract.js';
import { round2 } from '../orders.js';
import { createOrderSchema, type CreateOrderSlots } from '../schemas.js';
import { requestedInTurn } from '../../turnJob.js';

export const DEFAULT_SHIP_TO = 'WH-A';
const MAX_QUANTITY = 1_000_000;

export interface PricedLine {
  sku: string;
  name: string;
  unit: string;
  quantity: number;
  unitPrice: number;
  amount: number;
}

export function priceLines(lines: CreateOrderSlots['lines'], md: MasterRecords): PricedLine[] {
  return lines.map((l) => {
    const p = findProduct(md, l.sku)!;
    return { sku: p.sku, name: p.name, unit: p.unit, quantity: l.quantity, unitPrice: p.unitPrice, amount: round2(p.unitPrice * l.quantity) };
  });
}

const supplierNames = (md: MasterRecords) => md.suppliers.map((s) => s.name);

export function createOrderAction(): WriteAction<CreateOrderSlots> {
  return {
    kind: 'write',
    name: 'procurement.create_order',
    description: 'Raise a purchase order with a supplier for one or more products. It is confirmed with the user before it runs.',
    schema: createOrderSchema,
    help:
      'To raise a purchase order I need the product (e.g. SKU-1001 or "steel bearings"), how many, and the supplier. ' +
      'You can also say where to deliver ("ship to Dallas"; default WH-A Main) and when you need it. ' +
      'Correct anything at any time ("make it 300", "from Globex instead"), or say "cancel" to stop.',
    extract: extractCreateOrder,
    editExamples: '"make it 300", "from Globex instead" or "ship to Dallas"',

    async check(draft: Draft, ctx: SkillContext): Promise<CheckResult<CreateOrderSlots>> {
      if (!ctx.actor.roles.some((r) => r === 'buyer' || r === 'admin')) {
        return {
          status: 'refuse',
          reply: {
            text: `I can't raise purchase orders for you: that needs the buyer role, and yours is ${describeRoles(ctx.actor.roles)}. An admin can add it in USER_ROLES.`,
          },
        };
      }
      const md = await ctx.env.masterData.get();
      const lines = (Array.isArray(draft.lines) ? draft.lines : []) as DraftLine[];
      const examples = md.products.slice(0, 3).map((p) => `${p.sku} ${p.name}`);
      if (lines.length === 0 || lines.every((l) => !l.sku)) {
        return {
          status: 'ask',
          slot: 'sku',
          text: `What would you like to order? For example ${listing(examples, 'or')}.`,
        };
      }
      for (const [i, line] of lines.entries()) {
        if (!line.sku) return { status: 'ask', slot: 'sku', text: `Which product is the ${quantity(line.quantity ?? 0)} for?` };
        const product = findProduct(md, line.sku);
        if (!product) {
          const close = closestProduct(md, line.sku);
          const known = md.products.map((p) => `${p.sku} ${p.name}`);
          if (close) {
            const fixed = lines.map((l, j) => (j === i ? { ...l, sku: close.sku } : l));
            return {
              status: 'ask',
              slot: 'sku',
              text: `I can't find ${line.sku} in the product list. Did you mean ${close.sku} (${close.name})?`,
              suggestion: {
                patch: { lines: fixed },
                label: close.sku,
                onReject: { lines: lines.map((l, j) => (j === i ? { quantity: l.quantity } : l)) },
              },
            };
          }
          return {
            status: 'ask',
            slot: 'sku',
            text: `I can't find ${line.sku} in the product list. Which product do you mean? ${listing(known, 'or')}.`,
          };
        }
        if (line.quantity === undefined) {
          return {
            status: 'ask',
            slot: 'quantity',
            text: `How many ${product.name} (${product.sku})? They are priced per ${product.unit} at ${money(product.unitPrice, product.currency)}.`,
          };
        }
        if (!(line.quantity > 0) || line.quantity > MAX_QUANTITY || !Number.isInteger(line.quantity)) {
          return {
            status: 'ask',
            slot: 'quantity',
            text: `${product.name} are ordered in whole ${plural(product.unit)}, from 1 to ${MAX_QUANTITY.toLocaleString('en-US')}. How many do you need?`,
          };
        }
      }
      let supplier: string | undefined;
      if (typeof draft.supplier === 'string') supplier = findSupplier(md, draft.supplier)?.name;
      if (!supplier) {
        const written = typeof draft.supplierRaw === 'string' ? draft.supplierRaw : typeof draft.supplier === 'string' ? draft.supplier : undefined;
        if (written) {
          const close = closestSupplier(md, written);
          if (close) {
            return {
              status: 'ask',
              slot: 'supplier',
              text: `I don't know a supplier called "${written}". Did you mean ${close.name}?`,
              suggestion: {
                patch: { supplier: close.name, supplierRaw: null },
                label: close.name,
                onReject: { supplier: null, supplierRaw: null },
              },
              choices: supplierNames(md),
            };
          }
          return {
            status: 'ask',
            slot: 'supplier',
            text: `I don't know a supplier called "${written}". Which one should I order from: ${listing(supplierNames(md), 'or')}?`,
            choices: supplierNames(md),
          };
        }
        return {
          status: 'ask',
          slot: 'supplier',
          text: `Which supplier should I order from: ${listing(supplierNames(md), 'or')}?`,
          choices: supplierNames(md),
        };
      }
      const shipTo = typeof draft.shipTo === 'string' ? draft.shipTo : DEFAULT_SHIP_TO;
      if (!findWarehouse(md, shipTo)) {
        return {
          status: 'ask',
          slot: 'shipTo',
          text: `I don't know warehouse ${shipTo}. Deliver to ${listing(md.warehouses.map((w) => `${w.code} ${w.name}`), 'or')}?`,
        };
      }
      const slots: CreateOrderSlots = {
        supplier,
        lines: lines.map((l) => ({ sku: l.sku!.toUpperCase(), quantity: l.quantity! })),
        shipTo,
      };
      if (typeof draft.needBy === 'string') slots.needBy = draft.needBy;
      const parsed = createOrderSchema.safeParse(slots);
      if (!parsed.success) {
        return { status: 'ask', slot: 'edit', text: `Something in that order doesn't add up (${parsed.error.issues[0]?.message}). What should I change?` };
      }
      return { status: 'ready', slots: parsed.data };
    },

    async confirm(slots, ctx) {
      const md = await ctx.env.masterData.get();
      const priced = priceLines(slots.lines, md);
      const total = round2(priced.reduce((s, l) => s + l.amount, 0));
      const currency = ctx.env.settings.currency;
      const warehouse = findWarehouse(md, slots.shipTo ?? DEFAULT_SHIP_TO);
      const limit = ctx.env.settings.approvalThreshold;
      const needsApproval = total > limit;
      const text = [
        `Please confirm this purchase order with ${slots.supplier}:`,
        ...priced.map((l) => `• ${quantity(l.quantity, l.unit)} of ${l.name} (${l.sku}) at ${money(l.unitPrice, currency)} = ${money(l.amount, currency)}`),
        `Deliver to ${warehouse?.code} ${warehouse?.name}${slots.needBy ? ` by ${slots.needBy}` : ''}. Total ${money(total, currency)}.`,
        ...(needsApproval ? [`That is above the ${money(limit, currency)} approval limit, so an approver will have to approve it.`] : []),
        'Shall I place it? Say yes, no, or tell me what to change (e.g. "make it 300").',
      ].join('\n');
      const facts = [
        { title: 'Supplier', value: slots.supplier },
        { title: 'Deliver to', value: `${warehouse?.code} ${warehouse?.name}` },
      ];
      if (slots.needBy) facts.push({ title: 'Need by', value: slots.needBy });
      facts.push({ title: 'Total', value: money(total, currency) });
      if (needsApproval) facts.push({ title: 'Approval', value: `needed (over ${money(limit, currency)})` });
      return {
        text,
        card: {
          title: 'Create this purchase order?',
          facts,
          table: {
            columns: ['SKU', 'Product', 'Qty', 'Unit price', 'Amount'],
            rows: priced.map((l) => [l.sku, l.name, quantity(l.quantity, l.unit), money(l.unitPrice, currency), money(l.amount, currency)]),
          },
        },
      };
    },

    async submit(slots, ctx, tx, key) {
      // Prices and ids from the same transaction: nothing here may use another connection.
      const supplier = await execute<{ id: number; name: string; currency: string }>(
        tx,
        'SELECT id, name, currency FROM suppliers WHERE name = $1 AND active',
        [slots.supplier],
      );
      const products = await execute<{ sku: string; name: string; unit: string; unit_price: string }>(
        tx,
        'SELECT sku, name, unit, unit_price FROM products WHERE sku = ANY($1::text[]) AND active',
        [slots.lines.map((l) => l.sku)],
      );
      const s = supplier.rows[0];
      const bySku = new Map(products.rows.map((p) => [p.sku, p]));
      if (!s || slots.lines.some((l) => !bySku.has(l.sku))) {
        return { reply: { text: 'That supplier or product is no longer available, so I did not place the order.' } };
      }
      const lines = slots.lines.map((l) => {
        const p = bySku.get(l.sku)!;
        const unitPrice = Number(p.unit_price);
        return { sku: l.sku, name: p.name, unit: p.unit, quantity: l.quantity, unitPrice, amount: round2(unitPrice * l.quantity) };
      });
      const total = round2(lines.reduce((sum, l) => sum + l.amount, 0));
      const currency = ctx.env.settings.currency;
      const { jobId } = await ctx.env.jobs.enqueue(tx, {
        skill: 'procurement',
        action: 'procurement.create_order',
        input: {
          supplierId: s.id,
          supplier: s.name,
          currency,
          shipTo: slots.shipTo ?? DEFAULT_SHIP_TO,
          needBy: slots.needBy ?? null,
          lines,
          total,
        },
        idempotencyKey: key,
        ...requestedInTurn(ctx),
      });
      const summary = lines.map((l) => `${quantity(l.quantity, l.unit)} of ${l.sku}`).join(', ');
      const approval = total > ctx.env.settings.approvalThreshold ? ' It is above the approval limit, so it will wait for an approver.' : '';
      return {
        jobId,
        reply: {
          text: `On it: job ${jobId} is placing the order with ${s.name} (${summary}, total ${money(total, currency)}).${approval} I'll tell you here when it's done.`,
        },
      };
    },
  };
}
