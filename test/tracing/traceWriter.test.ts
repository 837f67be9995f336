import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execute } from '../../src/db/sql.js';
import { cleanText, traceRowParams, InvalidTraceError } from '../../src/tracing/sanitize.js';
import { recentTraces } from '../../src/tracing/traceQueries.js';
import { Tracer } from '../../src/tracing/tracer.js';
import { TraceWriter, type TraceWriterOptions } from '../../src/tracing/traceWriter.js';
import { currentTrace, type TraceRecord } from '../../src/tracing/turnTrace.js';
import { databaseTargets, waitFor, type TestDatabase } from '../helpers/databases.js';

const targets = await databaseTargets();

function record(i: number, overrides: Partial<TraceRecord> = {}): TraceRecord {
  return {
    turnId: randomUUID(),
    conversationId: `conv-${i % 3}`,
    channelId: 'test',
    activityId: `act-${i}`,
    userId: 'user-1',
    startedAt: new Date(Date.UTC(2026, 0, 1, 12, 0, 0, i)),
    totalMs: 10 + i,
    stages: { receive: 0.5, nlu: i / 10, send: 2 },
    intent: i % 2 === 0 ? 'run_report' : 'check_status',
    confidence: 0.75,
    attributes: { batchSize: 4, cached: false, model: 'gpt2' },
    outcome: 'ok',
    ...overrides,
  };
}

interface Row {
  turn_id: string;
  conversation_id: string | null;
  intent: string | null;
  stages: Record<string, number>;
  attributes: Record<string, unknown>;
  error: string | null;
  total_ms: number;
}

async function rowsFor(t: TestDatabase, records: TraceRecord[]): Promise<Map<string, Row>> {
  const { rows } = await execute<Row>(
    t.db.dataSource,
    'SELECT turn_id, conversation_id, intent, stages, attributes, error, total_ms FROM turn_traces WHERE turn_id = ANY($1::text[])',
    [records.map((r) => r.turnId)],
  );
  return new Map(rows.map((r) => [r.turn_id, r]));
}

describe('trace sanitising (no database needed)', () => {
  it('removes NUL characters and replaces lone surrogates', () => {
    expect(cleanText('a\u0000b\u0000')).toBe('ab');
    expect(cleanText('x\uD800y\uDC00z')).toBe('x\uFFFDy\uFFFDz');
    expect(cleanText('pair \uD83D\uDE00 ok')).toBe('pair \uD83D\uDE00 ok');
  });

  it('rejects records that cannot be stored honestly', () => {
    expect(() => traceRowParams(record(1, { startedAt: new Date(Number.NaN) }))).toThrow(InvalidTraceError);
    expect(() => traceRowParams(record(1, { totalMs: Number.NaN }))).toThrow(InvalidTraceError);
  });

  it('drops non-finite stage times and keeps the rest', () => {
    const params = traceRowParams(record(1, { stages: { nlu: 3, bad: Number.POSITIVE_INFINITY } }));
    expect(JSON.parse(params[7] as string)).toEqual({ nlu: 3 });
  });
});

