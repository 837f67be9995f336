import { z } from 'zod';
import type { ConnectorRequest } from '../../jobs/connectors/types.js';
import type { ConnectorResult } from '../../jobs/types.js';
import { checkHsCode, dutyOf, formatHs } from './tariff.js';

/**
 * SIMULATED customs authority, for demos and tests: the `simulator` connector hands customs
 * operations here instead of to its simulated supplier. Nothing leaves the process.
 *
 * - `submit_customs_declaration`: customs acknowledges the entry after SIMULATOR_DELAY_MS with a
 *   `SIM-CUS-…` reference and puts it under review (SIMULATOR_OUTCOME=reject: the submission is
 *   refused; =error: the customs system is down and every attempt fails).
 * - `await_customs_decision`: CUSTOMS_REVIEW_MS after the acknowledgment customs decides, by these
 *   rules, in order:
 *   a line from a restricted origin (CUSTOMS_RESTRICTED_ORIGINS) → rejected; a line with a
 *   missing or invalid HS code (malformed, reserved chapter, or a subheading the shipped tariff
 *   table does not know) or no origin → held; a customs value over CUSTOMS_INSPECTION_THRESHOLD →
 *   held for physical inspection; otherwise cleared, with the duty the tariff table gives.
 */

export const CUSTOMS_OPERATIONS = {
  submit: 'submit_customs_declaration',
  decision: 'await_customs_decision',
} as const;

export function isCustomsOperation(operation: string): boolean {
  return operation === CUSTOMS_OPERATIONS.submit || operation === CUSTOMS_OPERATIONS.decision;
}

export interface CustomsAuthorityRules {
  /** How long the review takes (ms) before customs decides. */
  reviewMs: number;
  /** A customs value above this (USD) goes to physical inspection. */
  inspectionThreshold: number;
  /** ISO country codes whose goods are refused outright. */
  restrictedOrigins: readonly string[];
}

export const DEFAULT_CUSTOMS_RULES: CustomsAuthorityRules = { reviewMs: 10_000, inspectionThreshold: 25_000, restrictedOrigins: [] };

const payloadSchema = z.object({
  declaration: z.string(),
  customsValue: z.number(),
  currency: z.string().default('USD'),
  kind: z.enum(['import', 'export', 'transit']).default('import'),
  lines: z.array(
    z.object({
      lineNo: z.number(),
      description: z.string(),
      hsCode: z.string().nullable().optional(),
      originCountry: z.string().nullable().optional(),
      value: z.number(),
    }),
  ),
});

export interface CustomsDecision {
  status: 'cleared' | 'held' | 'rejected';
  reason?: string;
  dutyAssessed: number;
}

const money = (n: number, currency: string) => `${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} ${currency}`;

/** What the simulated authority decides for a declaration (see the rules above). */
export function customsDecision(payload: Record<string, unknown>, rules: CustomsAuthorityRules): CustomsDecision {
  const d = payloadSchema.parse(payload);
  const restricted = new Set(rules.restrictedOrigins.map((c) => c.toUpperCase()));
  const banned = d.lines.filter((l) => l.originCountry && restricted.has(l.originCountry.toUpperCase()));
  if (banned.length > 0) {
    const origins = [...new Set(banned.map((l) => l.originCountry!.toUpperCase()))].join(', ');
    return { status: 'rejected', reason: `goods of origin ${origins} are not admissible (restricted origin)`, dutyAssessed: 0 };
  }
  const problems: string[] = [];
  let duty = 0;
  for (const line of d.lines) {
    const check = checkHsCode(line.hsCode);
    if (check.status === 'invalid') problems.push(`line ${line.lineNo} (${line.description}): ${check.reason}`);
    else if (check.status === 'unknown') problems.push(`line ${line.lineNo} (${line.description}): HS code ${formatHs(line.hsCode!)} is not in the simulated authority's nomenclature (the shipped tariff table)`);
    else if (d.kind === 'import') duty += dutyOf(line.value, check.entry.rate);
    if (!line.originCountry) problems.push(`line ${line.lineNo} (${line.description}): no country of origin`);
  }
  if (problems.length > 0) return { status: 'held', reason: problems.join('; '), dutyAssessed: 0 };
  if (d.customsValue > rules.inspectionThreshold) {
    return {
      status: 'held',
      reason: `selected for physical inspection: customs value ${money(d.customsValue, d.currency)} is over ${money(rules.inspectionThreshold, d.currency)}`,
      dutyAssessed: 0,
    };
  }
  return { status: 'cleared', dutyAssessed: Math.round(duty * 100) / 100 };
}

export interface PlayedStep {
  result: ConnectorResult;
  delayMs: number;
  message: string;
}

/** The simulated authority's answer to one customs step, and when it comes. */
export function playCustomsAuthority(
  request: ConnectorRequest,
  options: { outcome: 'confirm' | 'reject' | 'error'; ackDelayMs: number; rules?: CustomsAuthorityRules },
): PlayedStep {
  const rules = options.rules ?? DEFAULT_CUSTOMS_RULES;
  const number = typeof request.payload.declaration === 'string' ? request.payload.declaration : `job-${request.jobId}`;
  const reference = `SIM-CUS-${number.replace(/[^0-9]/g, '')}`;
  if (request.operation === CUSTOMS_OPERATIONS.submit) {
    const result: ConnectorResult =
      options.outcome === 'reject'
        ? { status: 'failed', data: { simulated: true }, error: 'the customs system refused the submission (simulated: SIMULATOR_OUTCOME=reject)' }
        : { status: 'succeeded', data: { simulated: true, authorityReference: reference, status: 'under_review' } };
    return { result, delayMs: options.ackDelayMs, message: `Simulator: ${number} handed to the simulated customs authority; it acknowledges ${when(options.ackDelayMs)}.` };
  }
  const decision = customsDecision(request.payload, rules);
  // The review starts once the entry is acknowledged.
  const delayMs = options.ackDelayMs + rules.reviewMs;
  return {
    result: { status: 'succeeded', data: { simulated: true, authorityReference: reference, ...decision } },
    delayMs,
    message: `Simulator: the simulated customs authority is reviewing ${number}; it decides ${when(delayMs)}.`,
  };
}

function when(ms: number): string {
  if (ms === 0) return 'at once';
  return `in about ${ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${ms} ms`}`;
}
