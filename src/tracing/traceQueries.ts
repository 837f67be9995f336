import type { DataSource } from 'typeorm';
import { execute } from '../db/sql.js';
import type { TraceRecord, TurnOutcome } from './turnTrace.js';

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
}

export interface StageSummary extends Percentiles {
  /** Turns in the window that recorded this stage. */
  count: number;
}

export interface IntentSummary extends Percentiles {
  /** null: turns without an intent (rejected, no model, …). */
  intent: string | null;
  count: number;
}

export interface TraceSummary {
  windowMs: number;
  /** Start of the window (inclusive). */
  since: Date;
  /** End of the window (inclusive): the time the summary was asked for. */
  until: Date;
  /** Turns that started in the window. */
  count: number;
  /** Percentiles of total turn time (ms); null when the window is empty. */
  total: Percentiles | null;
  /** Per stage: percentiles of the stage's time (ms) over the turns that ran it. */
  stages: Record<string, StageSummary>;
  /** Per intent, most frequent first: percentiles of total turn time (ms). */
  intents: IntentSummary[];
}

export const RECENT_TRACES_MAX = 1000;

interface TraceRow {
  turn_id: string;
  conversation_id: string | null;
  channel_id: string | null;
  activity_id: string | null;
  user_id: string | null;
  started_at: Date;
  total_ms: number;
  stages: Record<string, number>;
  intent: string | null;
  confidence: number | null;
  attributes: Record<string, string | number | boolean>;
  outcome: string;
  error: string | null;
}

/** The most recent turns, newest first. `limit` is clamped to 1…1000 (default 50). */
export async function recentTraces(dataSource: DataSource, limit = 50): Promise<TraceRecord[]> {
  const n = Number.isFinite(limit) ? Math.min(RECENT_TRACES_MAX, Math.max(1, Math.floor(limit))) : 50;
  const { rows } = await execute<TraceRow>(
    dataSource,
    `SELECT turn_id, conversation_id, channel_id, activity_id, user_id, started_at, total_ms, stages,
            intent, confidence, attributes, outcome, error
       FROM turn_traces
      ORDER BY started_at DESC, turn_id
      LIMIT $1`,
    [n],
  );
  return rows.map((r) => ({
    turnId: r.turn_id,
    conversationId: r.conversation_id ?? undefined,
    channelId: r.channel_id ?? undefined,
    activityId: r.activity_id ?? undefined,
    userId: r.user_id ?? undefined,
    startedAt: r.started_at,
    totalMs: r.total_ms,
    stages: r.stages,
    intent: r.intent ?? undefined,
    confidence: r.confidence ?? undefined,
    attributes: r.attributes,
    outcome: r.outcome as TurnOutcome,
    error: r.error ?? undefined,
  }));
}

const PCTS = 'percentile_cont(ARRAY[0.5, 0.95, 0.99]::float8[]) WITHIN GROUP (ORDER BY';

/**
 * Count and p50/p95/p99 (percentile_cont: linear interpolation) of the turns that started in the
 * window [now - windowMs, now] (`options.now` defaults to the current time), overall, per stage and per intent. The three
 * queries run in one REPEATABLE READ transaction so their counts agree.
 */
export async function traceSummary(
  dataSource: DataSource,
  windowMs: number,
  options: { now?: Date } = {},
): Promise<TraceSummary> {
  if (!Number.isFinite(windowMs) || windowMs <= 0) throw new RangeError('windowMs must be a positive number');
  const now = options.now ?? new Date();
  const since = new Date(now.getTime() - windowMs);

  const runner = dataSource.createQueryRunner();
  try {
    await runner.startTransaction('REPEATABLE READ');
    const total = await execute<{ count: number; p: number[] | null }>(
      runner,
      `SELECT count(*)::int AS count, ${PCTS} total_ms) AS p
         FROM turn_traces WHERE started_at >= $1 AND started_at <= $2`,
      [since, now],
    );
    const stages = await execute<{ stage: string; count: number; p: number[] }>(
      runner,
      `SELECT s.key AS stage, count(*)::int AS count, ${PCTS} s.value::float8) AS p
         FROM turn_traces t CROSS JOIN LATERAL jsonb_each(t.stages) AS s
        WHERE t.started_at >= $1 AND t.started_at <= $2 AND jsonb_typeof(s.value) = 'number'
        GROUP BY s.key
        ORDER BY s.key`,
      [since, now],
    );
    const intents = await execute<{ intent: string | null; count: number; p: number[] }>(
      runner,
      `SELECT intent, count(*)::int AS count, ${PCTS} total_ms) AS p
         FROM turn_traces WHERE started_at >= $1 AND started_at <= $2
        GROUP BY intent
        ORDER BY count(*) DESC, intent NULLS LAST`,
      [since, now],
    );
    await runner.commitTransaction();

    const head = total.rows[0];
    return {
      windowMs,
      since,
      until: now,
      count: head?.count ?? 0,
      total: head && head.count > 0 && head.p ? percentiles(head.p) : null,
      stages: Object.fromEntries(
        stages.rows.map((r) => [r.stage, { count: r.count, ...percentiles(r.p) }] as const),
      ),
      intents: intents.rows.map((r) => ({ intent: r.intent, count: r.count, ...percentiles(r.p) })),
    };
  } catch (err) {
    if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => {});
    throw err;
  } finally {
    await runner.release();
  }
}

function percentiles(p: number[]): Percentiles {
  return { p50: p[0] ?? Number.NaN, p95: p[1] ?? Number.NaN, p99: p[2] ?? Number.NaN };
}
