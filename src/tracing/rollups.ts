import type { DataSource, QueryRunner } from 'typeorm';
import { execute } from '../db/sql.js';

/**
 * Per-minute and per-hour rollups of turn_traces (migrations/1797700000000-TraceRollups.ts), so
 * the dashboard's 24-hour and 7-day queries read rollup rows instead of sorting every turn.
 *
 * Writing (the worker, via TraceMaintenance): `rollUpTraces` recomputes whole minutes — DELETE the
 * minute's rows, INSERT the aggregation of its raw rows — so re-running a minute yields the same
 * rows; each pass re-rolls the last `lookbackMs` before the watermark so a trace written late is
 * counted; the hours that hold the re-rolled minutes are recomputed from the minute rows. One
 * transaction-scoped advisory lock serialises workers.
 *
 * Reading (src/bot/dashboard/queries.ts): `planSegments` splits a window into raw head, rollup
 * middle (minutes, or hours where whole hours fit) and raw tail since the watermark, so counts are
 * exact; percentiles come from the histograms (`percentilesFromHistogram`) within HISTOGRAM_RELATIVE_ERROR.
 */

// ---------------------------------------------------------------------------------------------
// The latency histogram: fixed log-spaced buckets, the same for every row, so rows merge by adding.

/** Lower edge of the first log bucket (ms); bucket 0 holds [0, this). */
export const HISTOGRAM_LOWEST_MS = 0.01;
/** Buckets per doubling: each bucket spans a ratio of 2^(1/8) ≈ 1.0905. */
export const HISTOGRAM_PER_OCTAVE = 8;
/** Doublings covered: 0.01 ms × 2^30 ≈ 10.7 million ms (about 3 hours); longer turns share the last bucket. */
export const HISTOGRAM_OCTAVES = 30;
const RATIO = 2 ** (1 / HISTOGRAM_PER_OCTAVE);
/** Index of the overflow bucket [HISTOGRAM_HIGHEST_MS, ∞). */
export const HISTOGRAM_OVERFLOW = HISTOGRAM_PER_OCTAVE * HISTOGRAM_OCTAVES + 1;
export const HISTOGRAM_HIGHEST_MS = HISTOGRAM_LOWEST_MS * 2 ** HISTOGRAM_OCTAVES;
/**
 * Bound on |estimate − exact| / exact for any percentile whose neighbouring order statistics lie in
 * [HISTOGRAM_LOWEST_MS, HISTOGRAM_HIGHEST_MS): (r − 1)/(r + 1) with r = 2^(1/8), ≈ 4.33 %. Each
 * bucket is represented by the value whose relative distance to both edges is that bound, and a
 * percentile interpolates between two such values as percentile_cont interpolates between the
 * order statistics. Below 0.01 ms the error is at most 0.005 ms (absolute).
 */
export const HISTOGRAM_RELATIVE_ERROR = (RATIO - 1) / (RATIO + 1);

/** The bucket of a duration (ms). Must agree with `bucketSql`. */
export function bucketOf(ms: number): number {
  if (!(ms >= HISTOGRAM_LOWEST_MS)) return 0;
  return Math.min(HISTOGRAM_OVERFLOW, 1 + Math.floor(Math.log(ms / HISTOGRAM_LOWEST_MS) * (HISTOGRAM_PER_OCTAVE / Math.LN2)));
}

/** SQL for the bucket of a float8 expression (smallint), the same arithmetic as `bucketOf`. */
export function bucketSql(expr: string): string {
  return `(CASE WHEN ${expr} >= ${HISTOGRAM_LOWEST_MS} THEN least(${HISTOGRAM_OVERFLOW}, 1 + floor(ln(${expr} / ${HISTOGRAM_LOWEST_MS}) * ${HISTOGRAM_PER_OCTAVE / Math.LN2}))
     ELSE 0 END)::smallint`;
}

/** The value that stands for every duration in a bucket (see HISTOGRAM_RELATIVE_ERROR). */
export function representative(index: number): number {
  if (index <= 0) return HISTOGRAM_LOWEST_MS / 2;
  if (index >= HISTOGRAM_OVERFLOW) return HISTOGRAM_HIGHEST_MS;
  const lower = HISTOGRAM_LOWEST_MS * RATIO ** (index - 1);
  return (2 * lower * RATIO) / (1 + RATIO);
}

/** Bucket index → count. */
export type Histogram = Map<number, number>;

