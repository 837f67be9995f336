import { money, statusLabel } from '../../format.js';
import { describeRoles } from '../../roles.js';
import type { WriteAction } from '../../types.js';
import { extractOrderRef } from '../extract.js';
import { CANCELLABLE, findOrder } from '../orders.js';
import { linesText, notFound, orderCard } from '../replies.js';
import { cancelOrderSchema, type CancelOrderSlots } from '../schemas.js';
import { deferredRequester } from '../../turnJob.js';
import { sendInFlight, startCancelJob } from '../cancellation.js';
import { transitionOrder, type CancelRequest } from '../orderMachine.js';

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
        order.status === 'approved' ? `It may be on its way to ${order.supplier}; if it gets there, I'll ask ${order.supplier} to cancel it too.` : '',
        'Say yes to cancel it or no to keep it.',
      ]
        .filter(Boolean)
        .join('\n');
      const card = orderCard(order, `Cancel ${order.number}?`);
      if (tellSupplier) card.notes = [`It was already sent, so I'll ask ${order.supplier} to cancel it too.`];
      if (order.status === 'approved') card.notes = [`It may be on its way to ${order.supplier}; if it gets there, I'll ask ${order.supplier} to cancel it too.`];
      return { text, card };
    },
    async submit(slots, ctx, tx) {
      // A guarded write on the order row (the `cancel` rows of the order table): concurrent cancels,
      // approvals and send results serialize on it.
      const reason = slots.reason ?? `Cancelled by ${ctx.actor.name ?? ctx.actor.id}`;
      const request: CancelRequest = { ...deferredRequester(ctx), reason, at: ctx.env.now().toISOString() };
      const moved = await transitionOrder(tx, slots.order, 'cancel', { reason, cancelRequest: request });
      if (!moved.ok) {
        if (moved.reason === 'not_found') return { reply: notFound(slots.order) };
        const text =
          moved.order.status === 'cancelling'
            ? `${moved.order.number} is already being cancelled (asked by ${moved.order.cancelRequest?.byName ?? moved.order.cancelRequest?.by ?? 'someone'}).`
            : `${moved.order.number} can't be cancelled any more: it is ${statusLabel(moved.order.status)}.`;
        return { reply: { text } };
      }
      const number = moved.order.number;
      const subject = { type: 'purchase_order', id: number };
      if (moved.from === 'approved' && (await sendInFlight(tx, number))) {
        // The send is out: the supplier must not see the cancel before the order. The send job
        // starts the cancel job (cancel:PO-…) once it has the send's outcome.
        const order = (await findOrder(tx, number))!;
        return {
          subject,
          outcome: 'deferred',
          reply: {
            text: `${number} is being sent to ${order.supplier} right now. I'll cancel it as soon as ${order.supplier} has answered (and ask ${order.supplier} to cancel it if it got there), and tell you here.`,
          },
        };
      }
      const jobId = await startCancelJob((job) => ctx.env.jobs.enqueue(tx, job), tx, number, request);
      return {
        jobId,
        subject,
        reply: { text: `On it: job ${jobId} is cancelling ${number}. I'll tell you here when it's done.` },
      };
    },
  };
}
