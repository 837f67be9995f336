import type { DataSource } from 'typeorm';
import { execute } from '../../db/sql.js';
import { WRITE_INTENTS } from '../../nlu/types.js';
import {
  HOUR_MS,
  MINUTE_MS,
  SqlParams,
  addToHistogram,
  bucketSql,
  percentilesFromHistogram,
  planSegments,
  rolledUntil,
  segmentWhere,
  type Histogram,
  type Segment,
} from '../../tracing/rollups.js';

/**
 * The dashboard's numbers, each computed in SQL over `turn_traces` (and the automation job tables
 * when they exist): percentile_cont for latencies, date_bin for time buckets. Every value from a
 * request is a bind parameter. Series come back dense (one slot per bucket, `null` where a bucket
 * has no data) so a chart can plot them as they are.
 */

export interface DashboardRange {
  windowMs: number;
  bucketMs: number;
  /** Start of the KPI window (now − window). */
  since: Date;
  /** End of every window: the time of the request. */
  until: Date;
  /** Start of the first chart bucket: `since` rounded down to a whole bucket (epoch-aligned). */
  origin: Date;
}

/** `rollups: false` reads raw rows only (the benchmark's baseline; tests compare both). */
export interface QueryOptions {
  rollups?: boolean;
}

/** Windows at least this long read rollups where the worker has made them. */
export const ROLLUP_MIN_WINDOW_MS = 60 * 60_000;

const MINUTE = 60_000;
const BUCKETS = [MINUTE, 5 * MINUTE, 15 * MINUTE, 60 * MINUTE, 6 * 60 * MINUTE, 24 * 60 * MINUTE];
/** At most this many buckets per chart when the bucket is chosen automatically (1h → 1m, 24h → 15m, 7d → 1h, 30d → 6h). */
export const MAX_AUTO_BUCKETS = 200;
/** Refuse requests that would produce more buckets than this. */
export const MAX_BUCKETS = 2000;

export function dashboardRange(windowMs: number, now = new Date(), bucketMs?: number): DashboardRange {
  if (!Number.isFinite(windowMs) || windowMs <= 0) throw new RangeError('windowMs must be positive');
  const bucket = bucketMs ?? BUCKETS.find((b) => windowMs / b <= MAX_AUTO_BUCKETS) ?? (BUCKETS.at(-1) as number);
  if (!Number.isFinite(bucket) || bucket < 1000) throw new RangeError('bucketMs must be at least one second');
  if (windowMs / bucket > MAX_BUCKETS) throw new RangeError(`at most ${MAX_BUCKETS} buckets`);
  const since = new Date(now.getTime() - windowMs);
  const origin = new Date(Math.floor(since.getTime() / bucket) * bucket);
  return { windowMs, bucketMs: bucket, since, until: now, origin };
}

/** The start of every bucket from `origin` up to the one that holds `until`. */
export function bucketStarts(range: DashboardRange): Date[] {
  const out: Date[] = [];
  for (let t = range.origin.getTime(); t <= range.until.getTime(); t += range.bucketMs) out.push(new Date(t));
  return out;
}

const bucketIndex = (range: DashboardRange, bucket: Date | string): number =>
  Math.round((new Date(bucket).getTime() - range.origin.getTime()) / range.bucketMs);

/** `date_bin` over a column with the range's bucket size and origin ($3 seconds, $4 origin). */
const BIN = (column: string) => `date_bin(make_interval(secs => $3::float8), ${column}, $4::timestamptz)`;
const binParams = (range: DashboardRange) => [range.origin, range.until, range.bucketMs / 1000, range.origin];

const PCTS = 'percentile_cont(ARRAY[0.5, 0.95, 0.99]::float8[]) WITHIN GROUP (ORDER BY';

