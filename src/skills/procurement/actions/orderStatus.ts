import { listEvents, listJobs } from '../../../jobs/store.js';
import type { ReadAction } from '../../types.js';
import { extractOrderRef } from '../extract.js';
import { findOrder } from '../orders.js';
import { notFound, statusReply } from '../replies.js';
import { orderRefSchema, type OrderRefSlots } from '../schemas.js';

export function orderStatusAction(): ReadAction<OrderRefSlots> {
  return {
    kind: 'read',
    name: 'procurement.order_status',
    description: 'Tell the status of one purchase order: supplier, lines, total, and its latest automation job.',
    schema: orderRefSchema,
    help: 'Tell me the purchase order number, e.g. PO-1001.',
    extract: extractOrderRef,
    async check(draft, ctx) {
      if (typeof draft.order !== 'string') {
        return { status: 'ask', slot: 'order', text: 'Which purchase order? For example PO-1001.' };
      }
      const order = await findOrder(ctx.env.db, draft.order);
      if (!order) return { status: 'refuse', reply: notFound(draft.order) };
      return { status: 'ready', slots: { order: order.number } };
    },
    async answer(slots, ctx) {
      const order = await findOrder(ctx.env.db, slots.order);
      if (!order) return notFound(slots.order);
      const [job] = await listJobs(ctx.env.db, { subject: { type: 'purchase_order', id: order.number }, limit: 1 });
      const events = job ? await listEvents(ctx.env.db, job.id) : [];
      const last = events.filter((e) => e.kind !== 'notified' && e.kind !== 'not_notified').pop();
      return statusReply(order, job, last?.message, ctx.env.now());
    },
  };
}
