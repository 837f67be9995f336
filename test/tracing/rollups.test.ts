/**
 * Trace rollups (src/tracing/rollups.ts, migrations/1797700000000-TraceRollups.ts) on PGlite and
 * PostgreSQL, on ~30 hours of generated turns:
 * - minute and hour rows equal the raw aggregation exactly (counts, errors, rejected, sums,
 *   histograms), per channel × intent, per stage and in total;
 * - re-running a pass or a minute leaves the same rows;
 * - the dashboard's queries give the same counts with rollups as on raw rows, and percentiles
 *   within HISTOGRAM_RELATIVE_ERROR of percentile_cont; they really read the rollups, and the raw
 *   tail since the watermark;
 * - a late trace is counted after the next pass (within the lookback; the hourly deep pass for
 *   later ones); retention drops old rollups; TraceMaintenance drives it all.
 */
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelThroughput, dashboardRange, intentMix, jobsPanel, latencySeries, overview } from '../../src/bot/dashboard/queries.js';
import { execute } from '../../src/db/sql.js';
import { TraceMaintenance } from '../../src/tracing/partitions.js';
import { HISTOGRAM_RELATIVE_ERROR, bucketSql, expireRollups, rollUpTraces, rolledUntil } from '../../src/tracing/rollups.js';
import { databaseTargets, type TestDatabase } from '../helpers/databases.js';

const targets = await databaseTargets();

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** Half a minute past 12:00, so windows start and end inside a minute (raw head and tail). */
const NOW = new Date('2031-03-01T12:00:30.500Z');
const SPAN = 30 * HOUR;
const ROWS = 12_000;

/**
 * Deterministic turns over [NOW − 30 h, NOW): log-spread totals 1…8100 ms and stages in quarter
 * milliseconds (float sums are then exact in any order), NULL channels and intents, errors and
 * rejections, a non-numeric stage value that every query ignores.
 */
async function generate(ds: DataSource, prefix: string, from: Date, count: number, stepMs: number): Promise<void> {
  await execute(
    ds,
    `INSERT INTO turn_traces (turn_id, channel_id, user_id, started_at, total_ms, stages, intent, outcome)
     SELECT $1 || g, (ARRAY['msteams','slack','webchat',NULL])[1 + g % 4], 'u',
            $2::timestamptz + make_interval(secs => g * $3::float8 / 1000),
            round((exp(((g * 7919) % 1000) / 1000.0 * 9))::numeric * 4) / 4,
            jsonb_build_object('nlu', ((g * 31) % 400) / 4.0,
                               'skill', round((exp(((g * 104729) % 1000) / 1000.0 * 7))::numeric * 4) / 4)
              || CASE WHEN g % 3 = 0 THEN '{"send": 1.5, "note": "text"}'::jsonb ELSE '{}'::jsonb END,
            (ARRAY['procurement.create_order','assistant.greet','assistant.help',NULL,'storage.stock_level'])[1 + g % 5],
            CASE WHEN g % 17 = 0 THEN 'error' WHEN g % 23 = 1 THEN 'rejected' ELSE 'ok' END
       FROM generate_series(0, $4::int - 1) g`,
    [prefix, from, stepMs, count],
  );
}

async function insertOne(ds: DataSource, id: string, at: Date, totalMs = 40): Promise<void> {
  await execute(
    ds,
    `INSERT INTO turn_traces (turn_id, channel_id, user_id, started_at, total_ms, stages, intent, outcome)
     VALUES ($1, 'late', 'u', $2, $3, '{"nlu": 2}'::jsonb, 'assistant.help', 'ok')`,
    [id, at, totalMs],
  );
}