export interface Percentiles {
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export interface PeriodNumbers extends Percentiles {
  turns: number;
  errors: number;
  rejected: number;
  /** null while the automation job tables do not exist. */
  jobsSucceeded: number | null;
  jobsFailed: number | null;
}

export interface Overview {
  windowMs: number;
  since: string;
  until: string;
  current: PeriodNumbers;
  /** The window just before: [since − window, since). */
  previous: PeriodNumbers;
  jobsAvailable: boolean;
}

/** KPI tiles: this window against the one before it, in one scan of each table. */
export async function overview(ds: DataSource, range: DashboardRange, options: QueryOptions = {}): Promise<Overview> {
  const prevSince = new Date(range.since.getTime() - range.windowMs);
  const params = [prevSince, range.since, range.until];
  const watermark = await watermarkFor(ds, range, options);
  const { rows } = watermark ? await overviewFromRollups(ds, range, prevSince, watermark) : await execute<{
    turns: number;
    prev_turns: number;
    errors: number;
    prev_errors: number;
    rejected: number;
    prev_rejected: number;
    p: number[] | null;
    prev_p: number[] | null;
  }>(
    ds,
    `SELECT count(*) FILTER (WHERE started_at >= $2)::int AS turns,
            count(*) FILTER (WHERE started_at < $2)::int AS prev_turns,
            count(*) FILTER (WHERE started_at >= $2 AND outcome = 'error')::int AS errors,
            count(*) FILTER (WHERE started_at < $2 AND outcome = 'error')::int AS prev_errors,
            count(*) FILTER (WHERE started_at >= $2 AND outcome = 'rejected')::int AS rejected,
            count(*) FILTER (WHERE started_at < $2 AND outcome = 'rejected')::int AS prev_rejected,
            ${PCTS} total_ms) FILTER (WHERE started_at >= $2) AS p,
            ${PCTS} total_ms) FILTER (WHERE started_at < $2) AS prev_p
       FROM turn_traces
      WHERE started_at >= $1 AND started_at <= $3`,
    params,
  );
  const r = rows[0];
  const jobsAvailable = await jobTablesExist(ds);
  let jobs = { succeeded: null as number | null, failed: null as number | null, prevSucceeded: null as number | null, prevFailed: null as number | null };
  if (jobsAvailable) {
    const j = await execute<{ succeeded: number; failed: number; prev_succeeded: number; prev_failed: number }>(
      ds,
      `SELECT count(*) FILTER (WHERE done_at >= $2 AND status = 'succeeded')::int AS succeeded,
              count(*) FILTER (WHERE done_at >= $2 AND status IN ('failed', 'dead_letter'))::int AS failed,
              count(*) FILTER (WHERE done_at < $2 AND status = 'succeeded')::int AS prev_succeeded,
              count(*) FILTER (WHERE done_at < $2 AND status IN ('failed', 'dead_letter'))::int AS prev_failed
         FROM (SELECT status, coalesce(finished_at, updated_at) AS done_at FROM automation_jobs) j
        WHERE done_at >= $1 AND done_at <= $3`,
      params,
    );
    const row = j.rows[0];
    jobs = {
      succeeded: row?.succeeded ?? 0,
      failed: row?.failed ?? 0,
      prevSucceeded: row?.prev_succeeded ?? 0,
      prevFailed: row?.prev_failed ?? 0,
    };
  }
  return {
    windowMs: range.windowMs,
    since: range.since.toISOString(),
    until: range.until.toISOString(),
    current: {
      turns: r?.turns ?? 0,
      errors: r?.errors ?? 0,
      rejected: r?.rejected ?? 0,
      ...pcts(r?.turns ? r.p : null),
      jobsSucceeded: jobs.succeeded,
      jobsFailed: jobs.failed,
    },
    previous: {
      turns: r?.prev_turns ?? 0,
      errors: r?.prev_errors ?? 0,
      rejected: r?.prev_rejected ?? 0,
      ...pcts(r?.prev_turns ? r.prev_p : null),
      jobsSucceeded: jobs.prevSucceeded,
      jobsFailed: jobs.prevFailed,
    },
    jobsAvailable,
  };
}

export interface PercentileSeries {
  p50: (number | null)[];
  p95: (number | null)[];
  p99: (number | null)[];
  count: number[];
}

export interface LatencySeries {
  bucketMs: number;
  /** Bucket start times (ISO 8601), the x axis of every series. */
  buckets: string[];
  /** Total turn time per bucket. */
  total: PercentileSeries;
  /** Per stage (alphabetical), over the turns that ran it. */
  stages: Record<string, PercentileSeries>;
}

/** p50/p95/p99 of the total and of each stage, per time bucket. */
export async function latencySeries(ds: DataSource, range: DashboardRange, options: QueryOptions = {}): Promise<LatencySeries> {
  const watermark = range.bucketMs % MINUTE_MS === 0 ? await watermarkFor(ds, range, options) : null;
  const { rows } = watermark ? await latencyFromRollups(ds, range, watermark) : await execute<{ bucket: Date; stage: string | null; count: number; p: number[] }>(
    ds,
    `SELECT ${BIN('t.started_at')} AS bucket, s.key AS stage, count(*)::int AS count, ${PCTS} s.value::float8) AS p
       FROM turn_traces t CROSS JOIN LATERAL jsonb_each(t.stages) AS s
      WHERE t.started_at >= $1 AND t.started_at <= $2 AND jsonb_typeof(s.value) = 'number'
      GROUP BY 1, 2
     UNION ALL
     SELECT ${BIN('started_at')} AS bucket, NULL AS stage, count(*)::int AS count, ${PCTS} total_ms) AS p
       FROM turn_traces
      WHERE started_at >= $1 AND started_at <= $2
      GROUP BY 1
      ORDER BY 2 NULLS FIRST, 1`,
    binParams(range),
  );
  const buckets = bucketStarts(range);
  const empty = (): PercentileSeries => ({
    p50: buckets.map(() => null),
    p95: buckets.map(() => null),
    p99: buckets.map(() => null),
    count: buckets.map(() => 0),
  });
  const total = empty();
  const stages: Record<string, PercentileSeries> = {};
  for (const row of rows) {
    const series = row.stage === null ? total : (stages[row.stage] ??= empty());
    const i = bucketIndex(range, row.bucket);
    if (i < 0 || i >= buckets.length) continue;
    const p = pcts(row.p);
    series.p50[i] = p.p50;
    series.p95[i] = p.p95;
    series.p99[i] = p.p99;
    series.count[i] = row.count;
  }
  return { bucketMs: range.bucketMs, buckets: buckets.map((b) => b.toISOString()), total, stages: sortKeys(stages) };
}

export interface CountSeries {
  bucketMs: number;
  buckets: string[];
  series: Record<string, number[]>;
}

/** Turns per bucket per channel (`(none)` for turns rejected before the channel was known). */
export async function channelThroughput(ds: DataSource, range: DashboardRange, options: QueryOptions = {}): Promise<CountSeries> {
  const watermark = range.bucketMs % MINUTE_MS === 0 ? await watermarkFor(ds, range, options) : null;
  if (watermark) {
    const p = new SqlParams();
    const bin = binSql(range, p);
    const union = unionOver(
      planSegments(range.origin, range.until, watermark, { hours: range.bucketMs % HOUR_MS === 0 }),
      p,
      (where) => `SELECT ${bin('started_at')} AS bucket, coalesce(channel_id, '(none)') AS key, count(*) AS n FROM turn_traces WHERE ${where} GROUP BY 1, 2`,
      (where) => `SELECT ${bin('bucket_start')} AS bucket, coalesce(channel_id, '(none)') AS key, sum(turns) AS n FROM turn_rollups WHERE ${where} GROUP BY 1, 2`,
    );
    const { rows } = await execute<{ bucket: Date; key: string; count: number }>(
      ds,
      `SELECT bucket, key, sum(n)::int AS count FROM (${union}) u GROUP BY 1, 2`,
      p.values,
    );
    return countSeries(range, rows);
  }
  const { rows } = await execute<{ bucket: Date; key: string; count: number }>(
    ds,
    `SELECT ${BIN('started_at')} AS bucket, coalesce(channel_id, '(none)') AS key, count(*)::int AS count
       FROM turn_traces
      WHERE started_at >= $1 AND started_at <= $2
      GROUP BY 1, 2`,
    binParams(range),
  );
  return countSeries(range, rows);
}

export interface IntentCount {
  /** null: turns without an intent (no model, rejected, non-text). */
  intent: string | null;
  count: number;
}

/** Turns per intent in the KPI window, most frequent first (top `limit`). */
export async function intentMix(ds: DataSource, range: DashboardRange, limit = 15, options: QueryOptions = {}): Promise<IntentCount[]> {
  const watermark = await watermarkFor(ds, range, options);
  if (watermark) {
    const p = new SqlParams();
    const union = unionOver(
      planSegments(range.since, range.until, watermark, { hours: true }),
      p,
      (where) => `SELECT intent, count(*) AS n FROM turn_traces WHERE ${where} GROUP BY 1`,
      (where) => `SELECT intent, sum(turns) AS n FROM turn_rollups WHERE ${where} GROUP BY 1`,
    );
    const { rows } = await execute<IntentCount>(
      ds,
      `SELECT intent, sum(n)::int AS count FROM (${union}) u
        GROUP BY intent
        ORDER BY sum(n) DESC, intent NULLS LAST
        LIMIT ${p.add(limit)}`,
      p.values,
    );
    return rows;
  }
  const { rows } = await execute<IntentCount>(
    ds,
    `SELECT intent, count(*)::int AS count
       FROM turn_traces
      WHERE started_at >= $1 AND started_at <= $2
      GROUP BY intent
      ORDER BY count(*) DESC, intent NULLS LAST
      LIMIT $3`,
    [range.since, range.until, limit],
  );
  return rows;
}

export interface FunnelStage {
  stage: 'proposed' | 'confirmed' | 'approved' | 'succeeded' | 'failed';
  count: number;
}

export interface JobsPanel {
  /** false while the automation job tables do not exist: every list is empty. */
  available: boolean;
  statusOverTime: CountSeries;
  funnel: FunnelStage[];
  failureReasons: { reason: string; count: number; lastAt: string }[];
}

/**
 * Jobs by status per bucket of their creation time; the proposed → confirmed → approved →
 * succeeded/failed funnel over the KPI window; and the most frequent failure reasons.
 *
 * Funnel stages, each counted in the KPI window from the table that records it (see FUNNEL_SQL):
 * - proposed: turns recognised as a confirmable write intent (CONFIRMABLE_ACTIONS) — the bot
 *   answers those by asking for details and showing a confirmation card;
 * - confirmed: writes the user confirmed and that were queued (audit_log outcome `submitted`);
 * - approved: orders approved, automatically under the threshold or by an approver
 *   (automation_job_events of kind `approved`);
 * - succeeded / failed: automation jobs that finished so (failed includes dead_letter).
 * Stages come from different records, so they are an operational picture, not a cohort: a turn
 * that proposed in one window may be confirmed in the next.
 */
export async function jobsPanel(ds: DataSource, range: DashboardRange, options: QueryOptions = {}): Promise<JobsPanel> {
  const buckets = bucketStarts(range);
  const none: JobsPanel = {
    available: false,
    statusOverTime: { bucketMs: range.bucketMs, buckets: buckets.map((b) => b.toISOString()), series: {} },
    funnel: FUNNEL_STAGES.map((stage) => ({ stage, count: 0 })),
    failureReasons: [],
  };
  if (!(await jobTablesExist(ds))) return none;

  const status = await execute<{ bucket: Date; key: string; count: number }>(
    ds,
    `SELECT ${BIN('created_at')} AS bucket, status AS key, count(*)::int AS count
       FROM automation_jobs
      WHERE created_at >= $1 AND created_at <= $2
      GROUP BY 1, 2`,
    binParams(range),
  );
  const funnel = await execute<Record<Exclude<FunnelStage['stage'], 'proposed'>, number>>(ds, FUNNEL_SQL, [range.since, range.until, CONFIRMABLE_ACTIONS]);
  const proposed = await proposedTurns(ds, range, options);
  const reasons = await execute<{ reason: string; count: number; last_at: Date }>(
    ds,
    `SELECT left(coalesce(nullif(btrim(error), ''), '(no reason given)'), 300) AS reason,
            count(*)::int AS count, max(coalesce(finished_at, updated_at)) AS last_at
       FROM automation_jobs
      WHERE status IN ('failed', 'dead_letter')
        AND coalesce(finished_at, updated_at) >= $1 AND coalesce(finished_at, updated_at) <= $2
      GROUP BY 1
      ORDER BY 2 DESC, 1
      LIMIT 10`,
    [range.since, range.until],
  );
  const f = funnel.rows[0];
  return {
    available: true,
    statusOverTime: countSeries(range, status.rows),
    funnel: FUNNEL_STAGES.map((stage) => ({ stage, count: stage === 'proposed' ? proposed : (f?.[stage] ?? 0) })),
    failureReasons: reasons.rows.map((r) => ({ reason: r.reason, count: r.count, lastAt: new Date(r.last_at).toISOString() })),
  };
}

const FUNNEL_STAGES = ['proposed', 'confirmed', 'approved', 'succeeded', 'failed'] as const;

/** Write intents that go through a confirmation card (approvals are the funnel's third stage). */
export const CONFIRMABLE_ACTIONS = WRITE_INTENTS.filter((intent) => intent !== 'procurement.approve_order');

/** The funnel's "proposed": turns in the KPI window whose intent is a confirmable write. */
async function proposedTurns(ds: DataSource, range: DashboardRange, options: QueryOptions): Promise<number> {
  const watermark = await watermarkFor(ds, range, options);
  const segments = planSegments(range.since, range.until, watermark, { hours: true });
  const p = new SqlParams();
  const actions = p.add(CONFIRMABLE_ACTIONS);
  const union = unionOver(
    segments,
    p,
    (where) => `SELECT count(*) AS n FROM turn_traces WHERE ${where} AND intent = ANY(${actions}::text[])`,
    (where) => `SELECT sum(turns) AS n FROM turn_rollups WHERE ${where} AND intent = ANY(${actions}::text[])`,
  );
  const { rows } = await execute<{ n: number | null }>(ds, `SELECT coalesce(sum(n), 0)::int AS n FROM (${union}) u`, p.values);
  return rows[0]?.n ?? 0;
}

const FUNNEL_SQL = `
  SELECT (SELECT count(*)::int FROM audit_log
           WHERE at >= $1 AND at <= $2 AND outcome = 'submitted' AND action = ANY($3::text[])) AS confirmed,
         (SELECT count(*)::int FROM automation_job_events
           WHERE at >= $1 AND at <= $2 AND kind = 'approved') AS approved,
         (SELECT count(*)::int FROM automation_jobs
           WHERE status = 'succeeded' AND coalesce(finished_at, updated_at) >= $1 AND coalesce(finished_at, updated_at) <= $2) AS succeeded,
         (SELECT count(*)::int FROM automation_jobs
           WHERE status IN ('failed', 'dead_letter') AND coalesce(finished_at, updated_at) >= $1 AND coalesce(finished_at, updated_at) <= $2) AS failed`;

/** Whether the skills' job tables are there (migrations after the initial schema add them). */
export async function jobTablesExist(ds: DataSource): Promise<boolean> {
  const { rows } = await execute<{ jobs: boolean; audit: boolean }>(
    ds,
    `SELECT to_regclass('automation_jobs') IS NOT NULL AND to_regclass('automation_job_events') IS NOT NULL AS jobs,
            to_regclass('audit_log') IS NOT NULL AS audit`,
    [],
  );
  return Boolean(rows[0]?.jobs && rows[0]?.audit);
}

function countSeries(range: DashboardRange, rows: { bucket: Date; key: string; count: number }[]): CountSeries {
  const buckets = bucketStarts(range);
  const series: Record<string, number[]> = {};
  for (const row of rows) {
    const i = bucketIndex(range, row.bucket);
    if (i < 0 || i >= buckets.length) continue;
    const s = (series[row.key] ??= buckets.map(() => 0));
    s[i] = row.count;
  }
  return { bucketMs: range.bucketMs, buckets: buckets.map((b) => b.toISOString()), series: sortKeys(series) };
}

function pcts(p: number[] | null | undefined): Percentiles {
  return { p50: p?.[0] ?? null, p95: p?.[1] ?? null, p99: p?.[2] ?? null };
}

function sortKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}

