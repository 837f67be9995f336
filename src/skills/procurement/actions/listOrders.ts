import { findSupplier } from '../../data/masterData.js';
import { statusLabel } from '../../format.js';
import type { ReadAction } from '../../types.js';
import { extractOrderFilters } from '../extract.js';
import { OPEN_STATUSES, listOrders } from '../orders.js';
import { listReply } from '../replies.js';
import { listOrdersSchema, type ListOrdersSlots } from '../schemas.js';

export function listOrdersAction(): ReadAction<ListOrdersSlots> {
  return {
    kind: 'read',
    name: 'procurement.list_orders',
    description:
      'List purchase orders, newest first, filtered by what the user says: mine, a status (pending approval, open, received…), a supplier, a period.',
    schema: listOrdersSchema,
    help: 'Say which orders: "my orders", "pending orders", "open orders from Acme", "orders this week".',
    extract: (input, draft) => extractOrderFilters(input, draft, new Date()),
    async check(draft, ctx) {
      const slots: ListOrdersSlots = {};
      if (typeof draft.mine === 'boolean') slots.mine = draft.mine;
      if (Array.isArray(draft.statuses)) slots.statuses = draft.statuses as ListOrdersSlots['statuses'];
      if (typeof draft.since === 'string') slots.since = draft.since;
      if (typeof draft.supplier === 'string') {
        const supplier = findSupplier(await ctx.env.masterData.get(), draft.supplier);
        if (!supplier) return { status: 'refuse', reply: { text: `I don't know a supplier called "${draft.supplier}".` } };
        slots.supplier = supplier.name;
      }
      const parsed = listOrdersSchema.safeParse(slots);
      return parsed.success ? { status: 'ready', slots: parsed.data } : { status: 'refuse', reply: { text: 'I could not read those filters.' } };
    },
    async answer(slots, ctx) {
      const { orders, total } = await listOrders(ctx.env.db, {
        requestedBy: slots.mine ? ctx.actor.id : undefined,
        statuses: slots.statuses,
        supplier: slots.supplier,
        since: slots.since,
        limit: 10,
      });
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
