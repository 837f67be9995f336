import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import {
  channelThroughput,
  dashboardRange,
  intentMix,
  jobTablesExist,
  jobsPanel,
  latencySeries,
  overview,
} from '../../src/bot/dashboard/queries.js';
import { execute } from '../../src/db/sql.js';
import { databaseTargets, type TestDatabase } from '../helpers/databases.js';

/**
 * The dashboard's SQL on both databases, with trace rows whose percentiles are worked out by hand
 * (percentile_cont interpolates linearly: p at rank (n−1)·q).
 */

const targets = await databaseTargets();

const NOW = new Date('2030-01-01T12:00:00Z');
const at = (hhmm: string) => new Date(`2030-01-01T${hhmm}:00Z`);

interface Row {
  at: string;
  total: number;
  stages: Record<string, number>;
  channel: string | null;
  intent: string | null;
  outcome?: string;
  user?: string;
}

// Current window [11:00, 12:00]; with 30-minute buckets: 11:00, 11:30 and 12:00 (empty).
const ROWS: Row[] = [
  { at: '11:05', total: 10, stages: { nlu: 1, send: 5 }, channel: 'msteams', intent: 'procurement.create_order' },
  { at: '11:10', total: 20, stages: { nlu: 2, send: 5 }, channel: 'msteams', intent: 'procurement.create_order' },
  { at: '11:15', total: 30, stages: { nlu: 3, send: 5 }, channel: 'msteams', intent: 'procurement.create_order', outcome: 'error' },
  { at: '11:20', total: 40, stages: { nlu: 4, send: 5 }, channel: 'webchat', intent: null },
  { at: '11:25', total: 50, stages: { nlu: 5, send: 5 }, channel: 'webchat', intent: null, outcome: 'rejected' },
  { at: '11:40', total: 100, stages: { nlu: 10 }, channel: 'webchat', intent: 'assistant.greet' },
  { at: '11:50', total: 200, stages: { nlu: 20 }, channel: 'webchat', intent: 'assistant.greet' },
  // Previous window [10:00, 11:00).
  { at: '10:30', total: 1000, stages: { nlu: 100 }, channel: 'msteams', intent: 'assistant.help' },
  { at: '10:45', total: 3000, stages: { nlu: 300 }, channel: 'msteams', intent: 'assistant.help' },
  // Outside both windows.
  { at: '09:00', total: 99999, stages: { nlu: 99999 }, channel: 'slack', intent: 'assistant.help' },
  { at: '12:01', total: 99999, stages: { nlu: 99999 }, channel: 'slack', intent: 'assistant.help' },
];

async function insertTraces(ds: DataSource): Promise<void> {
  for (const [i, r] of ROWS.entries()) {
    await execute(
      ds,
      `INSERT INTO turn_traces (turn_id, channel_id, user_id, started_at, total_ms, stages, intent, outcome)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8)`,
      [`turn-${i}`, r.channel, r.user ?? 'u', at(r.at), r.total, JSON.stringify(r.stages), r.intent, r.outcome ?? 'ok'],
    );
  }
}