// ---------------------------------------------------------------------------------------------
// Rollup-backed versions (see the file comment).

/** The rollups' watermark when this query may use them, else null (raw rows only). */
async function watermarkFor(ds: DataSource, range: DashboardRange, options: QueryOptions): Promise<Date | null> {
  if (options.rollups === false || range.windowMs < ROLLUP_MIN_WINDOW_MS) return null;
  return rolledUntil(ds);
}

/** `date_bin` with the range's bucket and origin, both added as parameters. */
function binSql(range: DashboardRange, p: SqlParams): (column: string) => string {
  const secs = p.add(range.bucketMs / 1000);
  const origin = p.add(range.origin);
  return (column) => `date_bin(make_interval(secs => ${secs}::float8), ${column}, ${origin}::timestamptz)`;
}

/** One SELECT per segment, raw rows or rollup rows, joined by UNION ALL. */
function unionOver(segments: Segment[], p: SqlParams, raw: (where: string) => string, rolled: (where: string) => string, rawColumn = 'started_at'): string {
  return segments.map((s) => (s.source === 'raw' ? raw(segmentWhere(s, p, rawColumn)) : rolled(segmentWhere(s, p)))).join('\n UNION ALL\n');
}

/** Overview's trace numbers from rollups + raw: per period, counts and the merged histogram. */
async function overviewFromRollups(ds: DataSource, range: DashboardRange, prevSince: Date, watermark: Date) {
  const p = new SqlParams();
  const periods: [string, Segment[]][] = [
    ['cur', planSegments(range.since, range.until, watermark, { hours: true })],
    ['prev', planSegments(prevSince, range.since, watermark, { hours: true, toInclusive: false })],
  ];
  const union = periods
    .map(([period, segments]) =>
      unionOver(
        segments,
        p,
        (where) => `SELECT '${period}' AS period, ${bucketSql('total_ms')} AS idx, count(*) AS n,
                           count(*) FILTER (WHERE outcome = 'error') AS e, count(*) FILTER (WHERE outcome = 'rejected') AS r
                      FROM turn_traces WHERE ${where} GROUP BY 2`,
        // Errors and rejections from the channel × intent rows (idx NULL), turns through the total histogram.
        (where) => `SELECT '${period}' AS period, NULL::smallint AS idx, 0 AS n, sum(errors) AS e, sum(rejected) AS r FROM turn_rollups WHERE ${where}
                     UNION ALL
                    SELECT '${period}' AS period, u.idx, sum(u.n) AS n, 0 AS e, 0 AS r
                      FROM turn_total_rollups, unnest(hist_idx, hist_count) AS u(idx, n) WHERE ${where} GROUP BY 2`,
      ),
    )
    .join('\n UNION ALL\n');
  const { rows } = await execute<{ period: 'cur' | 'prev'; idx: number | null; n: number; e: number; r: number }>(
    ds,
    `SELECT period, idx, coalesce(sum(n), 0)::int AS n, coalesce(sum(e), 0)::int AS e, coalesce(sum(r), 0)::int AS r
       FROM (${union}) u GROUP BY 1, 2`,
    p.values,
  );
  const tally = (period: 'cur' | 'prev') => {
    const hist: Histogram = new Map();
    let turns = 0;
    let errors = 0;
    let rejected = 0;
    for (const row of rows) {
      if (row.period !== period) continue;
      turns += row.n;
      errors += row.e;
      rejected += row.r;
      if (row.idx !== null) addToHistogram(hist, row.idx, row.n);
    }
    return { turns, errors, rejected, p: percentilesFromHistogram(hist) };
  };
  const cur = tally('cur');
  const prev = tally('prev');
  return {
    rows: [
      {
        turns: cur.turns,
        prev_turns: prev.turns,
        errors: cur.errors,
        prev_errors: prev.errors,
        rejected: cur.rejected,
        prev_rejected: prev.rejected,
        p: cur.p,
        prev_p: prev.p,
      },
    ],
  };
}

