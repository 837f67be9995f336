import { money, statusLabel } from '../../format.js';
import { describeRoles } from '../../roles.js';
import type { CheckResult, Draft, SkillContext, SkillReply, WriteAction } from '../../types.js';
import { extractOrderRef } from '../extract.js';
import { lockOrderRow, transitionOrder, type OrderSnapshot } from '../orderMachine.js';
import { findOrder, listOrders } from '../orders.js';
import { linesText, notFound, orderCard } from '../replies.js';
import { decideOrderSchema, type DecideOrderSlots } from '../schemas.js';
import { operationKey } from '../../runtime.js';
import { requestedInTurn } from '../../turnJob.js';

type Decision = 'approve' | 'reject';

/**
 * Who may decide on an order: approvers (and admins), never on their own order, and only while it
 * is pending approval. Every refusal says which rule applied.
 */
async function checkDecision(decision: Decision, draft: Draft, ctx: SkillContext): Promise<CheckResult<DecideOrderSlots>> {
  if (!ctx.actor.roles.some((r) => r === 'approver' || r === 'admin')) {
    return {
      status: 'refuse',
      reply: {
        text: `You can't ${decision} purchase orders: that needs the approver role (yours: ${describeRoles(ctx.actor.roles)}).`,
      },
    };
  }
  if (typeof draft.order !== 'string') {
    const { orders } = await listOrders(ctx.env.db, { statuses: ['pending_approval'], limit: 5 });
    const others = orders.filter((o) => o.requestedBy !== ctx.actor.id);
    const waiting = others.map((o) => `${o.number} (${o.supplier}, ${money(o.total, o.currency)}, by ${o.requestedByName ?? o.requestedBy})`);
    return {
      status: 'ask',
      slot: 'order',
      text: waiting.length
        ? `Which order should I ${decision}? Waiting for approval: ${waiting.join('; ')}.`
        : `Which order should I ${decision}? None is waiting for your approval right now.`,
      choices: others.map((o) => o.number),
    };
  }
  const order = await findOrder(ctx.env.db, draft.order);
  if (!order) return { status: 'refuse', reply: notFound(draft.order) };
  if (order.requestedBy === ctx.actor.id) {
    return {
      status: 'refuse',
      reply: {
        text: `You can't ${decision} ${order.number}: you raised it yourself, and nobody approves their own order. Another approver has to decide.`,
      },
    };
  }
  if (order.status !== 'pending_approval') {
    return {
      status: 'refuse',
      reply: { text: `${order.number} isn't waiting for approval: it is ${statusLabel(order.status)}.` },
    };
  }
  const slots: DecideOrderSlots = { order: order.number };
  if (typeof draft.note === 'string') slots.note = draft.note;
  return { status: 'ready', slots };
}

function decideAction(decision: Decision): WriteAction<DecideOrderSlots> {
  const name = decision === 'approve' ? 'procurement.approve_order' : 'procurement.reject_order';
  return {
    kind: 'write',
    name,
    description:
      decision === 'approve'
        ? 'Approve a purchase order that is waiting for approval (approvers only, never your own); it is then sent to the supplier.'
        : 'Reject a purchase order that is waiting for approval (approvers only, never your own).',
    schema: decideOrderSchema,
    help: `Tell me which order to ${decision}, e.g. "${decision} PO-1104". Only approvers can, and never for their own orders.`,
    extract(input, draft) {
      const d = extractOrderRef(input, draft);
      const note = /\b(?:because|note:?|reason:?)\s+(.{3,200})$/i.exec(input.text)?.[1];
      return note ? { ...d, note: note.trim() } : d;
    },
    check: (draft, ctx) => checkDecision(decision, draft, ctx),
    async confirm(slots, ctx) {
      const order = (await findOrder(ctx.env.db, slots.order))!;
      const who = order.requestedByName ?? order.requestedBy;
      const text =
        decision === 'approve'
          ? `Approve ${order.number} for ${order.supplier}? ${linesText(order.lines)}; total ${money(order.total, order.currency)}; requested by ${who}. Once approved I'll send it to ${order.supplier}. Say yes or no.`
          : `Reject ${order.number} for ${order.supplier} (total ${money(order.total, order.currency)}, requested by ${who})? Say yes or no.`;
      const card = orderCard(order, `${decision === 'approve' ? 'Approve' : 'Reject'} ${order.number}?`);
      card.subtitle =
        decision === 'approve'
          ? `Requested by ${who}. Once approved I'll send it to ${order.supplier}.`
          : `Requested by ${who}. Nothing will be sent to ${order.supplier}.`;
      return { text, card };
    },
    async submit(slots, ctx, tx) {
      // The decision is a guarded write on the order row: of any number of concurrent confirmations
      // exactly one moves it out of pending_approval; the others are told who got there first.
      const current = await lockOrderRow(tx, slots.order);
      if (!current) return { reply: notFound(slots.order) };
      if (current.requestedBy === ctx.actor.id) {
        return { subject: { type: 'purchase_order', id: current.number }, reply: { text: `You can't ${decision} ${current.number}: you raised it yourself.` } };
      }
      const by = ctx.actor.name ?? ctx.actor.id;
      const note = slots.note;
      const moved =
        decision === 'approve'
          ? await transitionOrder(tx, current.number, 'approve', { approvedBy: ctx.actor.id, approvedByName: by, reason: `approved by ${by}` })
          : await transitionOrder(tx, current.number, 'reject', { reason: `Rejected by ${by}${note ? `: ${note}` : ''}` });
      const subject = { type: 'purchase_order', id: current.number };
      if (!moved.ok) return { subject, reply: alreadyDecided(moved.reason === 'refused' ? moved.order : current) };
      const { jobId } = await ctx.env.jobs.enqueue(tx, {
        skill: 'procurement',
        action: name,
        input: { order: current.number, note: note ?? null },
        // One job per decision on the order, whatever request it came from (also the RPA's Idempotency-Key).
        idempotencyKey: operationKey(decision, current.number),
        ...requestedInTurn(ctx),
        subject,
      });
      return {
        jobId,
        subject,
        reply: {
          text:
            decision === 'approve'
              ? `On it: job ${jobId} is approving ${current.number} and sending it to the supplier. I'll tell you here when it's done.`
              : `On it: job ${jobId} is rejecting ${current.number}. I'll let the requester know.`,
        },
      };
    },
  };
}

/** The reply to a decision that lost the race (or came late): who decided, and when. */
function alreadyDecided(order: OrderSnapshot): SkillReply {
  const at = (d: Date) => `${d.toISOString().slice(11, 16)} UTC`;
  if (order.approvedBy && order.approvedBy !== 'auto' && order.approvedAt && order.status !== 'pending_approval') {
    const by = order.approvedByName ?? order.approvedBy;
    return { text: `${order.number} was already approved by ${by} at ${at(order.approvedAt)}; it is ${statusLabel(order.status)}.` };
  }
  return { text: `${order.number} isn't waiting for approval any more: it is ${statusLabel(order.status)}.` };
}

export const approveOrderAction = (): WriteAction<DecideOrderSlots> => decideAction('approve');
export const rejectOrderAction = (): WriteAction<DecideOrderSlots> => decideAction('reject');