describe.each(targets)('dashboard queries on $name', (target) => {
  let t: TestDatabase;
  let ds: DataSource;

  beforeAll(async () => {
    if (target.skip) return;
    t = await target.create();
    ds = t.db.dataSource;
    await insertTraces(ds);
  });

  afterAll(async () => {
    await t?.dispose();
  });

  const range = () => dashboardRange(60 * 60_000, NOW, 30 * 60_000);

  it.skipIf(target.skip)('picks buckets: at most 200 per chart, aligned to whole buckets', () => {
    expect(dashboardRange(60 * 60_000, NOW).bucketMs).toBe(60_000);
    expect(dashboardRange(24 * 3_600_000, NOW).bucketMs).toBe(15 * 60_000);
    expect(dashboardRange(7 * 24 * 3_600_000, NOW).bucketMs).toBe(3_600_000);
    expect(dashboardRange(30 * 24 * 3_600_000, NOW).bucketMs).toBe(6 * 3_600_000);
    const r = dashboardRange(60 * 60_000, new Date('2030-01-01T12:07:30Z'), 30 * 60_000);
    expect(r.origin.toISOString()).toBe('2030-01-01T11:00:00.000Z');
    expect(() => dashboardRange(30 * 24 * 3_600_000, NOW, 1000)).toThrow(RangeError);
  });

  it.skipIf(target.skip)('overview: this window against the previous one', async () => {
    const o = await overview(ds, range());
    expect(o.current).toMatchObject({ turns: 7, errors: 1, rejected: 1 });
    // [10, 20, 30, 40, 50, 100, 200]: p50 = 40; p95 at rank 5.7 = 170; p99 at rank 5.94 = 194.
    expect(o.current.p50).toBeCloseTo(40, 6);
    expect(o.current.p95).toBeCloseTo(170, 6);
    expect(o.current.p99).toBeCloseTo(194, 6);
    expect(o.previous).toMatchObject({ turns: 2, errors: 0, rejected: 0 });
    expect(o.previous.p50).toBeCloseTo(2000, 6);
    expect(o.previous.p99).toBeCloseTo(2980, 6);
  });

  it.skipIf(target.skip)('an empty window has zero turns and null percentiles', async () => {
    const o = await overview(ds, dashboardRange(60 * 60_000, new Date('2031-06-01T00:00:00Z')));
    expect(o.current).toMatchObject({ turns: 0, errors: 0, p50: null, p95: null, p99: null });
  });

  it.skipIf(target.skip)('latency: p50/p95/p99 of the total and of each stage per bucket', async () => {
    const l = await latencySeries(ds, range());
    expect(l.buckets).toEqual(['2030-01-01T11:00:00.000Z', '2030-01-01T11:30:00.000Z', '2030-01-01T12:00:00.000Z']);
    expect(l.total.count).toEqual([5, 2, 0]);
    expect(l.total.p50).toEqual([30, 150, null]);
    expect(l.total.p95[0]).toBeCloseTo(48, 6); // rank 3.8 of [10..50]
    expect(l.total.p99[1]).toBeCloseTo(199, 6); // rank 0.99 of [100, 200]
    expect(Object.keys(l.stages)).toEqual(['nlu', 'send']);
    const nlu = l.stages.nlu;
    expect(nlu?.count).toEqual([5, 2, 0]);
    expect(nlu?.p50).toEqual([3, 15, null]);
    expect(nlu?.p95[0]).toBeCloseTo(4.8, 6);
    expect(nlu?.p99[1]).toBeCloseTo(19.9, 6);
    // A stage no turn in the bucket ran is a gap, not zero.
    expect(l.stages.send).toMatchObject({ count: [5, 0, 0], p50: [5, null, null] });
  });

  it.skipIf(target.skip)('throughput per channel per bucket', async () => {
    const c = await channelThroughput(ds, range());
    expect(c.series).toEqual({ msteams: [3, 0, 0], webchat: [2, 2, 0] });
  });

  it.skipIf(target.skip)('intent mix, most frequent first, no intent last among equals', async () => {
    expect(await intentMix(ds, range())).toEqual([
      { intent: 'procurement.create_order', count: 3 },
      { intent: 'assistant.greet', count: 2 },
      { intent: null, count: 2 },
    ]);
  });

  it.skipIf(target.skip)('jobs: status over time, funnel and top failure reasons', async () => {
    if (!(await jobTablesExist(ds))) {
      // Before the job tables exist the panel is there, empty.
      const p = await jobsPanel(ds, range());
      expect(p).toMatchObject({ available: false, failureReasons: [], statusOverTime: { series: {} } });
      return;
    }
    const job = async (status: string, created: string, finished: string | null, error: string | null) => {
      const { rows } = await execute<{ id: number }>(
        ds,
        `INSERT INTO automation_jobs (skill, action, status, idempotency_key, input, error, requested_by, channel_id,
                                      conversation_id, created_at, finished_at, updated_at)
         VALUES ('procurement', 'send_po', $1, gen_random_uuid()::text, '{}'::jsonb, $2, 'u', 'webchat', 'c',
                 $3::timestamptz, $4::timestamptz, coalesce($4::timestamptz, $3::timestamptz))
         RETURNING id`,
        [status, error, at(created), finished ? at(finished) : null],
      );
      return rows[0]?.id;
    };
    const firstJob = await job('succeeded', '11:01', '11:10', null);
    await job('succeeded', '11:02', '11:20', null);
    await job('failed', '11:03', '11:31', 'Supplier rejected the order');
    await job('failed', '11:35', '11:41', 'Supplier rejected the order');
    await job('dead_letter', '11:36', '11:51', 'Timeout talking to the supplier');
    await job('failed', '11:37', '11:52', 'Timeout talking to the supplier');
    await job('running', '11:38', null, null);
    await job('succeeded', '10:20', '10:30', null); // previous window

    // Funnel: the 3 create_order turns in ROWS are the proposals; confirmations and approvals as the skills record them.
    const audit = (action: string, outcome: string, when: string) =>
      execute(ds, `INSERT INTO audit_log (at, actor_id, action, outcome) VALUES ($1, 'u', $2, $3)`, [at(when), action, outcome]);
    await audit('procurement.create_order', 'submitted', '11:06');
    await audit('procurement.create_order', 'submitted', '11:11');
    await audit('procurement.create_order', 'refused', '11:12'); // not confirmed
    await audit('procurement.approve_order', 'submitted', '11:13'); // an approval, not a confirmation
    await audit('procurement.create_order', 'submitted', '10:10'); // previous window
    const event = (kind: string, when: string) =>
      execute(ds, `INSERT INTO automation_job_events (job_id, at, kind, message) VALUES ($1, $2, $3, 'x')`, [firstJob, at(when), kind]);
    await event('approved', '11:07');
    await event('po_created', '11:07');
    await event('approved', '10:07'); // previous window

    const p = await jobsPanel(ds, range());
    expect(p.available).toBe(true);
    expect(p.statusOverTime.series).toEqual({ dead_letter: [0, 1, 0], failed: [1, 2, 0], running: [0, 1, 0], succeeded: [2, 0, 0] });
    expect(p.funnel).toEqual([
      { stage: 'proposed', count: 3 },
      { stage: 'confirmed', count: 2 },
      { stage: 'approved', count: 1 },
      { stage: 'succeeded', count: 2 },
      { stage: 'failed', count: 4 },
    ]);
    expect(p.failureReasons).toEqual([
      { reason: 'Supplier rejected the order', count: 2, lastAt: '2030-01-01T11:41:00.000Z' },
      { reason: 'Timeout talking to the supplier', count: 2, lastAt: '2030-01-01T11:52:00.000Z' },
    ]);
    const o = await overview(ds, range());
    expect(o.jobsAvailable).toBe(true);
    expect(o.current).toMatchObject({ jobsSucceeded: 2, jobsFailed: 4 });
    expect(o.previous).toMatchObject({ jobsSucceeded: 1, jobsFailed: 0 });
  });
});
