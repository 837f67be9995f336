import { z } from 'zod';
import { findSupplier } from '../../data/masterData.js';
import { EXPORT_WORDS, ordersExport } from '../../excel/exports.js';
import { statusLabel } from '../../format.js';
import type { ReadAction } from '../../types.js';
import { extractOrderFilters } from '../extract.js';
import { OPEN_STATUSES, listOrders } from '../orders.js';
import { listReply } from '../replies.js';
import { listOrdersSchema, type ListOrdersSlots as FilterSlots } from '../schemas.js';

/** The filters, plus `export`: the orders as an .xlsx file instead of a list (src/skills/excel). */
const listOrdersWithExportSchema = listOrdersSchema.extend({
  export: z.boolean().optional().describe('Send the orders as an Excel (.xlsx) file instead of a list'),
});
type ListOrdersSlots = FilterSlots & { export?: boolean };

export function listOrdersAction(): ReadAction<ListOrdersSlots> {
  return {
    kind: 'read',
    name: 'procurement.list_orders',
    description:
      'List purchase orders, newest first, filtered by what the user says: mine, a status (pending approval, open, received…), a supplier, a period.',
    schema: listOrdersWithExportSchema,
    help: 'Say which orders: "my orders", "pending orders", "open orders from Acme", "orders this week". Add "export" to get them as an Excel file.',
    extract: (input, draft) => ({ ...extractOrderFilters(input, draft, new Date()), ...(EXPORT_WORDS.test(input.text) ? { export: true } : {}) }),
    async check(draft, ctx) {
      const slots: ListOrdersSlots = {};
      if (typeof draft.mine === 'boolean') slots.mine = draft.mine;
      if (draft.export === true) slots.export = true;
      if (Array.isArray(draft.statuses)) slots.statuses = draft.statuses as ListOrdersSlots['statuses'];
      if (typeof draft.since === 'string') slots.since = draft.since;
      if (typeof draft.supplier === 'string') {
        const supplier = findSupplier(await ctx.env.masterData.get(), draft.supplier);
        if (!supplier) return { status: 'refuse', reply: { text: `I don't know a supplier called "${draft.supplier}".` } };
        slots.supplier = supplier.name;
      }
      const parsed = listOrdersWithExportSchema.safeParse(slots);
      return parsed.success ? { status: 'ready', slots: parsed.data } : { status: 'refuse', reply: { text: 'I could not read those filters.' } };
    },
    async answer(slots, ctx) {
      const filter = {
        requestedBy: slots.mine ? ctx.actor.id : undefined,
        statuses: slots.statuses,
        supplier: slots.supplier,
        since: slots.since,
      };
      if (slots.export) {
        const description = describe(slots);
        const exported = await ordersExport(ctx.env.db, filter, description.startsWith('open') ? 'open-orders' : 'purchase-orders', ctx.env.now());
        if (exported.orders === 0) return { text: `No ${description} found, so there is nothing to export.` };
        const what = exported.orders === 1 ? description.replace('purchase orders', 'purchase order') : description;
        const more = exported.truncated ? ` (the ${exported.orders} most recent; narrow it down for the rest)` : '';
        return { text: `Here are ${exported.orders} ${what} as a spreadsheet${more}: ${exported.file.name}`, file: exported.file };
      }
      const { orders, total } = await listOrders(ctx.env.db, { ...filter, limit: 10 });
      return listReply(orders, total, describe(slots));
    },
  };
}

function describe(slots: ListOrdersSlots): string {
  const statuses = slots.statuses ?? [];
  const open = statuses.length === OPEN_STATUSES.length && OPEN_STATUSES.every((s) => statuses.includes(s));
  const what = open ? 'open ' : statuses.length ? `${statuses.map(statusLabel).join(' or ')} ` : '';
  return (
    `${what}purchase orders` +
    (slots.mine ? ' raised by you' : '') +
    (slots.supplier ? ` with ${slots.supplier}` : '') +
    (slots.since ? ` since ${slots.since}` : '')
  );
}
