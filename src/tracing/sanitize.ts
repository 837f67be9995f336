import { cleanText } from '../db/text.js';
import type { TraceRecord } from './turnTrace.js';

export { cleanText };

/** A record the database would reject for reasons sanitising cannot fix. */
export class InvalidTraceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidTraceError';
  }
}

export const TRACE_COLUMNS = [
  'turn_id',
  'conversation_id',
  'channel_id',
  'activity_id',
  'user_id',
  'started_at',
  'total_ms',
  'stages',
  'intent',
  'confidence',
  'attributes',
  'outcome',
  'error',
] as const;

/** SQL casts per column, so every placeholder has an explicit type in a multi-row VALUES list. */
export const TRACE_COLUMN_CASTS: Record<(typeof TRACE_COLUMNS)[number], string> = {
  turn_id: 'text',
  conversation_id: 'text',
  channel_id: 'text',
  activity_id: 'text',
  user_id: 'text',
  started_at: 'timestamptz',
  total_ms: 'float8',
  stages: 'jsonb',
  intent: 'text',
  confidence: 'float8',
  attributes: 'jsonb',
  outcome: 'text',
  error: 'text',
};

function optionalText(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  return cleanText(typeof value === 'string' ? value : String(value));
}

/**
 * The INSERT parameters for one record, in TRACE_COLUMNS order, sanitised. Throws
 * InvalidTraceError for a record that cannot be stored honestly (no valid start time, or a
 * non-finite total). Tolerates records built by hand with the wrong runtime types.
 */
export function traceRowParams(record: TraceRecord): unknown[] {
  const startedAt = record.startedAt instanceof Date ? record.startedAt : new Date(record.startedAt as unknown as string);
  if (Number.isNaN(startedAt.getTime())) throw new InvalidTraceError('startedAt is not a valid date');
  if (typeof record.totalMs !== 'number' || !Number.isFinite(record.totalMs)) {
    throw new InvalidTraceError('totalMs is not a finite number');
  }

  const stages = new Map<string, number>();
  for (const [name, ms] of Object.entries(record.stages ?? {})) {
    if (typeof ms !== 'number' || !Number.isFinite(ms)) continue;
    const key = cleanText(name);
    stages.set(key, (stages.get(key) ?? 0) + ms);
  }

  const attributes = new Map<string, string | number | boolean>();
  for (const [name, value] of Object.entries(record.attributes ?? {})) {
    let clean: string | number | boolean;
    if (typeof value === 'boolean') clean = value;
    else if (typeof value === 'number') clean = Number.isFinite(value) ? value : String(value);
    else clean = cleanText(typeof value === 'string' ? value : String(value));
    attributes.set(cleanText(name), clean);
  }

  const confidence =
    typeof record.confidence === 'number' && Number.isFinite(record.confidence) ? record.confidence : null;

  return [
    cleanText(String(record.turnId)),
    optionalText(record.conversationId),
    optionalText(record.channelId),
    optionalText(record.activityId),
    optionalText(record.userId),
    startedAt,
    record.totalMs,
    // Object.fromEntries makes own properties, so a key like "__proto__" is data, not a prototype.
    JSON.stringify(Object.fromEntries(stages)),
    optionalText(record.intent),
    confidence,
    JSON.stringify(Object.fromEntries(attributes)),
    optionalText(record.outcome) ?? 'unknown',
    optionalText(record.error),
  ];
}
