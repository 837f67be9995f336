/**
 * The dashboard's and the trace API's queries on a big turn_traces, before and after daily
 * partitioning and with the rollups, in one run on one server (docs/notes/scaleout.md,
 * docs/notes/rollups.md).
 *
 *   npm run bench:traces -- [--rows 10000000] [--days 30] [--runs 5] [--url postgres://postgres@127.0.0.1:5432/postgres] [--keep] [--no-plain]
 *
 * Creates a scratch database `bench_traces` (dropped at the end unless --keep) with two schemas:
 * `plain` (turn_traces as before migration 1797600000000: one table, PK turn_id) and `part` (the
 * partitioned table), the same rows in both (generate_series, spread evenly over --days up to now).
 * In `part` the rollup tables (migration 1797700000000) are created and the whole backlog rolled up
 * as the worker's first pass would (timed), then one day re-rolled and one steady-state pass (timed).
 * Each query runs once to warm up, then --runs times; the median is reported for the plain table
 * (skipped with --no-plain), the partitioned table on raw rows (`rollups: false`, the code before
 * the rollups) and the partitioned table with the rollups, one query after the other.
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { TraceRollups1797700000000 } from '../migrations/1797700000000-TraceRollups.js';
import { channelThroughput, dashboardRange, intentMix, latencySeries, overview, type QueryOptions } from '../src/bot/dashboard/queries.js';
import { createDataSource } from '../src/db/dataSource.js';
import { silentLog } from '../src/db/log.js';
import { execute } from '../src/db/sql.js';
import { rollUpTraces } from '../src/tracing/rollups.js';
import { recentTraces, traceSummary } from '../src/tracing/traceQueries.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '10000000' },
    days: { type: 'string', default: '30' },
    runs: { type: 'string', default: '5' },
    url: { type: 'string', default: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
    keep: { type: 'boolean', default: false },
    'no-plain': { type: 'boolean', default: false },
  },
});
const ROWS = Number(values.rows);
const DAYS = Number(values.days);
const RUNS = Number(values.runs);
const DB = 'bench_traces';
const DAY = 86_400_000;

const COLUMNS = `turn_id text NOT NULL, conversation_id text, channel_id text, activity_id text, user_id text,
  started_at timestamptz NOT NULL, total_ms double precision NOT NULL, stages jsonb NOT NULL DEFAULT '{}'::jsonb,
  intent text, confidence double precision, attributes jsonb NOT NULL DEFAULT '{}'::jsonb, outcome text NOT NULL, error text`;

const urlFor = (database: string, searchPath?: string) => {
  const u = new URL(values.url);
  u.pathname = `/${database}`;
  if (searchPath) u.searchParams.set('options', `-c search_path=${searchPath}`);
  return u.toString();
};

async function timed<T>(what: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const out = await fn();
  console.log(`  ${what}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return out;
}

async function load(client: pg.Client, nowMs: number): Promise<void> {
  await client.query(`CREATE SCHEMA plain; CREATE SCHEMA part;`);
  await client.query(`CREATE TABLE plain.turn_traces (${COLUMNS})`);
  const stepMs = (DAYS * DAY) / ROWS;
  const chunk = 1_000_000;
  await timed(`generate ${ROWS.toLocaleString('en')} rows (plain)`, async () => {
    for (let from = 1; from <= ROWS; from += chunk) {
      const to = Math.min(ROWS, from + chunk - 1);
      await client.query(
        `INSERT INTO plain.turn_traces
         SELECT 't' || g, 'conv-' || (g % 5000), (ARRAY['msteams','slack','webchat','test'])[1 + g % 4], 'a' || g, 'user-' || (g % 2000),
                to_timestamp(($1::float8 - ($2::float8 - g) * $3::float8) / 1000.0),
                5 + (g * 7919 % 400)::float8 / 3,
                jsonb_build_object('receive', 0.2, 'nlu', (g % 50) / 3.0, 'skill', (g % 97) / 2.0, 'send', 1.5),
                (ARRAY['procurement.create_order','procurement.order_status','assistant.greet','assistant.help',
                       'storage.stock_level','automation.list_jobs','customs.file_declaration', NULL])[1 + g % 8],
                0.9, '{}'::jsonb,
                CASE WHEN g % 100 = 0 THEN 'error' WHEN g % 50 = 1 THEN 'rejected' ELSE 'ok' END, NULL
           FROM generate_series($4::bigint, $5::bigint) g`,
        [nowMs, ROWS, stepMs, from, to],
      );
    }
  });
  await timed('plain: primary key (turn_id) + index (started_at)', async () => {
    await client.query(`ALTER TABLE plain.turn_traces ADD PRIMARY KEY (turn_id)`);
    await client.query(`CREATE INDEX ON plain.turn_traces (started_at)`);
  });
  await timed('part: daily partitions + copy + keys', async () => {
    await client.query(`CREATE TABLE part.turn_traces (${COLUMNS}) PARTITION BY RANGE (started_at)`);
    await client.query(`CREATE TABLE part.turn_traces_default PARTITION OF part.turn_traces DEFAULT`);
    const first = Math.floor((nowMs - DAYS * DAY) / DAY) * DAY;
    for (let day = first; day <= nowMs + 2 * DAY; day += DAY) {
      const name = `turn_traces_p${new Date(day).toISOString().slice(0, 10).replaceAll('-', '')}`;
      await client.query(
        `CREATE TABLE part.${name} PARTITION OF part.turn_traces FOR VALUES FROM ('${new Date(day).toISOString()}') TO ('${new Date(day + DAY).toISOString()}')`,
      );
    }
    await client.query(`INSERT INTO part.turn_traces SELECT * FROM plain.turn_traces`);
    await client.query(`ALTER TABLE part.turn_traces ADD PRIMARY KEY (turn_id, started_at)`);
    await client.query(`CREATE INDEX ON part.turn_traces (started_at)`);
  });
  await timed('ANALYZE', () => client.query(`ANALYZE plain.turn_traces; ANALYZE part.turn_traces`));
}

type Query = [name: string, run: (ds: DataSource, options: QueryOptions) => Promise<unknown>];

function queries(now: Date): Query[] {
  const H = 3_600_000;
  return [
    ['recentTraces(50)', (ds) => recentTraces(ds, 50)],
    ['traceSummary(15 min)', (ds) => traceSummary(ds, 15 * 60_000, { now })],
    ['traceSummary(24 h)', (ds) => traceSummary(ds, 24 * H, { now })],
    ['dashboard overview(1 h)', (ds, o) => overview(ds, dashboardRange(H, now), o)],
    ['dashboard overview(24 h)', (ds, o) => overview(ds, dashboardRange(24 * H, now), o)],
    ['dashboard overview(7 d)', (ds, o) => overview(ds, dashboardRange(7 * 24 * H, now), o)],
    ['dashboard latencySeries(1 h)', (ds, o) => latencySeries(ds, dashboardRange(H, now), o)],
    ['dashboard latencySeries(24 h)', (ds, o) => latencySeries(ds, dashboardRange(24 * H, now), o)],
    ['dashboard latencySeries(7 d)', (ds, o) => latencySeries(ds, dashboardRange(7 * 24 * H, now), o)],
    ['dashboard channelThroughput(24 h)', (ds, o) => channelThroughput(ds, dashboardRange(24 * H, now), o)],
    ['dashboard channelThroughput(7 d)', (ds, o) => channelThroughput(ds, dashboardRange(7 * 24 * H, now), o)],
    ['dashboard intentMix(24 h)', (ds, o) => intentMix(ds, dashboardRange(24 * H, now), 15, o)],
    ['dashboard intentMix(7 d)', (ds, o) => intentMix(ds, dashboardRange(7 * 24 * H, now), 15, o)],
  ];
}

/** Rollup tables in `part`, the first pass over the whole backlog, one day re-rolled, one steady-state pass. */
async function rollUpBacklog(part: DataSource, now: Date) {
  const runner = part.createQueryRunner();
  try {
    await new TraceRollups1797700000000().up(runner);
  } finally {
    await runner.release();
  }
  const t0 = performance.now();
  const backlog = await rollUpTraces(part, { retentionDays: 0, now });
  const backlogS = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  await rollUpTraces(part, { retentionDays: 0, now, lookbackMs: DAY });
  const dayS = (performance.now() - t1) / 1000;
  const t2 = performance.now();
  await rollUpTraces(part, { retentionDays: 0, now });
  const passMs = performance.now() - t2;
  const { rows } = await execute<{ rollup_rows: number; stage_rows: number; total_rows: number; size: string }>(
    part,
    `SELECT (SELECT count(*)::int FROM turn_rollups) AS rollup_rows, (SELECT count(*)::int FROM turn_stage_rollups) AS stage_rows,
            (SELECT count(*)::int FROM turn_total_rollups) AS total_rows,
            pg_size_pretty(pg_total_relation_size('turn_rollups') + pg_total_relation_size('turn_stage_rollups')
                           + pg_total_relation_size('turn_total_rollups')) AS size`,
  );
  const out = {
    backlogS: Math.round(backlogS * 10) / 10,
    transactions: backlog.transactions,
    dayS: Math.round(dayS * 10) / 10,
    passMs: Math.round(passMs),
    rollupRows: rows[0]!.rollup_rows,
    stageRows: rows[0]!.stage_rows,
    totalRows: rows[0]!.total_rows,
    size: rows[0]!.size,
  };
  console.log(
    `  rollups: first pass over the backlog ${out.backlogS} s (${out.transactions} transactions), one day re-rolled ${out.dayS} s, ` +
      `a 5-minute pass ${out.passMs} ms; ${out.rollupRows.toLocaleString('en')} + ${out.stageRows.toLocaleString('en')} + ${out.totalRows.toLocaleString('en')} rows, ${out.size}`,
  );
  return out;
}