export function addToHistogram(hist: Histogram, index: number, count: number): void {
  if (count) hist.set(index, (hist.get(index) ?? 0) + count);
}

/**
 * percentile_cont's p50/p95/p99 estimated from a histogram: the order statistics at ⌊(n−1)q⌋ and
 * ⌈(n−1)q⌉ are replaced by their buckets' representatives and interpolated as percentile_cont
 * does. null when the histogram is empty.
 */
export function percentilesFromHistogram(hist: Histogram, quantiles: readonly number[] = [0.5, 0.95, 0.99]): number[] | null {
  const buckets = [...hist.entries()].filter(([, n]) => n > 0).sort((a, b) => a[0] - b[0]);
  const n = buckets.reduce((s, [, c]) => s + c, 0);
  if (n === 0) return null;
  const valueAt = (rank: number): number => {
    let seen = 0;
    for (const [index, count] of buckets) {
      seen += count;
      if (rank < seen) return representative(index);
    }
    return representative(buckets[buckets.length - 1]![0]);
  };
  return quantiles.map((q) => {
    const h = (n - 1) * q;
    const lo = Math.floor(h);
    const hi = Math.ceil(h);
    const a = valueAt(lo);
    return lo === hi ? a : a + (h - lo) * (valueAt(hi) - a);
  });
}

// ---------------------------------------------------------------------------------------------
// Reading: which part of a window comes from where.

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

export interface Segment {
  source: 'raw' | 'minute' | 'hour';
  from: Date;
  to: Date;
  /** Only raw segments end inclusively (a window's `until`); rollup segments are [from, to). */
  toInclusive: boolean;
}

const floorTo = (ms: number, step: number) => Math.floor(ms / step) * step;
const ceilTo = (ms: number, step: number) => Math.ceil(ms / step) * step;

/**
 * Splits [from, to] (or [from, to) when `toInclusive` is false) into a raw head up to the first
 * whole minute, rollup rows for the whole minutes before `rolledUntil` (hour rows for the whole
 * hours among them when `hours`), and a raw tail from there to `to`. With no watermark, or no
 * whole minute inside, the window is one raw segment.
 */
export function planSegments(from: Date, to: Date, rolledUntil: Date | null, options: { hours: boolean; toInclusive?: boolean }): Segment[] {
  const toInclusive = options.toInclusive ?? true;
  const raw = (a: number, b: number, inclusive: boolean): Segment => ({ source: 'raw', from: new Date(a), to: new Date(b), toInclusive: inclusive });
  const f = from.getTime();
  const t = to.getTime();
  if (!rolledUntil) return [raw(f, t, toInclusive)];
  const a = ceilTo(f, MINUTE_MS);
  const b = Math.min(floorTo(rolledUntil.getTime(), MINUTE_MS), floorTo(t, MINUTE_MS));
  if (a >= b) return [raw(f, t, toInclusive)];
  const out: Segment[] = [];
  if (f < a) out.push(raw(f, a, false));
  const rolled = (source: 'minute' | 'hour', x: number, y: number) => {
    if (x < y) out.push({ source, from: new Date(x), to: new Date(y), toInclusive: false });
  };
  const h1 = ceilTo(a, HOUR_MS);
  const h2 = floorTo(b, HOUR_MS);
  if (options.hours && h1 < h2) {
    rolled('minute', a, h1);
    rolled('hour', h1, h2);
    rolled('minute', h2, b);
  } else {
    rolled('minute', a, b);
  }
  if (b < t || (b === t && toInclusive)) out.push(raw(b, t, toInclusive));
  return out;
}

