import { randomUUID } from 'node:crypto';
import type { QueryRunner } from 'typeorm';
import type {
  ConnectorResult,
  Finish,
  JobHandler,
  JobHandlerEnv,
  JobRecord,
  Notice,
  StepResult,
} from '../../jobs/types.js';
import { money, statusLabel } from '../format.js';
import type { RoleDirectory } from '../roles.js';
import type { SkillSettings } from '../types.js';
import { creatorConversation, findOrder, insertOrder, setStatus, type Order } from './orders.js';
import { linesText, orderCard, shipToText } from './replies.js';

/**
 * How procurement writes are carried out. Each `run` is idempotent: it looks at the job's subject
 * and the order's status and only does what is still left, so a re-delivered message (pg-boss is
 * at-least-once) or a retry after a crash never creates a second order.
 */
export interface ProcurementJobDeps {
  settings: SkillSettings;
  roles: RoleDirectory;
}

interface CreateInput {
  supplierId: number;
  supplier: string;
  currency: string;
  shipTo: string;
  needBy: string | null;
  lines: { sku: string; name: string; unit: string; quantity: number; unitPrice: number; amount: number }[];
  total: number;
}

const requester = { requester: true } as const;

function sendToSupplier(order: Order): StepResult {
  return {
    kind: 'dispatch',
    operation: 'send_purchase_order',
    message: `Sending ${order.number} to ${order.supplier}`,
    payload: {
      order: order.number,
      supplier: order.supplier,
      currency: order.currency,
      total: order.total,
      shipTo: order.shipTo,
      needBy: order.needBy,
      lines: order.lines.map((l) => ({
        sku: l.sku,
        name: l.productName,
        quantity: l.quantity,
        unit: l.unit,
        unitPrice: l.unitPrice,
        amount: l.amount,
      })),
    },
  };
}

async function lockedOrder(tx: QueryRunner, job: JobRecord): Promise<Order | undefined> {
  return job.subjectId ? findOrder(tx, job.subjectId, { lock: true }) : undefined;
}

function placedText(order: Order): string {
  const state =
    order.status === 'confirmed'
      ? `${order.supplier} confirmed it${order.supplierReference ? ` (ref ${order.supplierReference})` : ''}`
      : `it was sent to ${order.supplier}`;
  return `✅ ${order.number} is placed: ${state}. ${linesText(order.lines)}; total ${money(order.total, order.currency)}, delivering to ${shipToText(order)}. Ask "status of ${order.number}" any time.`;
}

/** The order's creator, wherever they asked from (for jobs someone else started on their order). */
async function creatorTarget(tx: QueryRunner, order: Order): Promise<Notice['to']> {
  const conversation = await creatorConversation(tx, order.number);
  return conversation ? { conversation } : { userId: order.requestedBy };
}