async function measure(ds: DataSource, run: Query[1], options: QueryOptions): Promise<number> {
  await run(ds, options);
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await run(ds, options);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

async function main(): Promise<void> {
  const admin = new pg.Client({ connectionString: values.url });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${DB}`);
  await admin.query(`CREATE DATABASE ${DB}`);
  const nowMs = Date.now();
  const client = new pg.Client({ connectionString: urlFor(DB) });
  await client.connect();
  const sources: DataSource[] = [];
  try {
    console.log(`bench:traces — ${ROWS.toLocaleString('en')} rows over ${DAYS} days, median of ${RUNS} runs`);
    await load(client, nowMs);
    const size = await client.query<{ plain: string; part: string }>(
      `SELECT pg_size_pretty(pg_total_relation_size('plain.turn_traces')) AS plain,
              (SELECT pg_size_pretty(sum(pg_total_relation_size(inhrelid))) FROM pg_inherits WHERE inhparent = 'part.turn_traces'::regclass) AS part`,
    );
    console.log(`  size: plain ${size.rows[0]!.plain}, partitioned ${size.rows[0]!.part}`);
    const plain = createDataSource(urlFor(DB, 'plain'), { poolSize: 2, logger: silentLog });
    const part = createDataSource(urlFor(DB, 'part'), { poolSize: 2, logger: silentLog });
    sources.push(plain, part);
    await Promise.all(sources.map((s) => s.initialize()));
    const now = new Date(nowMs);
    const rollup = await rollUpBacklog(part, now);
    const results: { query: string; plainMs: number | null; partitionedMs: number; rollupsMs: number }[] = [];
    const round = (ms: number) => Math.round(ms * 10) / 10;
    for (const [name, run] of queries(now)) {
      const plainMs = values['no-plain'] ? null : await measure(plain, run, { rollups: false });
      const partitionedMs = await measure(part, run, { rollups: false });
      const rollupsMs = await measure(part, run, { rollups: true });
      results.push({ query: name, plainMs: plainMs === null ? null : round(plainMs), partitionedMs: round(partitionedMs), rollupsMs: round(rollupsMs) });
      console.log(
        `  ${name.padEnd(36)} plain ${(plainMs?.toFixed(1) ?? '-').padStart(9)} ms   partitioned ${partitionedMs.toFixed(1).padStart(9)} ms   + rollups ${rollupsMs.toFixed(1).padStart(9)} ms`,
      );
    }
    console.log(JSON.stringify({ rows: ROWS, days: DAYS, runs: RUNS, at: new Date().toISOString(), rollup, results }));
  } finally {
    await Promise.allSettled(sources.filter((s) => s.isInitialized).map((s) => s.destroy()));
    await client.end();
    if (!values.keep) await admin.query(`DROP DATABASE IF EXISTS ${DB}`);
    await admin.end();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