/** Bind parameters collected while a statement is built. */
export class SqlParams {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** WHERE clause of a segment on raw rows (`column`) or on rollup rows (`bucket_start`, `span`). */
export function segmentWhere(segment: Segment, params: SqlParams, column = 'started_at'): string {
  if (segment.source === 'raw') {
    return `${column} >= ${params.add(segment.from)} AND ${column} ${segment.toInclusive ? '<=' : '<'} ${params.add(segment.to)}`;
  }
  return `span = '${segment.source}' AND bucket_start >= ${params.add(segment.from)} AND bucket_start < ${params.add(segment.to)}`;
}

/** The watermark: every minute before it is rolled up. null when nothing is (readers go raw). */
export async function rolledUntil(target: DataSource | QueryRunner): Promise<Date | null> {
  if (!(await rollupsInstalled(target))) return null;
  const { rows } = await execute<{ rolled_until: Date | string }>(target, `SELECT rolled_until FROM turn_rollup_state WHERE id = 1`);
  const value = rows[0]?.rolled_until;
  return value === undefined ? null : new Date(value);
}

// ---------------------------------------------------------------------------------------------
// Writing.

/** Any constant; the same in every process of this app (partitions use another). */
const ROLLUP_LOCK_KEY = 727_318_016;
/** Fixed origin for date_bin: bins are epoch-aligned whatever the session's time zone. */
const ORIGIN = `TIMESTAMPTZ '2000-01-01 00:00:00+00'`;

export interface RollupOptions {
  /** Days kept, today included (TRACE_RETENTION_DAYS); 0 keeps everything. Older minutes are not rolled. */
  retentionDays: number;
  /** Minutes before the watermark recomputed each pass, for traces written late (default 5 min). */
  lookbackMs?: number;
  /** A minute is rolled once it ended this long ago (default 60 s): turns are traced when they end. */
  settleMs?: number;
  /** Most minutes rolled in one transaction (default one day); a backlog takes several. */
  chunkMs?: number;
  now?: Date;
  /** Checked between transactions: a long backlog stops early (the next pass goes on). */
  shouldStop?: () => boolean;
}

export interface RollupResult {
  /** Minutes recomputed (re-rolls included). */
  minutes: number;
  /** Watermark after the pass (null: no traces yet). */
  rolledUntil: Date | null;
  transactions: number;
}

/**
 * One pass: from the watermark minus the lookback (the oldest trace on the first pass) up to the
 * last settled minute, in transactions of at most `chunkMs`. Idempotent.
 */
export async function rollUpTraces(ds: DataSource, options: RollupOptions): Promise<RollupResult> {
  const now = (options.now ?? new Date()).getTime();
  const lookback = options.lookbackMs ?? 5 * MINUTE_MS;
  const chunk = Math.max(MINUTE_MS, options.chunkMs ?? DAY_MS);
  const target = floorTo(now - (options.settleMs ?? MINUTE_MS), MINUTE_MS);
  const oldestKept = options.retentionDays > 0 ? floorTo(now, DAY_MS) - (options.retentionDays - 1) * DAY_MS : -Infinity;
  const result: RollupResult = { minutes: 0, rolledUntil: null, transactions: 0 };
  /** Where the next transaction starts; undefined before the first (it starts from the watermark). */
  let cursor: number | undefined;
  for (;;) {
    const step = await inTransaction(ds, async (runner) => {
      await execute(runner, 'SELECT pg_advisory_xact_lock($1)', [ROLLUP_LOCK_KEY]);
      const watermark = (await rolledUntil(runner))?.getTime() ?? null;
      let start: number;
      if (cursor !== undefined) {
        start = cursor;
      } else if (watermark === null) {
        const { rows } = await execute<{ oldest: Date | string | null }>(runner, 'SELECT min(started_at) AS oldest FROM turn_traces');
        if (rows[0]?.oldest === null || rows[0]?.oldest === undefined) return { done: true, end: 0, watermark: null };
        start = floorTo(new Date(rows[0].oldest).getTime(), MINUTE_MS);
      } else {
        // Re-roll the lookback before the watermark: traces written late land there.
        start = Math.min(watermark, target) - lookback;
      }
      start = Math.max(start, oldestKept);
      // Nothing settled to roll (the oldest trace is newer than the last settled minute).
      if (start >= target) return { done: true, end: start, watermark };
      const end = Math.min(target, start + chunk);
      await rollUpMinutes(runner, new Date(start), new Date(end));
      result.minutes += (end - start) / MINUTE_MS;
      const next = Math.max(watermark ?? -Infinity, end);
      if (next > (watermark ?? -Infinity)) {
        await execute(
          runner,
          `INSERT INTO turn_rollup_state (id, rolled_until) VALUES (1, $1)
           ON CONFLICT (id) DO UPDATE SET rolled_until = excluded.rolled_until, updated_at = now()`,
          [new Date(next)],
        );
      }
      return { done: end >= target, end, watermark: Number.isFinite(next) ? next : null };
    });
    result.transactions += 1;
    result.rolledUntil = step.watermark === null ? null : new Date(step.watermark);
    cursor = step.end;
    if (step.done || options.shouldStop?.()) break;
  }
  return result;
}

/**
 * Recomputes the minutes in [from, to) from raw rows (both rollup tables), then every hour that
 * holds one of them from its minute rows. Caller holds the lock inside a transaction.
 */
export async function rollUpMinutes(runner: QueryRunner, from: Date, to: Date): Promise<void> {
  const minute = `date_bin('1 minute', started_at, ${ORIGIN})`;
  await execute(runner, `DELETE FROM turn_rollups WHERE span = 'minute' AND bucket_start >= $1 AND bucket_start < $2`, [from, to]);
  await execute(
    runner,
    `INSERT INTO turn_rollups (span, bucket_start, channel_id, intent, turns, errors, rejected, total_ms_sum, hist_idx, hist_count)
     SELECT 'minute', m, channel_id, intent, sum(n)::int, sum(e)::int, sum(r)::int, sum(s),
            array_agg(idx ORDER BY idx), array_agg(n::int ORDER BY idx)
       FROM (SELECT ${minute} AS m, channel_id, intent, ${bucketSql('total_ms')} AS idx, count(*) AS n,
                    count(*) FILTER (WHERE outcome = 'error') AS e, count(*) FILTER (WHERE outcome = 'rejected') AS r,
                    sum(total_ms) AS s
               FROM turn_traces
              WHERE started_at >= $1 AND started_at < $2
              GROUP BY 1, 2, 3, 4) g
      GROUP BY m, channel_id, intent`,
    [from, to],
  );
  await execute(runner, `DELETE FROM turn_stage_rollups WHERE span = 'minute' AND bucket_start >= $1 AND bucket_start < $2`, [from, to]);
  await execute(
    runner,
    `INSERT INTO turn_stage_rollups (span, bucket_start, stage, turns, ms_sum, hist_idx, hist_count)
     SELECT 'minute', m, stage, sum(n)::int, sum(s), array_agg(idx ORDER BY idx), array_agg(n::int ORDER BY idx)
       FROM (SELECT ${minute} AS m, st.key AS stage, ${bucketSql('st.value::float8')} AS idx, count(*) AS n, sum(st.value::float8) AS s
               FROM turn_traces t CROSS JOIN LATERAL jsonb_each(t.stages) AS st
              WHERE t.started_at >= $1 AND t.started_at < $2 AND jsonb_typeof(st.value) = 'number'
              GROUP BY 1, 2, 3) g
      GROUP BY m, stage`,
    [from, to],
  );
  // Totals over every channel and intent, from the minute rows just written.
  await execute(runner, `DELETE FROM turn_total_rollups WHERE span = 'minute' AND bucket_start >= $1 AND bucket_start < $2`, [from, to]);
  await execute(runner, TOTALS_FROM_ROWS('minute'), [from, to]);
  const hourFrom = new Date(floorTo(from.getTime(), HOUR_MS));
  const hourTo = new Date(ceilTo(to.getTime(), HOUR_MS));
  const hour = `date_bin('1 hour', bucket_start, ${ORIGIN})`;
  await execute(runner, `DELETE FROM turn_rollups WHERE span = 'hour' AND bucket_start >= $1 AND bucket_start < $2`, [hourFrom, hourTo]);
  await execute(
    runner,
    `INSERT INTO turn_rollups (span, bucket_start, channel_id, intent, turns, errors, rejected, total_ms_sum, hist_idx, hist_count)
     SELECT 'hour', h, channel_id, intent, sum(turns)::int, sum(errors)::int, sum(rejected)::int, sum(total_ms_sum),
            array_agg(idx ORDER BY idx), array_agg(n::int ORDER BY idx)
       FROM (SELECT h, channel_id, intent, idx, sum(n) AS n,
                    sum(turns) AS turns, sum(errors) AS errors, sum(rejected) AS rejected, sum(total_ms_sum) AS total_ms_sum
               FROM (SELECT ${hour} AS h, channel_id, intent, u.idx, u.n,
                            -- a row's counts once (on its first bucket), its histogram on every bucket
                            CASE WHEN u.ord = 1 THEN turns ELSE 0 END AS turns, CASE WHEN u.ord = 1 THEN errors ELSE 0 END AS errors,
                            CASE WHEN u.ord = 1 THEN rejected ELSE 0 END AS rejected, CASE WHEN u.ord = 1 THEN total_ms_sum ELSE 0 END AS total_ms_sum
                       FROM turn_rollups, unnest(hist_idx, hist_count) WITH ORDINALITY AS u(idx, n, ord)
                      WHERE span = 'minute' AND bucket_start >= $1 AND bucket_start < $2) per_bucket
              GROUP BY h, channel_id, intent, idx) g
      GROUP BY h, channel_id, intent`,
    [hourFrom, hourTo],
  );
  await execute(runner, `DELETE FROM turn_total_rollups WHERE span = 'hour' AND bucket_start >= $1 AND bucket_start < $2`, [hourFrom, hourTo]);
  await execute(runner, TOTALS_FROM_ROWS('hour'), [hourFrom, hourTo]);
  await execute(runner, `DELETE FROM turn_stage_rollups WHERE span = 'hour' AND bucket_start >= $1 AND bucket_start < $2`, [hourFrom, hourTo]);
  await execute(
    runner,
    `INSERT INTO turn_stage_rollups (span, bucket_start, stage, turns, ms_sum, hist_idx, hist_count)
     SELECT 'hour', h, stage, sum(turns)::int, sum(ms_sum), array_agg(idx ORDER BY idx), array_agg(n::int ORDER BY idx)
       FROM (SELECT h, stage, idx, sum(n) AS n, sum(turns) AS turns, sum(ms_sum) AS ms_sum
               FROM (SELECT ${hour} AS h, stage, u.idx, u.n,
                            CASE WHEN u.ord = 1 THEN turns ELSE 0 END AS turns, CASE WHEN u.ord = 1 THEN ms_sum ELSE 0 END AS ms_sum
                       FROM turn_stage_rollups, unnest(hist_idx, hist_count) WITH ORDINALITY AS u(idx, n, ord)
                      WHERE span = 'minute' AND bucket_start >= $1 AND bucket_start < $2) per_bucket
              GROUP BY h, stage, idx) g
      GROUP BY h, stage`,
    [hourFrom, hourTo],
  );
}

/**
 * Retention, as for the raw days (src/tracing/partitions.ts): keeps today and the
 * `retentionDays` − 1 days before it; 0 keeps everything. Returns the rollup rows deleted.
 */
export async function expireRollups(ds: DataSource, retentionDays: number, now = new Date()): Promise<number> {
  if (retentionDays <= 0) return 0;
  const cutoff = new Date(floorTo(now.getTime(), DAY_MS) - (retentionDays - 1) * DAY_MS);
  return inTransaction(ds, async (runner) => {
    await execute(runner, 'SELECT pg_advisory_xact_lock($1)', [ROLLUP_LOCK_KEY]);
    let deleted = 0;
    for (const table of ['turn_rollups', 'turn_stage_rollups', 'turn_total_rollups']) {
      for (const span of ['minute', 'hour']) {
        deleted += (await execute(runner, `DELETE FROM ${table} WHERE span = $1 AND bucket_start < $2`, [span, cutoff])).rowCount;
      }
    }
    return deleted;
  });
}

/**
 * turn_total_rollups rows of `span` from the turn_rollups rows of that span in [$1, $2): their
 * histograms added bucket by bucket, their counts and sums once per row.
 */
const TOTALS_FROM_ROWS = (span: 'minute' | 'hour') => `
  INSERT INTO turn_total_rollups (span, bucket_start, turns, total_ms_sum, hist_idx, hist_count)
  SELECT '${span}', b, sum(turns)::int, sum(total_ms_sum), array_agg(idx ORDER BY idx), array_agg(n::int ORDER BY idx)
    FROM (SELECT bucket_start AS b, u.idx, sum(u.n) AS n,
                 sum(CASE WHEN u.ord = 1 THEN turns ELSE 0 END) AS turns,
                 sum(CASE WHEN u.ord = 1 THEN total_ms_sum ELSE 0 END) AS total_ms_sum
            FROM turn_rollups, unnest(hist_idx, hist_count) WITH ORDINALITY AS u(idx, n, ord)
           WHERE span = '${span}' AND bucket_start >= $1 AND bucket_start < $2
           GROUP BY 1, 2) g
   GROUP BY b`;

/** Are the rollup tables here (the migration ran)? */
export async function rollupsInstalled(ds: DataSource | QueryRunner): Promise<boolean> {
  const { rows } = await execute<{ ok: boolean }>(ds, `SELECT to_regclass('turn_rollup_state') IS NOT NULL AS ok`);
  return Boolean(rows[0]?.ok);
}

async function inTransaction<T>(ds: DataSource, work: (runner: QueryRunner) => Promise<T>): Promise<T> {
  const runner = ds.createQueryRunner();
  try {
    await runner.startTransaction();
    const out = await work(runner);
    await runner.commitTransaction();
    return out;
  } catch (err) {
    if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => {});
    throw err;
  } finally {
    await runner.release();
  }
}
