/**
 * The rollups' histogram and window planning without a database (src/tracing/rollups.ts): every
 * duration's bucket representative is within HISTOGRAM_RELATIVE_ERROR of it; percentiles from a
 * histogram stay within that bound of percentile_cont on generated data; a window splits into raw
 * head, rollup middle and raw tail with no gap and no overlap.
 */
import { describe, expect, it } from 'vitest';
import {
  HISTOGRAM_HIGHEST_MS,
  HISTOGRAM_LOWEST_MS,
  HISTOGRAM_OVERFLOW,
  HISTOGRAM_RELATIVE_ERROR,
  addToHistogram,
  bucketOf,
  percentilesFromHistogram,
  planSegments,
  representative,
  type Histogram,
} from '../../src/tracing/rollups.js';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function percentileCont(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

describe('latency histogram', () => {
  it('states its bound: ≈ 4.3 % relative error', () => {
    expect(HISTOGRAM_RELATIVE_ERROR).toBeGreaterThan(0.043);
    expect(HISTOGRAM_RELATIVE_ERROR).toBeLessThan(0.0434);
  });

  it('every duration from 0.01 ms to 3 h is within the bound of its bucket representative', () => {
    const rand = lcg(7);
    for (let i = 0; i < 20_000; i++) {
      const v = HISTOGRAM_LOWEST_MS * Math.exp(rand() * Math.log(HISTOGRAM_HIGHEST_MS / HISTOGRAM_LOWEST_MS));
      const rep = representative(bucketOf(v));
      expect(Math.abs(rep - v)).toBeLessThanOrEqual(HISTOGRAM_RELATIVE_ERROR * v * (1 + 1e-12));
    }
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(-1)).toBe(0);
    expect(bucketOf(HISTOGRAM_HIGHEST_MS * 10)).toBe(HISTOGRAM_OVERFLOW);
    expect(bucketOf(HISTOGRAM_LOWEST_MS)).toBe(1);
  });

  it('p50/p95/p99 from the histogram are within the bound of percentile_cont on generated latencies', () => {
    const rand = lcg(42);
    for (const n of [1, 2, 3, 10, 101, 1000, 25_000]) {
      // Log-normal-ish turn times with a slow tail, 0.2 ms … minutes.
      const values = Array.from({ length: n }, () => Math.max(0.2, Math.exp(3 + 1.2 * (rand() + rand() + rand() - 1.5) * 2) * (rand() < 0.02 ? 50 : 1)));
      const hist: Histogram = new Map();
      for (const v of values) addToHistogram(hist, bucketOf(v), 1);
      const sorted = [...values].sort((a, b) => a - b);
      const estimated = percentilesFromHistogram(hist)!;
      [0.5, 0.95, 0.99].forEach((q, i) => {
        const exact = percentileCont(sorted, q);
        expect(Math.abs(estimated[i]! - exact), `n=${n} q=${q}`).toBeLessThanOrEqual(HISTOGRAM_RELATIVE_ERROR * exact * (1 + 1e-9));
      });
    }
    expect(percentilesFromHistogram(new Map())).toBeNull();
  });
});

describe('planSegments', () => {
  const t = (hhmmss: string) => new Date(`2030-01-01T${hhmmss}Z`);

  it('no watermark: the whole window is raw', () => {
    expect(planSegments(t('10:00:30'), t('12:00:00'), null, { hours: true })).toEqual([
      { source: 'raw', from: t('10:00:30'), to: t('12:00:00'), toInclusive: true },
    ]);
  });

  it('raw head to the first whole minute, minutes, whole hours, minutes, raw tail from the watermark', () => {
    const segments = planSegments(t('09:58:30'), t('12:30:10'), t('12:05:00'), { hours: true });
    expect(segments.map((s) => [s.source, s.from.toISOString().slice(11, 19), s.to.toISOString().slice(11, 19), s.toInclusive])).toEqual([
      ['raw', '09:58:30', '09:59:00', false],
      ['minute', '09:59:00', '10:00:00', false],
      ['hour', '10:00:00', '12:00:00', false],
      ['minute', '12:00:00', '12:05:00', false],
      ['raw', '12:05:00', '12:30:10', true],
    ]);
    // Without hours (chart buckets smaller than an hour), minutes all the way.
    expect(planSegments(t('09:58:30'), t('12:30:10'), t('12:05:00'), { hours: false }).map((s) => s.source)).toEqual(['raw', 'minute', 'raw']);
  });

  it('an exclusive end (the previous window) stops the rollups at the end’s minute and the tail before it', () => {
    const segments = planSegments(t('10:00:00'), t('11:00:30'), t('12:00:00'), { hours: true, toInclusive: false });
    expect(segments.map((s) => [s.source, s.from.toISOString().slice(11, 19), s.to.toISOString().slice(11, 19), s.toInclusive])).toEqual([
      ['hour', '10:00:00', '11:00:00', false],
      ['raw', '11:00:00', '11:00:30', false],
    ]);
    // Ending exactly on a minute: no empty tail, the minute itself is not read.
    expect(planSegments(t('10:00:00'), t('11:00:00'), t('12:00:00'), { hours: true, toInclusive: false }).map((s) => s.source)).toEqual(['hour']);
    // Inclusive end on a whole minute: a raw tail for that one instant.
    expect(planSegments(t('10:00:00'), t('11:00:00'), t('12:00:00'), { hours: true }).at(-1)).toEqual({
      source: 'raw',
      from: t('11:00:00'),
      to: t('11:00:00'),
      toInclusive: true,
    });
  });

  it('segments tile the window: each starts where the previous ended', () => {
    const rand = lcg(3);
    for (let i = 0; i < 500; i++) {
      const from = Date.UTC(2030, 0, 1) + Math.floor(rand() * 86_400_000);
      const to = from + Math.floor(rand() * 3 * 86_400_000);
      const mark = from + Math.floor((rand() * 1.2 - 0.1) * (to - from));
      const segments = planSegments(new Date(from), new Date(to), new Date(mark), { hours: rand() < 0.5 });
      expect(segments[0]!.from.getTime()).toBe(from);
      expect(segments.at(-1)!.to.getTime()).toBe(to);
      for (let k = 1; k < segments.length; k++) expect(segments[k]!.from.getTime()).toBe(segments[k - 1]!.to.getTime());
      for (const s of segments) if (s.source !== 'raw') expect(s.to.getTime()).toBeLessThanOrEqual(mark);
    }
  });
});
