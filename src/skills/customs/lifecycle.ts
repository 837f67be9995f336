import type { QueryRunner } from 'typeorm';
import { execute } from '../../db/sql.js';
import { StateMachine } from '../stateMachine.js';
import { DECISIONS, DECLARATION_STATUSES, type Declaration, type DeclarationStatus } from './declarations.js';

/**
 * The customs declaration lifecycle as a table: (state, event) → next state + side effect. Every
 * status change goes through `transitionDeclaration` (declarations.ts), a conditional
 * `UPDATE … WHERE status = ANY(<the event's source states>) RETURNING`, so a change the table does
 * not allow never reaches the database, whatever the callers read before. Rendered in
 * docs/notes/callbacks-lifecycles.md; test/reliability/customs.lifecycle.test.ts walks every pair.
 *
 * `accepted` is a legacy status (kept for rows of older versions): it behaves like `submitted`.
 * A decision that arrives while the declaration is still `draft`/`submitted` walks it through
 * `submit` and `acknowledge` first (customs can only decide what it has seen).
 */
export const DECLARATION_EVENTS = ['submit', 'acknowledge', 'clear', 'hold', 'reject', 'replace'] as const;
export type DeclarationEvent = (typeof DECLARATION_EVENTS)[number];

const SUBMIT_EFFECT = 'job customs.file_declaration sends submit_customs_declaration (Idempotency-Key file:CD-…)';
const ACK_EFFECT = 'tell the filer it is under review, with the customs reference';

export const declarationMachine = new StateMachine<DeclarationStatus, DeclarationEvent>('customs declaration', DECLARATION_STATUSES, DECLARATION_EVENTS, [
  { from: 'draft', event: 'submit', to: 'submitted', effect: SUBMIT_EFFECT },
  { from: 'submitted', event: 'acknowledge', to: 'under_review', effect: ACK_EFFECT },
  { from: 'accepted', event: 'acknowledge', to: 'under_review', effect: ACK_EFFECT },
  { from: 'under_review', event: 'clear', to: 'cleared', effect: 'shipment → cleared (ready to receive); tell the filer' },
  { from: 'under_review', event: 'hold', to: 'held', effect: 'tell the filer why, and that a corrected filing replaces it' },
  { from: 'under_review', event: 'reject', to: 'rejected', effect: 'tell the filer why' },
  { from: 'submitted', event: 'reject', to: 'rejected', effect: 'customs refused the submission: tell the filer why' },
  { from: 'accepted', event: 'reject', to: 'rejected', effect: 'customs refused the submission: tell the filer why' },
  { from: 'held', event: 'replace', to: 'cancelled', effect: 'the corrected declaration is drafted in the same transaction (jobs file:/decision:CD-…)' },
]);

/** The one state an event leads to (each event of this table has a single target). */
export function targetOf(event: DeclarationEvent): DeclarationStatus {
  const targets = new Set(declarationMachine.table.filter((r) => r.event === event).map((r) => r.to));
  if (targets.size !== 1) throw new Error(`customs declaration: ${event} must have exactly one target state`);
  return [...targets][0]!;
}

/** The idempotency keys of a declaration's jobs (and so of the calls to the broker): one per declaration. */
export const filingKey = (number: string) => `file:${number}`;
export const decisionKey = (number: string) => `decision:${number}`;

export interface DeclarationChange {
  reason?: string;
  authorityReference?: string;
  dutyAmount?: number;
}

export type TransitionResult = { ok: true; from: DeclarationStatus; to: DeclarationStatus } | { ok: false; status: DeclarationStatus | undefined; reason: string };

/**
 * Applies `event` to the declaration as one guarded write: the UPDATE only matches while the row is
 * in one of the event's source states, so two writers racing on the same declaration can't both
 * move it (the second matches no row and is refused, with nothing changed). Updates `d` in place.
 */
export async function transitionDeclaration(
  tx: QueryRunner,
  d: Declaration,
  event: DeclarationEvent,
  change: DeclarationChange = {},
): Promise<TransitionResult> {
  const to = targetOf(event);
  const decided = (DECISIONS as readonly string[]).includes(to);
  const { rows } = await execute<{ from: DeclarationStatus }>(
    tx,
    `UPDATE customs_declarations d SET status = $2,
       status_reason = CASE WHEN $3::text IS NULL THEN d.status_reason ELSE $3 END,
       authority_reference = COALESCE($4, d.authority_reference),
       duty_amount = COALESCE($5, d.duty_amount),
       filed_at = CASE WHEN $2 = 'submitted' THEN COALESCE(d.filed_at, now()) ELSE d.filed_at END,
       decided_at = CASE WHEN $6 THEN now() ELSE d.decided_at END,
       cleared_at = CASE WHEN $2 = 'cleared' THEN now() ELSE d.cleared_at END,
       updated_at = now()
     FROM (SELECT id, status FROM customs_declarations WHERE id = $1 FOR UPDATE) old
     WHERE d.id = old.id AND d.status = ANY($7::text[])
     RETURNING old.status AS "from"`,
    [d.id, to, change.reason ?? null, change.authorityReference ?? null, change.dutyAmount ?? null, decided, declarationMachine.sourcesOf(event)],
  );
  const from = rows[0]?.from;
  if (!from) {
    const current = await execute<{ status: DeclarationStatus }>(tx, 'SELECT status FROM customs_declarations WHERE id = $1', [d.id]);
    const status = current.rows[0]?.status;
    const decision = status ? declarationMachine.decide(status, event) : undefined;
    return { ok: false, status, reason: decision && !decision.ok ? decision.reason : `${d.number} not found` };
  }
  const now = new Date();
  d.status = to;
  if (change.reason) d.statusReason = change.reason;
  if (change.authorityReference) d.authorityReference = change.authorityReference;
  if (change.dutyAmount !== undefined) d.dutyAmount = change.dutyAmount;
  if (to === 'submitted') d.filedAt ??= now;
  if (decided) d.decidedAt = now;
  if (to === 'cleared') d.clearedAt = now;
  return { ok: true, from, to };
}

/** For callers that hold the row lock and checked the state: a refusal here is a bug, so it throws (rolling back). */
export async function mustTransition(tx: QueryRunner, d: Declaration, event: DeclarationEvent, change: DeclarationChange = {}): Promise<void> {
  const result = await transitionDeclaration(tx, d, event, change);
  if (!result.ok) throw new Error(`${d.number}: ${result.reason}`);
}
