/**
 * turn_traces partitioned by UTC day (migrations/1797600000000-TracePartitions.ts) and maintained
 * by the worker (src/tracing/partitions.ts), on PGlite and PostgreSQL: the migration converts an
 * existing table keeping every row, partitions are created ahead, a write across midnight lands in
 * each day's partition, a row of a day without partition is caught by the default partition and
 * moved out, retention drops whole old days and nothing newer.
 */
import { randomUUID } from 'node:crypto';
import type { QueryRunner } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TracePartitions1797600000000 } from '../../migrations/1797600000000-TracePartitions.js';
import { execute } from '../../src/db/sql.js';
import { listDayPartitions, maintainTracePartitions, partitionName, tracesPartitioned } from '../../src/tracing/partitions.js';
import { TraceWriter } from '../../src/tracing/traceWriter.js';
import type { TraceRecord } from '../../src/tracing/turnTrace.js';
import { databaseTargets, type TestDatabase } from '../helpers/databases.js';

const DAY = 86_400_000;
const today = Math.floor(Date.now() / DAY) * DAY;

function record(startedAt: number): TraceRecord {
  return {
    turnId: randomUUID(),
    conversationId: 'conv-1',
    channelId: 'test',
    activityId: randomUUID(),
    userId: 'user-1',
    startedAt: new Date(startedAt),
    totalMs: 12,
    stages: { nlu: 3 },
    intent: 'assistant.greet',
    confidence: 0.9,
    attributes: {},
    outcome: 'ok',
  };
}

const targets = await databaseTargets();

describe.each(targets)('trace partitions on $name', (target) => {
  let t: TestDatabase | undefined;
  const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await execute<T>(t!.db.dataSource, sql, params)).rows;
  /** Which table holds each turn id. */
  const homes = async (ids: string[]) =>
    Object.fromEntries(
      (await q<{ turn_id: string; home: string }>(`SELECT turn_id, tableoid::regclass::text AS home FROM turn_traces WHERE turn_id = ANY($1::text[])`, [ids])).map(
        (r) => [r.turn_id, r.home],
      ),
    );

  beforeAll(async () => {
    if (target.skip) return;
    t = await target.create();
  }, 120_000);
  afterAll(() => t?.dispose());

  it.skipIf(target.skip)('the migration partitions turn_traces by day, today and two days ahead', async () => {
    expect(await tracesPartitioned(t!.db.dataSource)).toBe(true);
    const names = (await listDayPartitions(t!.db.dataSource)).map((p) => p.name);
    for (let d = 0; d <= 2; d++) expect(names).toContain(partitionName(today + d * DAY));
  });

  it.skipIf(target.skip)('the migration converts an existing table and keeps every row in its day', async () => {
    const migration = new TracePartitions1797600000000();
    // One runner at a time: the embedded database has a single connection.
    const withRunner = async (step: (r: QueryRunner) => Promise<void>) => {
      const runner = t!.db.dataSource.createQueryRunner();
      try {
        await step(runner);
      } finally {
        await runner.release();
      }
    };
    const old = [record(today - 40 * DAY + 5_000), record(today - DAY + 1), record(today + 3_600_000)];
    await withRunner((r) => migration.down(r));
    expect(await tracesPartitioned(t!.db.dataSource)).toBe(false);
    const writer = new TraceWriter(t!.db.dataSource, { flushMs: 1 });
    for (const r of old) writer.enqueue(r);
    expect(await writer.close(10_000)).toBe(true);
    await withRunner((r) => migration.up(r));
    expect(await tracesPartitioned(t!.db.dataSource)).toBe(true);
    const where = await homes(old.map((r) => r.turnId));
    expect(old.map((r) => where[r.turnId])).toEqual(old.map((r) => partitionName(Math.floor(r.startedAt.getTime() / DAY) * DAY)));
  }, 60_000);

  it.skipIf(target.skip)('the writer inserts across midnight; a day without partition goes to the default one and is moved out', async () => {
    const midnight = today + DAY;
    const before = record(midnight - 1);
    const after = record(midnight);
    const farAhead = record(midnight + 9 * DAY + 1_000);
    const writer = new TraceWriter(t!.db.dataSource, { flushMs: 1 });
    for (const r of [before, after, farAhead]) writer.enqueue(r);
    expect(await writer.close(10_000)).toBe(true);
    expect(writer.stats()).toMatchObject({ written: 3, rejectedRows: 0, dropped: 0 });
    let where = await homes([before.turnId, after.turnId, farAhead.turnId]);
    expect(where[before.turnId]).toBe(partitionName(today));
    expect(where[after.turnId]).toBe(partitionName(midnight));
    expect(where[farAhead.turnId]).toBe('turn_traces_default');

    const result = await maintainTracePartitions(t!.db.dataSource, { retentionDays: 0 });
    expect(result.created).toEqual([partitionName(midnight + 9 * DAY)]);
    expect(result.moved).toBe(1);
    where = await homes([farAhead.turnId]);
    expect(where[farAhead.turnId]).toBe(partitionName(midnight + 9 * DAY));
    // A second pass changes nothing.
    expect(await maintainTracePartitions(t!.db.dataSource, { retentionDays: 0 })).toEqual({ created: [], moved: 0, dropped: [] });
  }, 60_000);

  it.skipIf(target.skip)('retention drops whole days older than TRACE_RETENTION_DAYS, and only those', async () => {
    // Partitions and rows for the last 10 days (as a worker running then would have made them).
    const ids: Record<number, string> = {};
    for (let d = 10; d >= 1; d--) {
      await maintainTracePartitions(t!.db.dataSource, { retentionDays: 0, daysAhead: 0, now: new Date(today - d * DAY + 1000) });
      const r = record(today - d * DAY + 60_000);
      ids[d] = r.turnId;
      const writer = new TraceWriter(t!.db.dataSource, { flushMs: 1 });
      writer.enqueue(r);
      expect(await writer.close(10_000)).toBe(true);
    }
    const countOld = async () => (await q<{ n: number }>(`SELECT count(*)::int AS n FROM turn_traces WHERE turn_id = ANY($1::text[])`, [Object.values(ids)]))[0]!.n;
    expect(await countOld()).toBe(10);
    // Retention 0 keeps everything.
    expect((await maintainTracePartitions(t!.db.dataSource, { retentionDays: 0 })).dropped).toEqual([]);
    // Keep today and the 4 days before it: days 5…10 (and the 40-day-old one) go.
    const result = await maintainTracePartitions(t!.db.dataSource, { retentionDays: 5 });
    expect(result.dropped).toContain(partitionName(today - 40 * DAY));
    for (let d = 5; d <= 10; d++) expect(result.dropped).toContain(partitionName(today - d * DAY));
    for (let d = 1; d <= 4; d++) expect(result.dropped).not.toContain(partitionName(today - d * DAY));
    const left = await q<{ turn_id: string }>(`SELECT turn_id FROM turn_traces WHERE turn_id = ANY($1::text[])`, [Object.values(ids)]);
    expect(left.map((r) => r.turn_id).sort()).toEqual([1, 2, 3, 4].map((d) => ids[d]!).sort());
    const names = (await listDayPartitions(t!.db.dataSource)).map((p) => p.name);
    expect(names).toContain(partitionName(today));
    expect(names).not.toContain(partitionName(today - 5 * DAY));
  }, 120_000);
});