/** The raw aggregation the rollup must equal, in the rollup table's shape. */
function rawAggregate(span: 'minute' | 'hour'): string {
  const bin = `date_bin('1 ${span}', started_at, TIMESTAMPTZ '2000-01-01 00:00:00+00')`;
  return `SELECT b AS bucket_start, channel_id, intent, sum(n)::int AS turns, sum(e)::int AS errors, sum(r)::int AS rejected, sum(s) AS total_ms_sum,
                 array_agg(idx ORDER BY idx) AS hist_idx, array_agg(n::int ORDER BY idx) AS hist_count
            FROM (SELECT ${bin} AS b, channel_id, intent, ${bucketSql('total_ms')} AS idx, count(*) AS n,
                         count(*) FILTER (WHERE outcome = 'error') AS e, count(*) FILTER (WHERE outcome = 'rejected') AS r, sum(total_ms) AS s
                    FROM turn_traces WHERE started_at >= $1 AND started_at < $2 GROUP BY 1, 2, 3, 4) g
           GROUP BY 1, 2, 3 ORDER BY 1, 2 NULLS FIRST, 3 NULLS FIRST`;
}

function rawStageAggregate(span: 'minute' | 'hour'): string {
  const bin = `date_bin('1 ${span}', started_at, TIMESTAMPTZ '2000-01-01 00:00:00+00')`;
  return `SELECT b AS bucket_start, stage, sum(n)::int AS turns, sum(s) AS ms_sum, array_agg(idx ORDER BY idx) AS hist_idx, array_agg(n::int ORDER BY idx) AS hist_count
            FROM (SELECT ${bin} AS b, st.key AS stage, ${bucketSql('st.value::float8')} AS idx, count(*) AS n, sum(st.value::float8) AS s
                    FROM turn_traces t CROSS JOIN LATERAL jsonb_each(t.stages) AS st
                   WHERE started_at >= $1 AND started_at < $2 AND jsonb_typeof(st.value) = 'number' GROUP BY 1, 2, 3) g
           GROUP BY 1, 2 ORDER BY 1, 2`;
}

function rawTotalAggregate(span: 'minute' | 'hour'): string {
  const bin = `date_bin('1 ${span}', started_at, TIMESTAMPTZ '2000-01-01 00:00:00+00')`;
  return `SELECT b AS bucket_start, sum(n)::int AS turns, sum(s) AS total_ms_sum, array_agg(idx ORDER BY idx) AS hist_idx, array_agg(n::int ORDER BY idx) AS hist_count
            FROM (SELECT ${bin} AS b, ${bucketSql('total_ms')} AS idx, count(*) AS n, sum(total_ms) AS s
                    FROM turn_traces WHERE started_at >= $1 AND started_at < $2 GROUP BY 1, 2) g
           GROUP BY 1 ORDER BY 1`;
}

const totalRollupRows = (span: string) =>
  `SELECT bucket_start, turns, total_ms_sum, hist_idx, hist_count
     FROM turn_total_rollups WHERE span = '${span}' AND bucket_start >= $1 AND bucket_start < $2 ORDER BY 1`;
const rollupRows = (span: string) =>
  `SELECT bucket_start, channel_id, intent, turns, errors, rejected, total_ms_sum, hist_idx, hist_count
     FROM turn_rollups WHERE span = '${span}' AND bucket_start >= $1 AND bucket_start < $2 ORDER BY 1, 2 NULLS FIRST, 3 NULLS FIRST`;
const stageRollupRows = (span: string) =>
  `SELECT bucket_start, stage, turns, ms_sum, hist_idx, hist_count
     FROM turn_stage_rollups WHERE span = '${span}' AND bucket_start >= $1 AND bucket_start < $2 ORDER BY 1, 2`;

/** |estimate − exact| within the histogram's bound (both null when the bucket is empty). */
function expectWithinBound(estimate: number | null | undefined, exact: number | null | undefined, what: string): void {
  if (exact === null || exact === undefined) {
    expect(estimate ?? null, what).toBeNull();
    return;
  }
  expect(estimate, what).not.toBeNull();
  expect(Math.abs(estimate! - exact), `${what}: ${estimate} vs ${exact}`).toBeLessThanOrEqual(HISTOGRAM_RELATIVE_ERROR * exact * (1 + 1e-9) + 1e-9);
}