/** Latency series from rollups + raw: per chart bucket and stage (null = total), the merged histogram. */
async function latencyFromRollups(ds: DataSource, range: DashboardRange, watermark: Date) {
  const p = new SqlParams();
  const bin = binSql(range, p);
  const segments = planSegments(range.origin, range.until, watermark, { hours: range.bucketMs % HOUR_MS === 0 });
  const stages = unionOver(
    segments,
    p,
    (where) => `SELECT ${bin('t.started_at')} AS bucket, s.key AS stage, ${bucketSql('s.value::float8')} AS idx, count(*) AS n
                  FROM turn_traces t CROSS JOIN LATERAL jsonb_each(t.stages) AS s
                 WHERE ${where} AND jsonb_typeof(s.value) = 'number' GROUP BY 1, 2, 3`,
    (where) => `SELECT ${bin('bucket_start')} AS bucket, stage, u.idx, sum(u.n) AS n
                  FROM turn_stage_rollups, unnest(hist_idx, hist_count) AS u(idx, n) WHERE ${where} GROUP BY 1, 2, 3`,
    't.started_at',
  );
  const totals = unionOver(
    segments,
    p,
    (where) => `SELECT ${bin('started_at')} AS bucket, NULL::text AS stage, ${bucketSql('total_ms')} AS idx, count(*) AS n FROM turn_traces WHERE ${where} GROUP BY 1, 3`,
    (where) => `SELECT ${bin('bucket_start')} AS bucket, NULL::text AS stage, u.idx, sum(u.n) AS n
                  FROM turn_total_rollups, unnest(hist_idx, hist_count) AS u(idx, n) WHERE ${where} GROUP BY 1, 3`,
  );
  // One row per chart bucket and series, its histogram as two arrays (fewer rows to send and parse).
  const { rows } = await execute<{ bucket: Date; stage: string | null; idx: number[]; n: number[] }>(
    ds,
    `SELECT bucket, stage, array_agg(idx ORDER BY idx) AS idx, array_agg(n ORDER BY idx) AS n
       FROM (SELECT bucket, stage, idx, sum(n)::int AS n FROM (${stages}\n UNION ALL\n ${totals}) u GROUP BY 1, 2, 3) g
      GROUP BY 1, 2`,
    p.values,
  );
  return {
    rows: rows.map((row) => {
      const hist: Histogram = new Map();
      row.idx.forEach((index, i) => addToHistogram(hist, index, row.n[i] ?? 0));
      return { bucket: row.bucket, stage: row.stage, count: row.n.reduce((a, b) => a + b, 0), p: percentilesFromHistogram(hist) ?? [] };
    }),
  };
}
