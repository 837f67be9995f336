import type { QueryRunner } from 'typeorm';
import type { ConnectorResult, Finish, JobHandler, JobHandlerEnv, JobRecord, StepResult } from '../../jobs/types.js';
import { money, statusLabel } from '../format.js';
import {
  DECISIONS,
  FINAL,
  findDeclaration,
  findShipmentById,
  markShipmentCleared,
  setAuthorityReference,
  type Decision,
  type Declaration,
} from './declarations.js';
import { declarationPayload } from './filing.js';
import { mustTransition } from './lifecycle.js';
import { declarationCard } from './replies.js';
import { CUSTOMS_OPERATIONS } from './simulator.js';

/**
 * How a filed declaration goes through customs: two durable jobs, both started by the filer's
 * confirmation (one transaction with the declaration itself).
 *
 * - `customs.file_declaration` submits it (draft → submitted) through the connector; customs'
 *   acknowledgment puts it under review (→ under_review, the filer is told, with the reference).
 * - `customs.await_decision` waits for customs' decision (→ cleared / held / rejected; the filer is
 *   told; cleared marks the shipment `cleared`, ready to receive).
 *
 * Every step is idempotent: it looks at the declaration's status (locked) and only does what is
 * left, so a re-delivered message or a retry never files twice; results may arrive in either
 * order (a decision before the acknowledgment walks the declaration through under_review).
 */

export const FILE_JOB = 'customs.file_declaration';
export const DECISION_JOB = 'customs.await_decision';

const filer = { requester: true } as const;

async function lockedDeclaration(tx: QueryRunner, job: JobRecord): Promise<Declaration | undefined> {
  return job.subjectId ? findDeclaration(tx, job.subjectId, { lock: true }) : undefined;
}

async function payloadOf(tx: QueryRunner, d: Declaration): Promise<Record<string, unknown>> {
  return declarationPayload(d, await findShipmentById(tx, d.shipmentId));
}

function stringOf(data: Record<string, unknown> | undefined, key: string): string | undefined {
  const v = data?.[key];
  return typeof v === 'string' && v.length > 0 ? v.slice(0, 500) : undefined;
}

function numberOf(data: Record<string, unknown> | undefined, key: string): number | undefined {
  const v = data?.[key];
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}

/** Customs has decided (held can still be replaced, but customs is done with it). */
const isDecided = (d: Declaration) => FINAL.includes(d.status) || d.status === 'held';

const missing = (what: string): Finish => ({ status: 'failed', error: `${what} not found`, message: `The ${what} disappeared`, notices: [] });

/** Nothing left to do (a repeat, or the other job got there first). */
const quiet = (d: Declaration, why: string): Finish => ({
  status: 'succeeded',
  result: { declaration: d.number, status: d.status },
  message: `${d.number} is already ${statusLabel(d.status)}${why ? ` (${why})` : ''}`,
  notices: [],
});

/** Brings a declaration that customs has seen to under_review (from draft or submitted). */
async function toUnderReview(tx: QueryRunner, d: Declaration, env: JobHandlerEnv, reference?: string): Promise<void> {
  if (d.status === 'draft') {
    await mustTransition(tx, d, 'submit', { authorityReference: reference });
    await env.event('declaration_status', `${d.number} submitted`);
  }
  if (d.status === 'submitted' || d.status === 'accepted') {
    await mustTransition(tx, d, 'acknowledge', { authorityReference: reference });
    await env.event('declaration_status', `${d.number} is under review${reference ? ` (ref ${reference})` : ''}`);
  }
}