/** After the supplier step: sent/confirmed, or rejected by the supplier. */
async function completeSend(
  job: JobRecord,
  result: ConnectorResult,
  tx: QueryRunner,
  env: JobHandlerEnv,
  alsoTell: Notice['to'][],
): Promise<Finish> {
  const order = await lockedOrder(tx, job);
  if (!order) return { status: 'failed', error: 'order not found', message: 'The order disappeared', notices: [] };
  const tell = (reply: Notice['reply'], kind: Notice['kind']): Notice[] => [
    { kind, to: requester, reply },
    ...alsoTell.map((to) => ({ kind, to, reply })),
  ];
  if (result.status === 'succeeded') {
    const reference = typeof result.data?.supplierReference === 'string' ? result.data.supplierReference : undefined;
    if (order.status === 'approved') await setStatus(tx, order, 'sent', { supplierReference: reference });
    if (result.data?.confirmed === true && order.status === 'sent') await setStatus(tx, order, 'confirmed', { supplierReference: reference });
    await env.event('po_status', `${order.number} is ${statusLabel(order.status)}`);
    const text = placedText(order);
    return {
      status: 'succeeded',
      result: { order: order.number, status: order.status, supplierReference: order.supplierReference },
      message: `${order.number} ${statusLabel(order.status)} by ${order.supplier}`,
      notices: tell({ text, cardText: text.split('. ')[0] + '.', card: orderCard(order) }, 'completed'),
      audit: { action: 'procurement.order_sent', outcome: order.status, details: { supplierReference: order.supplierReference } },
    };
  }
  const reason = result.error ?? 'no reason given';
  if (result.timedOut) {
    // Unknown outcome on the other side: leave the order as it is and ask for a person.
    const text = `⚠️ I got no result for ${order.number} (${order.supplier}): ${reason}. It is still ${statusLabel(order.status)} but may not have reached ${order.supplier}; job ${job.id} needs an operator to check.`;
    return {
      status: 'failed',
      error: reason,
      result: { order: order.number, status: order.status },
      message: `No result for ${order.number} in time`,
      notices: tell({ text }, 'failed'),
      audit: { action: 'procurement.order_sent', outcome: 'timed_out', details: { reason } },
    };
  }
  if (order.status === 'approved' || order.status === 'sent') await setStatus(tx, order, 'rejected', { reason });
  const text = `❌ ${order.supplier} did not accept ${order.number}: ${reason}. The order is now ${statusLabel(order.status)}.`;
  return {
    status: 'failed',
    error: reason,
    result: { order: order.number, status: order.status },
    message: `${order.supplier} did not accept ${order.number}`,
    notices: tell({ text, card: orderCard(order) }, 'failed'),
    audit: { action: 'procurement.order_sent', outcome: 'rejected_by_supplier', details: { reason } },
  };
}

function deadLetterFinish(job: JobRecord, error: string, order: Order | undefined, what: string): Finish {
  const text = order
    ? `⚠️ I couldn't ${what} ${order.number}: ${error}. I tried ${job.attempts} time${job.attempts === 1 ? '' : 's'}; ${order.number} is ${statusLabel(order.status)}, and job ${job.id} is in the dead-letter queue for an operator to look at.`
    : `⚠️ I couldn't ${what} your order: ${error}. Job ${job.id} is in the dead-letter queue for an operator to look at; nothing was created.`;
  return {
    status: 'dead_letter',
    error,
    message: `Gave up after ${job.attempts} attempt${job.attempts === 1 ? '' : 's'}: ${error}`,
    notices: [{ kind: 'failed', to: requester, reply: { text } }],
    audit: { action: job.action, outcome: 'dead_letter', details: { error } },
  };
}

function approvalRequests(order: Order, approvers: readonly string[], threshold: number): Notice[] {
  return approvers.map((userId) => {
    const nonce = randomUUID();
    const ref = `approval:${order.number}`;
    const who = order.requestedByName ?? order.requestedBy;
    return {
      kind: 'approval_request',
      to: { userId },
      reply: {
        text: `Approval needed: ${who} raised ${order.number} with ${order.supplier} — ${linesText(order.lines)}; total ${money(order.total, order.currency)} (over the ${money(threshold, order.currency)} limit). Reply "approve ${order.number}" or "reject ${order.number}".`,
        cardText: `Approval needed for ${order.number} (${money(order.total, order.currency)}, raised by ${who}):`,
        card: {
          ...orderCard(order, `Approval needed: ${order.number}`),
          actions: [
            { title: 'Approve', style: 'positive', data: { verb: 'do', action: 'procurement.approve_order', order: order.number, nonce, ref } },
            { title: 'Reject', style: 'destructive', data: { verb: 'do', action: 'procurement.reject_order', order: order.number, nonce, ref } },
          ],
        },
      },
    };
  });
}