describe.each(targets)('TraceWriter on $name', (target) => {
  describe.skipIf(target.skip)('writer', () => {
    let t: TestDatabase;
    const writers: TraceWriter[] = [];
    const newWriter = (options: TraceWriterOptions = {}) => {
      const w = new TraceWriter(t.db.dataSource, { retryInitialMs: 10, retryMaxMs: 100, ...options });
      writers.push(w);
      return w;
    };
    beforeAll(async () => {
      t = await target.create();
    });
    afterEach(async () => {
      await t.comeBack(); // in case a test failed while the database was away
      await Promise.all(writers.splice(0).map((w) => w.close(2_000)));
    });
    afterAll(() => t?.dispose());

    it('writes N records as N rows, in batches, with their stages and intents', async () => {
      const writer = newWriter({ batchSize: 40, flushMs: 60_000 });
      const records = Array.from({ length: 100 }, (_, i) => record(i));
      for (const r of records) writer.enqueue(r);
      expect(await writer.flush(10_000)).toBe(true);
      expect(writer.stats()).toEqual({ written: 100, dropped: 0, pending: 0, failedBatches: 0, rejectedRows: 0 });

      const rows = await rowsFor(t, records);
      expect(rows.size).toBe(100);
      for (const [i, r] of records.entries()) {
        const row = rows.get(r.turnId)!;
        expect(row.intent).toBe(i % 2 === 0 ? 'run_report' : 'check_status');
        expect(row.stages).toEqual({ receive: 0.5, nlu: i / 10, send: 2 });
        expect(row.total_ms).toBe(10 + i);
        expect(row.attributes).toEqual({ batchSize: 4, cached: false, model: 'gpt2' });
      }
    });

    it('enqueue returns at once and writes in the background after flushMs', async () => {
      const writer = newWriter({ batchSize: 100, flushMs: 20 });
      const records = [record(1), record(2), record(3)];
      for (const r of records) expect(writer.enqueue(r)).toBeUndefined();
      expect(writer.stats().pending).toBe(3); // nothing happened on the caller's stack
      await waitFor(async () => (await rowsFor(t, records)).size === 3, 10_000, 'timer flush');
      expect(writer.stats()).toMatchObject({ written: 3, pending: 0 });
    });

    it('stores a record with NUL characters (cleaned) and keeps the batch mates of a row the database refuses', async () => {
      // A constraint stands in for any row-specific error the sanitiser cannot foresee.
      await execute(t.db.dataSource, `ALTER TABLE turn_traces ADD CONSTRAINT test_no_poison CHECK (intent IS DISTINCT FROM 'poison')`);
      try {
        const writer = newWriter({ batchSize: 10, flushMs: 60_000 });
        const nul = record(1, {
          conversationId: 'conv\u0000-nul',
          intent: 'run\u0000_report',
          error: 'Error: bad\u0000 input',
          stages: { 'n\u0000lu': 4, send: 1 },
          attributes: { 'te\u0000xt': 'value\u0000with nul', lone: 'x\uD800' },
        });
        const good = [record(2), record(3)];
        const poison = record(4, { intent: 'poison' });
        const invalid = record(5, { startedAt: new Date(Number.NaN) });
        for (const r of [good[0]!, nul, poison, invalid, good[1]!]) writer.enqueue(r);
        expect(await writer.flush(10_000)).toBe(true);

        const rows = await rowsFor(t, [...good, nul, poison, invalid]);
        expect([...rows.keys()].sort()).toEqual([good[0]!.turnId, good[1]!.turnId, nul.turnId].sort());
        expect(rows.get(nul.turnId)).toMatchObject({
          conversation_id: 'conv-nul',
          intent: 'run_report',
          error: 'Error: bad input',
          stages: { nlu: 4, send: 1 },
          attributes: { text: 'valuewith nul', lone: 'x\uFFFD' },
        });
        expect(writer.stats()).toEqual({ written: 3, dropped: 0, pending: 0, failedBatches: 1, rejectedRows: 2 });
      } finally {
        await execute(t.db.dataSource, 'ALTER TABLE turn_traces DROP CONSTRAINT test_no_poison');
      }
    });

    it('survives the database going away and coming back, losing nothing', async () => {
      const writer = newWriter({ batchSize: 20, flushMs: 10 });
      const before = Array.from({ length: 30 }, (_, i) => record(i));
      for (const r of before) writer.enqueue(r);
      expect(await writer.flush(10_000)).toBe(true);

      await t.goAway();
      const during = Array.from({ length: 50 }, (_, i) => record(100 + i));
      for (const [i, r] of during.entries()) {
        writer.enqueue(r);
        if (i % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 15));
      }
      await waitFor(() => writer.stats().failedBatches >= 2, 10_000, 'failed retries during the outage');
      expect(writer.stats()).toMatchObject({ written: 30, pending: 50, dropped: 0 });

      await t.comeBack();
      expect(await writer.flush(20_000)).toBe(true);
      expect(writer.stats()).toMatchObject({ written: 80, pending: 0, dropped: 0, rejectedRows: 0 });
      expect((await rowsFor(t, [...before, ...during])).size).toBe(80);
    });

    it('holds at most bufferMax records while the database is away, dropping (and counting) the oldest', async () => {
      await t.goAway();
      const writer = newWriter({ bufferMax: 10, batchSize: 5, flushMs: 10 });
      const records = Array.from({ length: 25 }, (_, i) => record(i));
      for (const r of records) writer.enqueue(r);
      expect(writer.stats()).toMatchObject({ dropped: 15, pending: 10 });
      await waitFor(() => writer.stats().failedBatches >= 1, 10_000, 'a failed attempt');
      expect(writer.stats()).toMatchObject({ dropped: 15, pending: 10, written: 0 });

      await t.comeBack();
      expect(await writer.flush(20_000)).toBe(true);
      const rows = await rowsFor(t, records);
      expect([...rows.keys()].sort()).toEqual(records.slice(15).map((r) => r.turnId).sort());
      expect(writer.stats()).toMatchObject({ written: 10, dropped: 15, pending: 0 });
    });

    it('close() writes what is queued, and counts later records as dropped', async () => {
      const writer = newWriter({ batchSize: 100, flushMs: 60_000 });
      const records = Array.from({ length: 5 }, (_, i) => record(i));
      for (const r of records) writer.enqueue(r);
      expect(await writer.close(5_000)).toBe(true);
      expect((await rowsFor(t, records)).size).toBe(5);
      const late = record(9);
      writer.enqueue(late);
      expect(writer.stats()).toMatchObject({ written: 5, dropped: 1, pending: 0 });
      expect((await rowsFor(t, [late])).size).toBe(0);
    });

    it('close() gives up after its timeout while the database is away, counting the rest as dropped', async () => {
      await t.goAway();
      const writer = newWriter({ batchSize: 100, flushMs: 10 });
      for (let i = 0; i < 3; i++) writer.enqueue(record(i));
      const started = Date.now();
      expect(await writer.close(300)).toBe(false);
      expect(Date.now() - started).toBeLessThan(5_000);
      await waitFor(() => writer.stats().pending === 0, 5_000, 'in-flight batch to settle');
      expect(writer.stats()).toMatchObject({ written: 0, dropped: 3, pending: 0 });
    });

    it('stores a re-sent record once (ON CONFLICT DO NOTHING), without rejecting it', async () => {
      const writer = newWriter({ batchSize: 10, flushMs: 60_000 });
      const r = record(1);
      writer.enqueue(r);
      writer.enqueue({ ...r });
      expect(await writer.flush(10_000)).toBe(true);
      const { rows } = await execute<{ n: number }>(t.db.dataSource, 'SELECT count(*)::int AS n FROM turn_traces WHERE turn_id = $1', [r.turnId]);
      expect(rows[0]?.n).toBe(1);
      expect(writer.stats()).toMatchObject({ rejectedRows: 0, failedBatches: 0 });
    });

    it('Tracer: traced turns land in the table with their stages, intent and outcome', async () => {
      const writer = newWriter({ batchSize: 10, flushMs: 60_000 });
      const tracer = new Tracer(writer);
      let inside: unknown;
      const result = await tracer.run({ conversationId: 'conv-tracer', channelId: 'test' }, async (trace) => {
        inside = currentTrace();
        await trace.stage('nlu', () => new Promise((r) => setTimeout(r, 5)));
        trace.setIntent('run_report', 0.93);
        trace.setAttribute('batch', 2);
        return 'done';
      });
      expect(result).toBe('done');
      await expect(
        tracer.run({ conversationId: 'conv-tracer-fail' }, () => {
          throw new Error('skill exploded');
        }),
      ).rejects.toThrow('skill exploded');
      const manual = tracer.startTurn({ conversationId: 'conv-tracer-manual' });
      manual.record('receive', 1);
      manual.end('rejected');
      expect(await writer.flush(10_000)).toBe(true);

      const recent = await recentTraces(t.db.dataSource, 1000);
      const ok = recent.find((r) => r.conversationId === 'conv-tracer');
      expect(inside).toBeDefined();
      expect(ok).toMatchObject({ intent: 'run_report', confidence: 0.93, outcome: 'ok', attributes: { batch: 2 } });
      expect(ok?.stages.nlu).toBeGreaterThan(0);
      expect(recent.find((r) => r.conversationId === 'conv-tracer-fail')).toMatchObject({
        outcome: 'error',
        error: 'Error: skill exploded',
      });
      expect(recent.find((r) => r.conversationId === 'conv-tracer-manual')).toMatchObject({
        outcome: 'rejected',
        stages: { receive: 1 },
      });
    });
  });
});