describe.each(targets)('trace rollups on $name', (target) => {
  let t: TestDatabase;
  let ds: DataSource;
  const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await execute<T>(ds, sql, params)).rows;
  const start = new Date(NOW.getTime() - SPAN);
  const watermark = new Date('2031-03-01T11:59:00Z'); // floor(NOW − 60 s settle)

  beforeAll(async () => {
    if (target.skip) return;
    t = await target.create();
    ds = t.db.dataSource;
    await generate(ds, 'g-', start, ROWS, SPAN / ROWS);
  }, 180_000);
  afterAll(() => t?.dispose());

  it.skipIf(target.skip)('the first pass rolls every settled minute from the oldest trace; rows equal the raw aggregation exactly', async () => {
    expect(await rolledUntil(ds)).toBeNull();
    const result = await rollUpTraces(ds, { retentionDays: 0, now: NOW, chunkMs: 12 * HOUR });
    expect(result.rolledUntil).toEqual(watermark);
    expect(result.transactions).toBe(3); // 30 h in chunks of 12 h
    expect(await rolledUntil(ds)).toEqual(watermark);

    const minuteRange = [new Date(Math.floor(start.getTime() / MINUTE) * MINUTE), watermark];
    const minutes = await q(rollupRows('minute'), minuteRange);
    expect(minutes.length).toBeGreaterThan(1700);
    expect(minutes).toEqual(await q(rawAggregate('minute'), minuteRange));
    expect(await q(stageRollupRows('minute'), minuteRange)).toEqual(await q(rawStageAggregate('minute'), minuteRange));
    expect(await q(totalRollupRows('minute'), minuteRange)).toEqual(await q(rawTotalAggregate('minute'), minuteRange));
    // Whole hours: the hour rows equal the raw aggregation of the hour.
    const hourRange = [new Date(Math.ceil(start.getTime() / HOUR) * HOUR), new Date('2031-03-01T11:00:00Z')];
    const hours = await q(rollupRows('hour'), hourRange);
    expect(hours.length).toBeGreaterThan(20 * 20);
    expect(hours).toEqual(await q(rawAggregate('hour'), hourRange));
    expect(await q(stageRollupRows('hour'), hourRange)).toEqual(await q(rawStageAggregate('hour'), hourRange));
    expect(await q(totalRollupRows('hour'), hourRange)).toEqual(await q(rawTotalAggregate('hour'), hourRange));
    // No minute at or after the watermark is rolled.
    expect((await q<{ n: number }>(`SELECT count(*)::int AS n FROM turn_rollups WHERE span = 'minute' AND bucket_start >= $1`, [watermark]))[0]!.n).toBe(0);
  }, 120_000);

  it.skipIf(target.skip)('re-running a pass (and re-rolling every minute) leaves the same rows', async () => {
    const snapshot = async () => [
      await q(`SELECT * FROM turn_rollups ORDER BY span, bucket_start, channel_id NULLS FIRST, intent NULLS FIRST`),
      await q(`SELECT * FROM turn_stage_rollups ORDER BY span, bucket_start, stage`),
      await q(`SELECT * FROM turn_total_rollups ORDER BY span, bucket_start`),
    ];
    const before = await snapshot();
    expect((await rollUpTraces(ds, { retentionDays: 0, now: NOW })).minutes).toBe(5); // the lookback
    expect(await snapshot()).toEqual(before);
    expect((await rollUpTraces(ds, { retentionDays: 0, now: NOW, lookbackMs: 2 * SPAN })).rolledUntil).toEqual(watermark);
    expect(await snapshot()).toEqual(before);
  }, 120_000);

  it.skipIf(target.skip)('dashboard queries: same counts with rollups as on raw rows, percentiles within the histogram bound', async () => {
    const windows: [number, number | undefined][] = [
      [HOUR, undefined],
      [6 * HOUR, undefined],
      [24 * HOUR, undefined],
      [24 * HOUR, HOUR],
      [7 * 24 * HOUR, undefined],
    ];
    for (const [windowMs, bucketMs] of windows) {
      const range = dashboardRange(windowMs, NOW, bucketMs);
      const label = `window ${windowMs / HOUR} h, bucket ${range.bucketMs / MINUTE} min`;
      const [a, b] = [await overview(ds, range), await overview(ds, range, { rollups: false })];
      for (const period of ['current', 'previous'] as const) {
        expect({ ...a[period], p50: 0, p95: 0, p99: 0 }, label).toEqual({ ...b[period], p50: 0, p95: 0, p99: 0 });
        for (const p of ['p50', 'p95', 'p99'] as const) expectWithinBound(a[period][p], b[period][p], `${label} ${period} ${p}`);
      }
      expect(a.current.turns, label).toBeGreaterThan(0);

      const [la, lb] = [await latencySeries(ds, range), await latencySeries(ds, range, { rollups: false })];
      expect(la.buckets).toEqual(lb.buckets);
      expect(Object.keys(la.stages)).toEqual(['nlu', 'send', 'skill']);
      expect(Object.keys(la.stages)).toEqual(Object.keys(lb.stages));
      for (const [name, sa, sb] of [['total', la.total, lb.total] as const, ...Object.keys(la.stages).map((k) => [k, la.stages[k]!, lb.stages[k]!] as const)]) {
        expect(sa.count, `${label} ${name}`).toEqual(sb.count);
        for (const p of ['p50', 'p95', 'p99'] as const) sa[p].forEach((v, i) => expectWithinBound(v, sb[p][i], `${label} ${name} ${p}[${i}]`));
      }

      expect(await channelThroughput(ds, range), label).toEqual(await channelThroughput(ds, range, { rollups: false }));
      expect(await intentMix(ds, range), label).toEqual(await intentMix(ds, range, 15, { rollups: false }));
      expect((await jobsPanel(ds, range)).funnel, label).toEqual((await jobsPanel(ds, range, { rollups: false })).funnel);
    }
  }, 180_000);

  it.skipIf(target.skip)('they read the rollups (rolled raw rows gone, still counted) and the raw tail since the watermark', async () => {
    const range = dashboardRange(24 * HOUR, NOW);
    const before = await overview(ds, range);
    // Turns of the last, unrolled minute are counted: the raw tail.
    await insertOne(ds, 'tail-1', new Date(NOW.getTime() - 1_000));
    await insertOne(ds, 'tail-2', new Date(watermark.getTime() + 1));
    const withTail = await overview(ds, range);
    expect(withTail.current.turns).toBe(before.current.turns + 2);
    expect((await intentMix(ds, range)).find((i) => i.intent === 'assistant.help')!.count).toBe(
      (await intentMix(ds, range, 15, { rollups: false })).find((i) => i.intent === 'assistant.help')!.count,
    );
    const series = await channelThroughput(ds, range);
    expect(series.series.late!.reduce((s, n) => s + n, 0)).toBe(2);

    // Raw rows of a rolled-up hour removed behind the rollups' back: still counted, so the rollups are what is read.
    const gone = await q<{ n: number }>(
      `WITH d AS (DELETE FROM turn_traces WHERE started_at >= $1 AND started_at < $2 RETURNING 1) SELECT count(*)::int AS n FROM d`,
      [new Date('2031-03-01T05:00:00Z'), new Date('2031-03-01T06:00:00Z')],
    );
    expect(gone[0]!.n).toBeGreaterThan(300);
    expect((await overview(ds, range)).current.turns).toBe(withTail.current.turns);
    expect((await overview(ds, range, { rollups: false })).current.turns).toBe(withTail.current.turns - gone[0]!.n);
    // A pass that re-rolls those minutes makes the rollups agree with the raw rows again.
    await rollUpTraces(ds, { retentionDays: 0, now: NOW, lookbackMs: 8 * HOUR });
    expect((await overview(ds, range)).current.turns).toBe(withTail.current.turns - gone[0]!.n);
  }, 120_000);

  it.skipIf(target.skip)('a late trace is counted after the next pass; one later than the lookback after the deep (hourly) pass', async () => {
    const range = () => dashboardRange(24 * HOUR, NOW);
    const raw = async () => (await overview(ds, range(), { rollups: false })).current.turns;
    const rolled = async () => (await overview(ds, range())).current.turns;
    expect(await rolled()).toBe(await raw());
    // Written now for a minute rolled up 3 minutes ago: not in the rollup until the next pass re-rolls it.
    await insertOne(ds, 'late-3m', new Date(watermark.getTime() - 3 * MINUTE + 5_000));
    expect(await rolled()).toBe((await raw()) - 1);
    await rollUpTraces(ds, { retentionDays: 0, now: NOW });
    expect(await rolled()).toBe(await raw());
    // 40 minutes late: beyond the minute pass's 5-minute lookback, within the deep pass's 2 hours.
    await insertOne(ds, 'late-40m', new Date(watermark.getTime() - 40 * MINUTE));
    await rollUpTraces(ds, { retentionDays: 0, now: NOW });
    expect(await rolled()).toBe((await raw()) - 1);
    await rollUpTraces(ds, { retentionDays: 0, now: NOW, lookbackMs: 2 * HOUR });
    expect(await rolled()).toBe(await raw());
  }, 120_000);

  it.skipIf(target.skip)('TraceMaintenance rolls new minutes each pass and expires rollups with TRACE_RETENTION_DAYS', async () => {
    // Two minutes later: the pass moves the watermark and rolls the tail inserted above.
    let clock = new Date(NOW.getTime() + 2 * MINUTE);
    const maintenance = new TraceMaintenance(ds, { retentionDays: 0, now: () => clock });
    await maintenance.runOnce();
    expect(await rolledUntil(ds)).toEqual(new Date('2031-03-01T12:01:00Z'));
    expect((await q<{ n: number }>(`SELECT sum(turns)::int AS n FROM turn_rollups WHERE span = 'minute' AND channel_id = 'late'`))[0]!.n).toBe(4);
    clock = new Date(NOW.getTime() + 3 * MINUTE);
    await maintenance.runOnce();
    expect(await rolledUntil(ds)).toEqual(new Date('2031-03-01T12:02:00Z'));
    await maintenance.stop();

    // Retention 2 days on 2031-03-02: keeps 03-01 and 03-02, drops 02-28 (the first 6 hours of data).
    const count = async (before: Date) =>
      (await q<{ n: number }>(`SELECT count(*)::int AS n FROM turn_rollups WHERE bucket_start < $1`, [before]))[0]!.n;
    const day = new Date('2031-03-01T00:00:00Z');
    const old = await count(day);
    expect(old).toBeGreaterThan(0);
    const kept = (await q<{ n: number }>(`SELECT count(*)::int AS n FROM turn_rollups WHERE bucket_start >= $1`, [day]))[0]!.n;
    expect(await expireRollups(ds, 0, new Date('2031-03-02T10:00:00Z'))).toBe(0);
    const expired = await expireRollups(ds, 2, new Date('2031-03-02T10:00:00Z'));
    expect(expired).toBeGreaterThanOrEqual(old);
    expect(await count(day)).toBe(0);
    expect((await q<{ n: number }>(`SELECT count(*)::int AS n FROM turn_stage_rollups WHERE bucket_start < $1`, [day]))[0]!.n).toBe(0);
    expect((await q<{ n: number }>(`SELECT count(*)::int AS n FROM turn_total_rollups WHERE bucket_start < $1`, [day]))[0]!.n).toBe(0);
    expect((await q<{ n: number }>(`SELECT count(*)::int AS n FROM turn_rollups WHERE bucket_start >= $1`, [day]))[0]!.n).toBe(kept);
    // A pass under that retention does not roll the dropped day back in.
    await rollUpTraces(ds, { retentionDays: 2, now: new Date('2031-03-02T10:00:00Z'), lookbackMs: 2 * SPAN });
    expect(await count(day)).toBe(0);
  }, 120_000);
});