/** Applies customs' decision, marks a cleared shipment ready to receive, and tells the filer. */
async function applyDecision(
  job: JobRecord,
  d: Declaration,
  decision: Decision,
  data: Record<string, unknown> | undefined,
  tx: QueryRunner,
  env: JobHandlerEnv,
): Promise<Finish> {
  const reference = stringOf(data, 'authorityReference');
  const reason = stringOf(data, 'reason');
  await toUnderReview(tx, d, env, reference);
  const shipment = await findShipmentById(tx, d.shipmentId);
  const label = `${d.number} for ${d.shipment}`;
  const ref = d.authorityReference ?? reference;
  let text: string;
  if (decision === 'cleared') {
    const duty = numberOf(data, 'dutyAssessed') ?? d.dutyEstimate ?? undefined;
    await mustTransition(tx, d, 'clear', { authorityReference: reference, dutyAmount: duty, reason });
    const released = await markShipmentCleared(tx, d.shipmentId);
    if (released) await env.event('shipment_status', `${d.shipment} is cleared: ready to receive`);
    const where = shipment?.warehouse ? ` into ${shipment.warehouse}${shipment.warehouseName ? ` ${shipment.warehouseName}` : ''}` : '';
    text = `✅ ${label} is cleared by customs${ref ? ` (ref ${ref})` : ''}${duty !== undefined ? `; duty assessed ${money(duty, d.currency)}` : ''}. ${d.shipment} is ready to receive${where}.`;
  } else if (decision === 'held') {
    await mustTransition(tx, d, 'hold', { authorityReference: reference, reason: reason ?? 'no reason given' });
    const inspection = /inspection/i.test(reason ?? '');
    const next = inspection
      ? `The goods stay at customs until the inspection is done.`
      : `File a corrected declaration ("file a declaration for ${d.shipment}") and it replaces this one.`;
    text = `⚠️ ${label} is held by customs${ref ? ` (ref ${ref})` : ''}: ${reason ?? 'no reason given'}. ${next}`;
  } else {
    await mustTransition(tx, d, 'reject', { authorityReference: reference, reason: reason ?? 'no reason given' });
    text = `❌ ${label} was rejected by customs${ref ? ` (ref ${ref})` : ''}: ${reason ?? 'no reason given'}.`;
  }
  await env.event('declaration_status', `${d.number} ${statusLabel(d.status)}${reason ? `: ${reason}` : ''}`);
  return {
    status: 'succeeded',
    result: { declaration: d.number, status: d.status, authorityReference: d.authorityReference, dutyAmount: d.dutyAmount },
    message: `${d.number} ${statusLabel(d.status)} by customs`,
    notices: [{ kind: decision === 'cleared' ? 'completed' : 'failed', to: filer, reply: { text, cardText: text, card: declarationCard(d, shipment) } }],
    audit: { action: 'customs.declaration_decided', outcome: d.status, details: { declaration: d.number, shipment: d.shipment, reason, reference: d.authorityReference } },
  };
}

function deadLetterFinish(job: JobRecord, error: string, d: Declaration | undefined, what: string, tell: boolean): Finish {
  const state = d && (d.status === 'submitted' || d.status === 'draft') ? 'customs never acknowledged it' : `it is ${d ? statusLabel(d.status) : 'unknown'}`;
  const text = d
    ? `⚠️ I couldn't ${what} ${d.number} for ${d.shipment}: ${error}. I tried ${job.attempts} time${job.attempts === 1 ? '' : 's'}; ${state}, and job ${job.id} is in the dead-letter queue for an operator to look at.`
    : `⚠️ I couldn't ${what} your declaration: ${error}. Job ${job.id} is in the dead-letter queue for an operator to look at.`;
  return {
    status: 'dead_letter',
    error,
    message: `Gave up after ${job.attempts} attempt${job.attempts === 1 ? '' : 's'}: ${error}`,
    notices: tell ? [{ kind: 'failed', to: filer, reply: { text } }] : [],
    audit: { action: job.action, outcome: 'dead_letter', details: { error } },
  };
}

function decisionIn(data: Record<string, unknown> | undefined): Decision | undefined {
  const status = data?.status;
  return typeof status === 'string' && (DECISIONS as readonly string[]).includes(status) ? (status as Decision) : undefined;
}