export function procurementJobHandlers(deps: ProcurementJobDeps): JobHandler[] {
  const { settings, roles } = deps;

  const create: JobHandler = {
    action: 'procurement.create_order',
    async run(job, tx, env) {
      let order = await lockedOrder(tx, job);
      if (!order) {
        const input = job.input as unknown as CreateInput;
        const number = await insertOrder(tx, {
          supplierId: input.supplierId,
          currency: input.currency,
          shipTo: input.shipTo,
          needBy: input.needBy,
          requestedBy: job.requestedBy,
          requestedByName: job.requestedByName,
          lines: input.lines,
        });
        await env.setSubject('purchase_order', number);
        await env.event('po_created', `Created ${number} (draft)`);
        order = (await lockedOrder(tx, job))!;
      }
      if (order.status === 'draft') {
        if (order.total > settings.approvalThreshold) {
          await setStatus(tx, order, 'pending_approval', { reason: `over the ${money(settings.approvalThreshold, order.currency)} approval limit` });
          const approvers = roles.usersWith('approver', 'admin').filter((id) => id !== order!.requestedBy);
          const who = approvers.length
            ? "I've asked an approver; I'll tell you when it's decided."
            : 'No approver is configured (USER_ROLES), so ask an admin to set one up.';
          const text = `🕒 ${order.number} is created and waiting for approval: the total ${money(order.total, order.currency)} is over the ${money(settings.approvalThreshold, order.currency)} limit. ${who}`;
          return {
            kind: 'finish',
            status: 'succeeded',
            result: { order: order.number, status: order.status },
            message: `${order.number} created; waiting for approval`,
            notices: [
              { kind: 'needs_approval', to: requester, reply: { text, cardText: text, card: orderCard(order) } },
              ...approvalRequests(order, approvers, settings.approvalThreshold),
            ],
            audit: { action: 'procurement.order_created', outcome: 'pending_approval', details: { order: order.number, total: order.total } },
          };
        }
        await setStatus(tx, order, 'approved', { approvedBy: 'auto' });
        await env.event('approved', `Approved automatically (under ${money(settings.approvalThreshold, order.currency)})`);
      }
      if (order.status === 'approved') return sendToSupplier(order);
      const done = order.status === 'sent' || order.status === 'confirmed';
      return {
        kind: 'finish',
        status: done ? 'succeeded' : 'failed',
        message: `${order.number} is already ${statusLabel(order.status)}`,
        notices: [],
      };
    },
    complete: (job, result, tx, env) => completeSend(job, result, tx, env, []),
    async deadLetter(job, error, tx) {
      return deadLetterFinish(job, error, await lockedOrder(tx, job), 'send');
    },
  };

  const approve: JobHandler = {
    action: 'procurement.approve_order',
    async run(job, tx, env) {
      const order = await lockedOrder(tx, job);
      if (!order) return { kind: 'finish', status: 'failed', message: 'Order not found', notices: [] };
      if (order.status === 'pending_approval') {
        if (order.requestedBy === job.requestedBy) {
          const text = `You can't approve ${order.number}: you raised it yourself.`;
          return { kind: 'finish', status: 'failed', error: 'self-approval', message: text, notices: [{ kind: 'failed', to: requester, reply: { text } }] };
        }
        const who = job.requestedByName ?? job.requestedBy;
        await setStatus(tx, order, 'approved', { approvedBy: job.requestedBy, approvedByName: who, reason: `approved by ${who}` });
        await env.event('approved', `Approved by ${who}`);
      } else if (order.status !== 'approved' || order.approvedBy !== job.requestedBy) {
        const text = `${order.number} wasn't approved: it is ${statusLabel(order.status)}${order.approvedBy ? ` (approved by ${order.approvedBy})` : ''}.`;
        return { kind: 'finish', status: 'failed', error: text, message: text, notices: [{ kind: 'failed', to: requester, reply: { text } }] };
      }
      return sendToSupplier(order);
    },
    async complete(job, result, tx, env) {
      const order = await lockedOrder(tx, job);
      const creator = order ? await creatorTarget(tx, order) : undefined;
      return completeSend(job, result, tx, env, creator ? [creator] : []);
    },
    async deadLetter(job, error, tx) {
      return deadLetterFinish(job, error, await lockedOrder(tx, job), 'send');
    },
  };

  const reject: JobHandler = {
    action: 'procurement.reject_order',
    async run(job, tx) {
      const order = await lockedOrder(tx, job);
      if (!order) return { kind: 'finish', status: 'failed', message: 'Order not found', notices: [] };
      if (order.status !== 'pending_approval') {
        const text = `${order.number} wasn't rejected: it is ${statusLabel(order.status)}.`;
        return { kind: 'finish', status: 'failed', error: text, message: text, notices: [{ kind: 'failed', to: requester, reply: { text } }] };
      }
      const who = job.requestedByName ?? job.requestedBy;
      const note = typeof job.input.note === 'string' ? job.input.note : undefined;
      await setStatus(tx, order, 'rejected', { reason: `Rejected by ${who}${note ? `: ${note}` : ''}` });
      const text = `${order.number} was rejected by ${who}${note ? ` (${note})` : ''}. Nothing was sent to ${order.supplier}.`;
      return {
        kind: 'finish',
        status: 'succeeded',
        result: { order: order.number, status: order.status },
        message: `${order.number} rejected by ${who}`,
        notices: [
          { kind: 'completed', to: requester, reply: { text } },
          { kind: 'completed', to: await creatorTarget(tx, order), reply: { text, card: orderCard(order) } },
        ],
        audit: { action: 'procurement.order_rejected', outcome: 'rejected', details: { note } },
      };
    },
    complete: async () => ({ status: 'failed', message: 'Unexpected result for a rejection', notices: [] }),
    async deadLetter(job, error, tx) {
      return deadLetterFinish(job, error, await lockedOrder(tx, job), 'reject');
    },
  };

  const cancel: JobHandler = {
    action: 'procurement.cancel_order',
    async run(job, tx) {
      const order = await lockedOrder(tx, job);
      if (!order) return { kind: 'finish', status: 'failed', message: 'Order not found', notices: [] };
      const reason = typeof job.input.reason === 'string' ? job.input.reason : `Cancelled by ${job.requestedByName ?? job.requestedBy}`;
      if (order.status === 'draft' || order.status === 'pending_approval' || order.status === 'approved') {
        await setStatus(tx, order, 'cancelled', { reason });
        return cancelled(job, order, tx);
      }
      if (order.status === 'sent' || order.status === 'confirmed') {
        return {
          kind: 'dispatch',
          operation: 'cancel_purchase_order',
          message: `Asking ${order.supplier} to cancel ${order.number}`,
          payload: { order: order.number, supplier: order.supplier, supplierReference: order.supplierReference, reason },
        };
      }
      const text = `${order.number} can't be cancelled any more: it is ${statusLabel(order.status)}.`;
      return { kind: 'finish', status: 'failed', error: text, message: text, notices: [{ kind: 'failed', to: requester, reply: { text } }] };
    },
    async complete(job, result, tx) {
      const order = await lockedOrder(tx, job);
      if (!order) return { status: 'failed', message: 'Order not found', notices: [] };
      if (result.status === 'succeeded') {
        if (order.status === 'sent' || order.status === 'confirmed') {
          const reason = typeof job.input.reason === 'string' ? job.input.reason : `Cancelled by ${job.requestedByName ?? job.requestedBy}`;
          await setStatus(tx, order, 'cancelled', { reason });
        }
        const { kind: _kind, ...finish } = await cancelled(job, order, tx);
        return finish;
      }
      const text = `❌ ${order.supplier} did not confirm cancelling ${order.number}: ${result.error ?? 'no reason given'}. It stays ${statusLabel(order.status)}.`;
      return { status: 'failed', error: result.error, message: text, notices: [{ kind: 'failed', to: requester, reply: { text } }] };
    },
    async deadLetter(job, error, tx) {
      return deadLetterFinish(job, error, await lockedOrder(tx, job), 'cancel');
    },
  };

  async function cancelled(job: JobRecord, order: Order, tx: QueryRunner): Promise<{ kind: 'finish' } & Finish> {
    const text = `🗑️ ${order.number} with ${order.supplier} is cancelled.`;
    const notices: Notice[] = [{ kind: 'completed', to: requester, reply: { text, card: orderCard(order) } }];
    if (order.requestedBy !== job.requestedBy) {
      notices.push({
        kind: 'completed',
        to: await creatorTarget(tx, order),
        reply: { text: `${text} ${job.requestedByName ?? job.requestedBy} cancelled it.` },
      });
    }
    return {
      kind: 'finish',
      status: 'succeeded',
      result: { order: order.number, status: order.status },
      message: `${order.number} cancelled`,
      notices,
      audit: { action: 'procurement.order_cancelled', outcome: 'cancelled', details: { reason: order.statusReason } },
    };
  }

  return [create, approve, reject, cancel];
}
