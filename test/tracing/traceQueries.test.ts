import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recentTraces, traceSummary, type Percentiles } from '../../src/tracing/traceQueries.js';
import { TraceWriter } from '../../src/tracing/traceWriter.js';
import type { TraceRecord } from '../../src/tracing/turnTrace.js';
import { databaseTargets, type TestDatabase } from '../helpers/databases.js';

const targets = await databaseTargets();

/** percentile_cont: linear interpolation between the two closest ranks of the sorted values. */
function percentileCont(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * p;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

function expected(values: number[]): Percentiles {
  return { p50: percentileCont(values, 0.5), p95: percentileCont(values, 0.95), p99: percentileCont(values, 0.99) };
}

function expectClose(actual: Percentiles | null | undefined, wanted: Percentiles): void {
  expect(actual).not.toBeNull();
  expect(actual!.p50).toBeCloseTo(wanted.p50, 9);
  expect(actual!.p95).toBeCloseTo(wanted.p95, 9);
  expect(actual!.p99).toBeCloseTo(wanted.p99, 9);
}

/** Deterministic pseudo-random numbers (so a failure reproduces). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe.each(targets)('trace queries on $name', (target) => {
  describe.skipIf(target.skip)('queries', () => {
    let t: TestDatabase;
    const now = new Date('2026-03-01T12:00:00.000Z');
    const windowMs = 60 * 60 * 1000;
    const inWindow: TraceRecord[] = [];
    const outside: TraceRecord[] = [];

    beforeAll(async () => {
      t = await target.create();
      const rand = lcg(42);
      const intents = ['run_report', 'check_status', 'cancel_job', undefined];
      for (let i = 0; i < 137; i++) {
        const stages: Record<string, number> = { receive: rand() * 2, nlu: 5 + rand() * 40 };
        if (i % 3 === 0) stages.skill = 100 + rand() * 900;
        inWindow.push({
          turnId: randomUUID(),
          conversationId: `conv-${i % 7}`,
          startedAt: new Date(now.getTime() - Math.floor(rand() * (windowMs - 1000))),
          totalMs: 20 + rand() * 500 + (i % 11 === 0 ? 3000 : 0),
          stages,
          intent: intents[i % 5 === 0 ? 3 : i % 3],
          confidence: rand(),
          attributes: {},
          outcome: 'ok',
        });
      }
      for (let i = 0; i < 9; i++) {
        outside.push({
          turnId: randomUUID(),
          startedAt: new Date(now.getTime() - windowMs - 1000 - i * 60_000),
          totalMs: 1e6,
          stages: { nlu: 1e6, old_stage: 1 },
          intent: 'run_report',
          attributes: {},
          outcome: 'ok',
        });
      }
      const writer = new TraceWriter(t.db.dataSource, { batchSize: 50, flushMs: 10 });
      for (const r of [...inWindow, ...outside]) writer.enqueue(r);
      expect(await writer.close(20_000)).toBe(true);
    });
    afterAll(() => t?.dispose());

    it('summarises count and total-time percentiles over the window only', async () => {
      const summary = await traceSummary(t.db.dataSource, windowMs, { now });
      expect(summary.count).toBe(inWindow.length);
      expect(summary.windowMs).toBe(windowMs);
      expect(summary.since.getTime()).toBe(now.getTime() - windowMs);
      expectClose(summary.total, expected(inWindow.map((r) => r.totalMs)));
    });

    it('gives per-stage counts and percentiles over the turns that ran the stage', async () => {
      const summary = await traceSummary(t.db.dataSource, windowMs, { now });
      expect(Object.keys(summary.stages).sort()).toEqual(['nlu', 'receive', 'skill']);
      for (const stage of ['receive', 'nlu', 'skill']) {
        const values = inWindow.flatMap((r) => (r.stages[stage] === undefined ? [] : [r.stages[stage]!]));
        expect(summary.stages[stage]?.count).toBe(values.length);
        expectClose(summary.stages[stage], expected(values));
      }
    });

    it('gives per-intent counts and total-time percentiles, most frequent first', async () => {
      const summary = await traceSummary(t.db.dataSource, windowMs, { now });
      const groups = new Map<string | null, number[]>();
      for (const r of inWindow) {
        const key = r.intent ?? null;
        groups.set(key, [...(groups.get(key) ?? []), r.totalMs]);
      }
      expect(summary.intents).toHaveLength(groups.size);
      for (const entry of summary.intents) {
        const values = groups.get(entry.intent)!;
        expect(entry.count).toBe(values.length);
        expectClose(entry, expected(values));
      }
      const counts = summary.intents.map((e) => e.count);
      expect(counts).toEqual([...counts].sort((a, b) => b - a));
      expect(summary.intents.some((e) => e.intent === null)).toBe(true);
    });

    it('an empty window has count 0 and no percentiles', async () => {
      const summary = await traceSummary(t.db.dataSource, 1000, { now: new Date('2000-01-01T00:00:00Z') });
      expect(summary).toMatchObject({ count: 0, total: null, stages: {}, intents: [] });
    });

    it('rejects a window that is not a positive number', async () => {
      await expect(traceSummary(t.db.dataSource, 0)).rejects.toThrow(RangeError);
      await expect(traceSummary(t.db.dataSource, Number.NaN)).rejects.toThrow(RangeError);
    });

    it('recentTraces returns the newest turns first, as TraceRecords', async () => {
      const recent = await recentTraces(t.db.dataSource, 5);
      const newest = [...inWindow].sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime()).slice(0, 5);
      expect(recent.map((r) => r.turnId)).toEqual(newest.map((r) => r.turnId));
      const first = recent[0]!;
      const source = newest[0]!;
      expect(first.startedAt).toBeInstanceOf(Date);
      expect(first.startedAt.getTime()).toBe(source.startedAt.getTime());
      expect(first).toMatchObject({
        conversationId: source.conversationId,
        totalMs: source.totalMs,
        stages: source.stages,
        outcome: 'ok',
      });
      expect(first.intent).toBe(source.intent);
      expect(first.channelId).toBeUndefined(); // NULL comes back as absent, like a TraceRecord
    });

    it('recentTraces clamps its limit', async () => {
      expect(await recentTraces(t.db.dataSource, 0)).toHaveLength(1);
      expect(await recentTraces(t.db.dataSource, 10_000)).toHaveLength(inWindow.length + outside.length);
    });
  });
});
