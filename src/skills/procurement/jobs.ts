import type { QueryRunner } from 'typeorm';
import type {
  ConnectorResult,
  Finish,
  JobHandler,
  JobHandlerEnv,
  JobRecord,
  LateResult,
  Notice,
  StepResult,
} from '../../jobs/types.js';
import { money, statusLabel } from '../format.js';
import type { RoleDirectory } from '../roles.js';
import { operationKey } from '../runtime.js';
import type { SkillSettings } from '../types.js';
import { dispatchedBefore, fallbackCancelRequest, startCancelJob } from './cancellation.js';
import { transitionOrder, type CancelRequest, type OrderChange, type OrderEvent } from './orderMachine.js';
import { applyChange, creatorConversation, findOrder, insertOrder, type Order } from './orders.js';
import { linesText, orderCard, shipToText } from './replies.js';

/**
 * How procurement writes are carried out. Each `run` is idempotent: it looks at the job's subject
 * and the order's status and only does what is still left, so a re-delivered message (pg-boss is
 * at-least-once) or a retry after a crash never creates a second order. Every status change goes
 * through the order table (orderMachine.ts) as a guarded write.
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
    // The supplier sees one send per order, whichever job (create or approve) carries it out.
    idempotencyKey: operationKey('send', order.number),
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


/** Applies an order event through the table; false (and no change) when the table refuses it. */
async function move(tx: QueryRunner, order: Order, event: OrderEvent, change: OrderChange = {}): Promise<CancelRequest | null | false> {
  const outcome = await transitionOrder(tx, order.number, event, change);
  if (!outcome.ok) return false;
  applyChange(order, outcome.to, change);
  return outcome.order.cancelRequest;
}

function who(request: Pick<CancelRequest, 'by' | 'byName'>): string {
  return request.byName ?? request.by;
}