export function customsJobHandlers(): JobHandler[] {
  const file: JobHandler = {
    action: FILE_JOB,
    async run(job, tx, env): Promise<StepResult> {
      const d = await lockedDeclaration(tx, job);
      if (!d) return { kind: 'finish', ...missing('declaration') };
      if (d.status === 'draft') {
        await mustTransition(tx, d, 'submit');
        await env.event('declaration_status', `${d.number} submitted`);
      }
      if (d.status !== 'submitted') return { kind: 'finish', ...quiet(d, 'nothing left to submit') };
      return {
        kind: 'dispatch',
        operation: CUSTOMS_OPERATIONS.submit,
        message: `Submitting ${d.number} (${d.shipment}) to customs`,
        payload: await payloadOf(tx, d),
      };
    },
    async complete(job, result: ConnectorResult, tx, env): Promise<Finish> {
      const d = await lockedDeclaration(tx, job);
      if (!d) return missing('declaration');
      const reference = stringOf(result.data, 'authorityReference');
      if (result.status === 'succeeded') {
        const decision = decisionIn(result.data);
        // A broker that answers with the decision straight away.
        if (decision && !isDecided(d)) return applyDecision(job, d, decision, result.data, tx, env);
        if (d.status !== 'draft' && d.status !== 'submitted' && d.status !== 'accepted') {
          if (reference) await setAuthorityReference(tx, d, reference);
          return quiet(d, 'acknowledged after the decision');
        }
        await toUnderReview(tx, d, env, reference);
        const text = `📨 ${d.number} for ${d.shipment} is submitted and under review: customs acknowledged it${d.authorityReference ? ` (ref ${d.authorityReference})` : ''}. I'll tell you when they decide.`;
        return {
          status: 'succeeded',
          result: { declaration: d.number, status: d.status, authorityReference: d.authorityReference },
          message: `${d.number} acknowledged by customs`,
          notices: [{ kind: 'info', to: filer, reply: { text } }],
          audit: { action: 'customs.declaration_submitted', outcome: d.status, details: { declaration: d.number, reference: d.authorityReference } },
        };
      }
      const reason = result.error ?? 'no reason given';
      if (result.timedOut) {
        const text = `⚠️ I got no acknowledgment for ${d.number} (${d.shipment}): ${reason}. It is ${statusLabel(d.status)} but may not have reached customs; job ${job.id} needs an operator to check.`;
        return {
          status: 'failed',
          error: reason,
          result: { declaration: d.number, status: d.status },
          message: `No acknowledgment for ${d.number} in time`,
          notices: isDecided(d) ? [] : [{ kind: 'failed', to: filer, reply: { text } }],
          audit: { action: 'customs.declaration_submitted', outcome: 'timed_out', details: { reason } },
        };
      }
      if (isDecided(d)) return { ...quiet(d, 'refusal after the decision'), status: 'failed', error: reason };
      // Customs can only refuse what was submitted to it.
      if (d.status === 'draft') await mustTransition(tx, d, 'submit');
      await mustTransition(tx, d, 'reject', { reason });
      await env.event('declaration_status', `${d.number} rejected: ${reason}`);
      const text = `❌ Customs did not accept ${d.number} for ${d.shipment}: ${reason}. It is now rejected.`;
      return {
        status: 'failed',
        error: reason,
        result: { declaration: d.number, status: d.status },
        message: `Customs refused ${d.number}`,
        notices: [{ kind: 'failed', to: filer, reply: { text, card: declarationCard(d, await findShipmentById(tx, d.shipmentId)) } }],
        audit: { action: 'customs.declaration_submitted', outcome: 'rejected', details: { reason } },
      };
    },
    async deadLetter(job, error, tx) {
      const d = await lockedDeclaration(tx, job);
      return deadLetterFinish(job, error, d, 'submit', !d || !isDecided(d));
    },
  };

  const decision: JobHandler = {
    action: DECISION_JOB,
    async run(job, tx): Promise<StepResult> {
      const d = await lockedDeclaration(tx, job);
      if (!d) return { kind: 'finish', ...missing('declaration') };
      if (isDecided(d)) return { kind: 'finish', ...quiet(d, 'decided') };
      return {
        kind: 'dispatch',
        operation: CUSTOMS_OPERATIONS.decision,
        message: `Waiting for customs' decision on ${d.number}`,
        payload: await payloadOf(tx, d),
      };
    },
    async complete(job, result, tx, env): Promise<Finish> {
      const d = await lockedDeclaration(tx, job);
      if (!d) return missing('declaration');
      if (isDecided(d)) return quiet(d, 'decided before');
      if (result.status === 'succeeded') {
        const decided = decisionIn(result.data);
        if (decided) return applyDecision(job, d, decided, result.data, tx, env);
        const said = typeof result.data?.status === 'string' ? result.data.status.slice(0, 40) : 'nothing';
        result = { status: 'failed', error: `customs answered "${said}", not a decision` };
      }
      const reason = result.error ?? 'no reason given';
      const text = result.timedOut
        ? `⚠️ No decision from customs on ${d.number} (${d.shipment}) yet: ${reason}. It is still ${statusLabel(d.status)}; ask "status of ${d.number}" later, and job ${job.id} needs an operator to follow up.`
        : `⚠️ I couldn't get customs' decision on ${d.number} (${d.shipment}): ${reason}. It is still ${statusLabel(d.status)}; job ${job.id} needs an operator to follow up.`;
      return {
        status: 'failed',
        error: reason,
        result: { declaration: d.number, status: d.status },
        message: result.timedOut ? `No decision on ${d.number} in time` : `No decision on ${d.number}`,
        // Before customs has even acknowledged it, the filing job speaks for the declaration.
        notices: d.status === 'under_review' ? [{ kind: 'failed', to: filer, reply: { text } }] : [],
        audit: { action: 'customs.declaration_decided', outcome: result.timedOut ? 'timed_out' : 'failed', details: { reason } },
      };
    },
    async deadLetter(job, error, tx) {
      const d = await lockedDeclaration(tx, job);
      // Only when customs has it: otherwise the filing job already told the filer what went wrong.
      return deadLetterFinish(job, error, d, 'get the decision on', d?.status === 'under_review');
    },
  };

  return [file, decision];
}
