import { money, statusLabel } from '../../format.js';
import { describeRoles } from '../../roles.js';
import type { WriteAction } from '../../types.js';
import { extractOrderRef } from '../extract.js';
import { CANCELLABLE, findOrder } from '../orders.js';
import { linesText, notFound, orderCard } from '../replies.js';
import { cancelOrderSchema, type CancelOrderSlots } from '../schemas.js';
import { requestedInTurn } from '../../turnJob.js';

export function cancelOrderAction(): WriteAction<CancelOrderSlots> {
  return {
    kind: 'write',
    name: 'procurement.cancel_order',
    description: 'Cancel a purchase order (and tell the supplier if it was already sent). Confirmed with the user first.',
    schema: cancelOrderSchema,
    help: 'Tell me which order to cancel (e.g. PO-1101), and optionally why ("because the project was stopped").',
    extract(input, draft) {
      const d = extractOrderRef(input, draft);
      const reason = /\b(?:because|reason:?|since)\s+(.{3,200})$/i.exec(input.text)?.[1];
      return reason ? { ...d, reason: reason.trim() } : d;
    },
    async check(draft, ctx) {
      if (typeof draft.order !== 'string') {
        return { status: 'ask', slot: 'order', text: 'Which purchase order should I cancel? For example PO-1101.' };
      }
      const order = await findOrder(ctx.env.db, draft.order);
      if (!order) return { status: 'refuse', reply: notFound(draft.order) };
      if (!CANCELLABLE.includes(order.status)) {
        return { status: 'refuse', reply: { text: `${order.number} can't be cancelled: it is already ${statusLabel(order.status)}.` } };
      }
      const own = order.requestedBy === ctx.actor.id;
      if (!own && !ctx.actor.roles.some((r) => r === 'approver' || r === 'admin')) {
        return {
          status: 'refuse',
          reply: {
            text: `You can't cancel ${order.number}: ${order.requestedByName ?? order.requestedBy} raised it, and cancelling someone else's order needs the approver or admin role (yours: ${describeRoles(ctx.actor.roles)}).`,
          },
        };
      }
      const slots: CancelOrderSlots = { order: order.number };
      if (typeof draft.reason === 'string') slots.reason = draft.reason;
      return { status: 'ready', slots };
    },
    async confirm(slots, ctx) {
      const order = (await findOrder(ctx.env.db, slots.order))!;
      const tellSupplier = order.status === 'sent' || order.status === 'confirmed';
      const text = [
        `Cancel ${order.number} with ${order.supplier} (${linesText(order.lines)}; total ${money(order.total, order.currency)}; now ${statusLabel(order.status)})?`,
        tellSupplier ? `It was already sent, so I'll ask ${order.supplier} to cancel it too.` : '',
        'Say yes to cancel it or no to keep it.',
      ]
        .filter(Boolean)
        .join('\n');
      const card = orderCard(order, `Cancel ${order.number}?`);
      if (tellSupplier) card.notes = [`It was already sent, so I'll ask ${order.supplier} to cancel it too.`];
      return { text, card };
    },
    async submit(slots, ctx, tx, key) {
      const { jobId } = await ctx.env.jobs.enqueue(tx, {
        skill: 'procurement',
        action: 'procurement.cancel_order',
        input: { order: slots.order, reason: slots.reason ?? null },
        idempotencyKey: key,
        ...requestedInTurn(ctx),
        subject: { type: 'purchase_order', id: slots.order },
      });
      return {
        jobId,
        subject: { type: 'purchase_order', id: slots.order },
        reply: { text: `On it: job ${jobId} is cancelling ${slots.order}. I'll tell you here when it's done.` },
      };
    },
  };
}