/** After the supplier step: sent/confirmed, rejected by the supplier — or compensated when cancelled meanwhile. */
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
  const reference = typeof result.data?.supplierReference === 'string' ? result.data.supplierReference : undefined;
  const cancelledMeanwhile = order.status === 'cancelling' || order.status === 'cancelled';
  if (cancelledMeanwhile && (result.status === 'succeeded' || result.timedOut)) {
    // The supplier holds (or may hold) an order nobody wants any more: cancel it there too.
    const event: OrderEvent = result.status === 'succeeded' ? 'send_succeeded' : 'send_unknown';
    return compensate(job, order, event, tx, env, tell, reference);
  }
  if (result.status === 'succeeded') {
    if (order.status === 'approved') await move(tx, order, 'send_succeeded', { supplierReference: reference });
    if (result.data?.confirmed === true && order.status === 'sent') await move(tx, order, 'supplier_confirmed', { supplierReference: reference });
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
  if (order.status === 'cancelling') {
    // The supplier declined the order that was being cancelled: nothing to undo there.
    const request = (await move(tx, order, 'supplier_declined')) || fallbackCancelRequest(job, 'cancelled');
    const cancelJob = await startCancelJob(env.enqueue, tx, order.number, request);
    const text = `${order.supplier} did not accept ${order.number} (${reason}), and ${who(request)} had cancelled it meanwhile: it is cancelled, nothing is open at ${order.supplier}.`;
    return {
      status: 'failed',
      error: reason,
      result: { order: order.number, status: order.status, cancelJob },
      message: `${order.supplier} did not accept ${order.number}; it was cancelled meanwhile`,
      notices: tell({ text }, 'failed'),
      audit: { action: 'procurement.order_sent', outcome: 'rejected_by_supplier', details: { reason, cancelJob } },
    };
  }
  await move(tx, order, 'supplier_declined', { reason });
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

/**
 * The supplier answered a send after we had given up on it (result deadline, retries spent): the
 * order is still `approved` (or was cancelled meanwhile, and the compensation may have gone out
 * without the supplier's reference). Apply the answer through the order table as if it had come in
 * time — record the reference and tell "placed", a decline rejects the order, a success for a
 * cancelled order starts (or feeds) the compensation — and say it is a late answer, so whoever was
 * told "needs an operator" knows it is settled. Other states: nothing to do (409 to the caller).
 */
async function lateSend(
  job: JobRecord,
  result: ConnectorResult,
  tx: QueryRunner,
  env: JobHandlerEnv,
  alsoTell: Notice['to'][],
): Promise<LateResult | undefined> {
  const order = await lockedOrder(tx, job);
  if (!order) return undefined;
  const settles = order.status === 'approved' || (result.status === 'succeeded' && (order.status === 'cancelling' || order.status === 'cancelled'));
  if (!settles) return undefined;
  return asLate(job, order, await completeSend(job, { ...result, timedOut: false }, tx, env, alsoTell));
}

/** An outcome applied late: the same notices, saying it is a late answer (and audited as one). */
function asLate(job: JobRecord, order: Order, finish: Finish): LateResult {
  const prefix = `Update on job ${job.id}: ${order.supplier} answered after I had stopped waiting. `;
  return {
    message: `Late answer applied: ${finish.message}`,
    result: finish.result,
    notices: finish.notices.map((n) => ({
      ...n,
      reply: { ...n.reply, text: prefix + n.reply.text, ...(n.reply.cardText ? { cardText: prefix + n.reply.cardText } : {}) },
    })),
    audit: finish.audit && { ...finish.audit, details: { ...finish.audit.details, late: true } },
  };
}

/**
 * The order was cancelled while its send was out, and the supplier has (or may have) it: record
 * what the supplier said, start the cancel job (`cancel_purchase_order`, key `cancel:PO-…`), and tell
 * who asked for the send. The cancel job tells whoever cancelled how it ends.
 */
async function compensate(
  job: JobRecord,
  order: Order,
  event: 'send_succeeded' | 'send_unknown',
  tx: QueryRunner,
  env: JobHandlerEnv,
  tell: (reply: Notice['reply'], kind: Notice['kind']) => Notice[],
  reference: string | undefined,
  status: Finish['status'] = 'succeeded',
): Promise<Finish> {
  const moved = await move(tx, order, event, { supplierReference: reference });
  const request = (moved || null) ?? fallbackCancelRequest(job, order.statusReason ?? 'cancelled');
  const cancelJob = await startCancelJob(env.enqueue, tx, order.number, request);
  await env.event('compensating', `${order.number} was cancelled meanwhile: cancel job ${cancelJob} asks ${order.supplier} to cancel it`);
  const reached =
    event === 'send_succeeded'
      ? `reached ${order.supplier}${order.supplierReference ? ` (ref ${order.supplierReference})` : ''}`
      : `may have reached ${order.supplier} (no clear answer)`;
  const text = `⚠️ ${order.number} ${reached}, but ${who(request)} cancelled it meanwhile. I'm asking ${order.supplier} to cancel it (job ${cancelJob}); ${who(request)} will hear how that ends.`;
  return {
    status,
    result: { order: order.number, status: order.status, supplierReference: order.supplierReference, cancelJob },
    message: `${order.number} ${reached} after it was cancelled; cancel job ${cancelJob} started`,
    notices: tell({ text }, 'info'),
    audit: { action: 'procurement.order_sent', outcome: 'compensating', details: { supplierReference: order.supplierReference, cancelJob } },
  };
}

/**
 * The send step of a job whose order is approved: dispatch it — unless a cancel came first. Then
 * the order never left (cancelled, the cancel job tells the canceller), or — if an earlier attempt
 * of this job may already have sent it — the supplier may hold it (compensate).
 */
async function sendOrSettle(
  job: JobRecord,
  order: Order,
  tx: QueryRunner,
  env: JobHandlerEnv,
  alsoTell: Notice['to'][],
): Promise<StepResult> {
  if (order.status === 'approved') return sendToSupplier(order);
  const tell = (reply: Notice['reply'], kind: Notice['kind']): Notice[] => [
    { kind, to: requester, reply },
    ...alsoTell.map((to) => ({ kind, to, reply })),
  ];
  if (order.status === 'cancelling') {
    if (await dispatchedBefore(tx, job.id)) {
      return { kind: 'finish', ...(await compensate(job, order, 'send_unknown', tx, env, tell, undefined)) };
    }
    const request = (await move(tx, order, 'send_skipped')) || fallbackCancelRequest(job, 'cancelled');
    const cancelJob = await startCancelJob(env.enqueue, tx, order.number, request);
    const text = `${order.number} was not sent to ${order.supplier}: ${who(request)} cancelled it first.`;
    return {
      kind: 'finish',
      status: 'cancelled',
      result: { order: order.number, status: order.status, cancelJob },
      message: `Not sent: ${order.number} was cancelled by ${who(request)}`,
      notices: tell({ text }, 'info'),
      audit: { action: 'procurement.order_sent', outcome: 'not_sent_cancelled', details: { cancelJob } },
    };
  }
  const done = order.status === 'sent' || order.status === 'confirmed';
  return {
    kind: 'finish',
    status: done ? 'succeeded' : 'failed',
    message: `${order.number} is already ${statusLabel(order.status)}`,
    notices: [],
  };
}

/** Retries of a send are spent: if the order was cancelled meanwhile, the supplier may still hold it. */
async function sendDeadLetter(
  job: JobRecord,
  error: string,
  tx: QueryRunner,
  env: JobHandlerEnv,
): Promise<Finish> {
  const order = await lockedOrder(tx, job);
  if (order?.status === 'cancelling') {
    const tell = (reply: Notice['reply'], kind: Notice['kind']): Notice[] => [{ kind, to: requester, reply }];
    return compensate(job, order, 'send_unknown', tx, env, tell, undefined, 'dead_letter');
  }
  return deadLetterFinish(job, error, order, 'send');
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
  // The buttons carry no nonce here: the notifier binds one to the conversation and approver it
  // reaches (src/bot/cards/cardNonces.ts).
  return approvers.map((userId) => {
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
            { title: 'Approve', style: 'positive', data: { verb: 'do', action: 'procurement.approve_order', order: order.number, ref } },
            { title: 'Reject', style: 'destructive', data: { verb: 'do', action: 'procurement.reject_order', order: order.number, ref } },
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
          await move(tx, order, 'submit_for_approval', { reason: `over the ${money(settings.approvalThreshold, order.currency)} approval limit` });
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
        await move(tx, order, 'auto_approve', { approvedBy: 'auto' });
        await env.event('approved', `Approved automatically (under ${money(settings.approvalThreshold, order.currency)})`);
      }
      return sendOrSettle(job, order, tx, env, []);
    },
    complete: (job, result, tx, env) => completeSend(job, result, tx, env, []),
    deadLetter: (job, error, tx, env) => sendDeadLetter(job, error, tx, env),
    late: (job, result, tx, env) => lateSend(job, result, tx, env, []),
  };


  const approve: JobHandler = {
    action: 'procurement.approve_order',
    async run(job, tx, env) {
      const order = await lockedOrder(tx, job);
      if (!order) return { kind: 'finish', status: 'failed', message: 'Order not found', notices: [] };
      const creator = await creatorTarget(tx, order);
      if (order.status === 'pending_approval') {
        // Jobs queued before approvals became a guarded write at confirmation: approve here.
        if (order.requestedBy === job.requestedBy) {
          const text = `You can't approve ${order.number}: you raised it yourself.`;
          return { kind: 'finish', status: 'failed', error: 'self-approval', message: text, notices: [{ kind: 'failed', to: requester, reply: { text } }] };
        }
        const by = job.requestedByName ?? job.requestedBy;
        await move(tx, order, 'approve', { approvedBy: job.requestedBy, approvedByName: by, reason: `approved by ${by}` });
        await env.event('approved', `Approved by ${by}`);
      }
      if (order.status === 'approved' && order.approvedBy !== job.requestedBy) {
        const text = `${order.number} wasn't sent by this job: it was approved by ${order.approvedByName ?? order.approvedBy}.`;
        return { kind: 'finish', status: 'failed', error: text, message: text, notices: [{ kind: 'failed', to: requester, reply: { text } }] };
      }
      return sendOrSettle(job, order, tx, env, [creator]);
    },
    async complete(job, result, tx, env) {
      const order = await lockedOrder(tx, job);
      const creator = order ? await creatorTarget(tx, order) : undefined;
      return completeSend(job, result, tx, env, creator ? [creator] : []);
    },
    deadLetter: (job, error, tx, env) => sendDeadLetter(job, error, tx, env),
    async late(job, result, tx, env) {
      const order = await lockedOrder(tx, job);
      const creator = order ? await creatorTarget(tx, order) : undefined;
      return lateSend(job, result, tx, env, creator ? [creator] : []);
    },
  };

  const reject: JobHandler = {
    action: 'procurement.reject_order',
    async run(job, tx) {
      const order = await lockedOrder(tx, job);
      if (!order) return { kind: 'finish', status: 'failed', message: 'Order not found', notices: [] };
      const by = job.requestedByName ?? job.requestedBy;
      const note = typeof job.input.note === 'string' ? job.input.note : undefined;
      // Rejected at confirmation (guarded write); older jobs still reject here.
      if (order.status === 'pending_approval') await move(tx, order, 'reject', { reason: `Rejected by ${by}${note ? `: ${note}` : ''}` });
      if (order.status !== 'rejected') {
        const text = `${order.number} wasn't rejected: it is ${statusLabel(order.status)}.`;
        return { kind: 'finish', status: 'failed', error: text, message: text, notices: [{ kind: 'failed', to: requester, reply: { text } }] };
      }
      const text = `${order.number} was rejected by ${by}${note ? ` (${note})` : ''}. Nothing was sent to ${order.supplier}.`;
      return {
        kind: 'finish',
        status: 'succeeded',
        result: { order: order.number, status: order.status },
        message: `${order.number} rejected by ${by}`,
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
      if (order.status !== 'cancelled' && order.status !== 'cancelling') {
        // Jobs queued before the cancel became a guarded write at confirmation: cancel here.
        await move(tx, order, 'cancel', { reason, cancelRequest: fallbackCancelRequest(job, reason) });
      }
      if (order.status === 'cancelled') return cancelled(job, order, tx, 'Nothing was open at the supplier.');
      if (order.status === 'cancelling') {
        return {
          kind: 'dispatch',
          operation: 'cancel_purchase_order',
          // `cancel:PO-…[:n]` is the cancel job's own key; a cancel job queued before those keys gets it too.
          idempotencyKey: job.idempotencyKey.startsWith('cancel:') ? job.idempotencyKey : operationKey('cancel', order.number),
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
        await move(tx, order, 'cancel_confirmed');
        const { kind: _kind, ...finish } = await cancelled(job, order, tx, `${order.supplier} confirmed the cancel.`);
        return finish;
      }
      if (result.timedOut) {
        const text = `⚠️ ${order.supplier} did not answer the cancel of ${order.number} in time (${result.error ?? 'no answer'}). It is ${statusLabel(order.status)}; job ${job.id} needs an operator to check with ${order.supplier}.`;
        return { status: 'failed', error: result.error, message: text, notices: [{ kind: 'failed', to: requester, reply: { text } }] };
      }
      await move(tx, order, 'cancel_refused', { reason: `${order.supplier} refused to cancel: ${result.error ?? 'no reason given'}` });
      const text = `❌ ${order.supplier} did not confirm cancelling ${order.number}: ${result.error ?? 'no reason given'}. It stays ${statusLabel(order.status)}.`;
      return { status: 'failed', error: result.error, message: text, notices: [{ kind: 'failed', to: requester, reply: { text } }] };
    },
    async deadLetter(job, error, tx) {
      return deadLetterFinish(job, error, await lockedOrder(tx, job), 'cancel');
    },
    // The supplier answers the cancel after we had given up on it: the order is still `cancelling`.
    async late(job, result, tx, env) {
      const order = await lockedOrder(tx, job);
      if (order?.status !== 'cancelling') return undefined;
      return asLate(job, order, await cancel.complete(job, { ...result, timedOut: false }, tx, env));
    },
  };

  async function cancelled(job: JobRecord, order: Order, tx: QueryRunner, how: string): Promise<{ kind: 'finish' } & Finish> {
    const text = `🗑️ ${order.number} with ${order.supplier} is cancelled. ${how}`;
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
