import fc from 'fast-check';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { InferencePool, registerPoolMetrics, type Executor } from '../../src/inference/pool/index.js';
import type { BatchInput, BatchOutput } from '../../src/inference/pool/protocol.js';
import { PredictionCache, predictionKey } from '../../src/inference/pool/predictionCache.js';

const COLS = 4;

/** The "model": each row's logits depend on every id and its position (and on nothing else). */
function modelRow(ids: ArrayLike<number>): Float32Array {
  const row = new Float32Array(COLS);
  let h = 2166136261;
  for (let i = 0; i < ids.length; i++) {
    h = Math.imul(h ^ (ids[i]! + 1), 16777619) >>> 0;
    h = Math.imul(h ^ i, 16777619) >>> 0;
  }
  for (let c = 0; c < COLS; c++) row[c] = ((h >>> (c * 8)) & 0xff) + ids.length;
  return row;
}

/** An executor that runs modelRow on each row and counts the rows it was asked for. */
function fakeModel() {
  const seen: number[][] = [];
  const start = (id: number): Promise<Executor> =>
    Promise.resolve({
      id,
      kind: 'remote' as const,
      provider: 'remote' as const,
      loadMs: 0,
      run(input: BatchInput): Promise<BatchOutput> {
        const rows = input.lengths.length;
        const logits = new Float32Array(rows * COLS);
        let o = 0;
        for (let r = 0; r < rows; r++) {
          const ids = Array.from(input.ids.subarray(o, o + input.lengths[r]!));
          o += input.lengths[r]!;
          seen.push(ids);
          logits.set(modelRow(ids), r * COLS);
        }
        const now = performance.timeOrigin + performance.now();
        return Promise.resolve({ logits, rows, cols: COLS, padMs: 0, inferenceMs: 0, startedAt: now, endedAt: now });
      },
      retire: () => Promise.resolve(),
      close: () => Promise.resolve(),
      debug() {},
    });
  return { seen, factory: { mode: 'remote' as const, start } };
}

async function poolWith(cacheSize: number | undefined) {
  const model = fakeModel();
  const pool = await InferencePool.create({
    modelPath: 'unused',
    padTokenId: 0,
    warmup: false,
    executorFactory: model.factory,
    ...(cacheSize !== undefined ? { predictionCacheSize: cacheSize } : {}),
  });
  return { pool, seen: model.seen };
}

describe('predictionKey', () => {
  it('is equal exactly when the ids the model reads are equal (every id, its position and the length)', () => {
    const id = fc.oneof(fc.integer({ min: 0, max: 70_000 }), fc.integer({ min: 0, max: 3 }));
    fc.assert(
      fc.property(fc.array(id, { minLength: 1, maxLength: 80 }), fc.array(id, { minLength: 1, maxLength: 80 }), (a, b) => {
        const same = a.length === b.length && a.every((v, i) => v === b[i]);
        expect(predictionKey(a) === predictionKey(b)).toBe(same);
      }),
      { numRuns: 2000 },
    );
  });

  it('tells apart inputs that differ only in the last id, only in length, or only in order', () => {
    const base = [1212, 318, 262, 3722];
    const keys = [base, [1212, 318, 262, 3723], [1212, 318, 262], [318, 1212, 262, 3722], [1212, 318, 262, 3722, 0]].map(predictionKey);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('keys ids as the pool writes them (int32): 7.0 and 7 are one input', () => {
    expect(predictionKey([7.0, 70_000])).toBe(predictionKey([7, 70_000]));
    expect(predictionKey([7, 8])).not.toBe(predictionKey([7, 70_000]));
    // ids past 16 bits are not folded onto small ones
    expect(predictionKey([7])).not.toBe(predictionKey([7 + 65_536]));
    expect(predictionKey([3, 7])).not.toBe(predictionKey([3, 7 + 65_536]));
  });
});

describe('PredictionCache', () => {
  it('keeps at most `capacity` entries and drops the least recently used', () => {
    const c = new PredictionCache(2);
    const row = (v: number) => new Float32Array([v]);
    c.set('a', row(1));
    c.set('b', row(2));
    expect(c.get('a')?.[0]).toBe(1); // a is now the most recent
    c.set('c', row(3)); // evicts b
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')?.[0]).toBe(1);
    expect(c.get('c')?.[0]).toBe(3);
    expect(c.stats()).toEqual({ capacity: 2, size: 2, hits: 3, misses: 1 });
  });
});

describe('InferencePool prediction cache', () => {
  it('answers a repeated input without a model run, with the same logits', async () => {
    const { pool, seen } = await poolWith(16);
    try {
      const first = await pool.run([[10, 20, 30]]);
      const again = await pool.run([[10, 20, 30]]);
      expect(seen).toHaveLength(1);
      expect(Array.from(again.logits[0]!)).toEqual(Array.from(first.logits[0]!));
      expect(Array.from(again.logits[0]!)).toEqual(Array.from(modelRow([10, 20, 30])));
      expect(again.timings.inferenceMs).toBe(0);
      expect(pool.stats().cache).toEqual({ capacity: 16, size: 1, hits: 1, misses: 1 });
      expect(pool.stats().requests.ok).toBe(1); // hits are not model requests
    } finally {
      await pool.close();
    }
  });

  it('never answers an input with another one’s logits: same prefix, other last id, other length', async () => {
    const { pool, seen } = await poolWith(16);
    try {
      const inputs = [[5, 6, 7], [5, 6, 8], [5, 6], [6, 5, 7], [5, 6, 7, 7]];
      for (const ids of inputs) {
        const out = await pool.run([ids]);
        expect(Array.from(out.logits[0]!), ids.join(',')).toEqual(Array.from(modelRow(ids)));
      }
      expect(seen).toHaveLength(inputs.length);
      expect(pool.stats().cache.hits).toBe(0);
    } finally {
      await pool.close();
    }
  });

  it('a caller changing its logits does not change what the cache answers next', async () => {
    const { pool } = await poolWith(16);
    try {
      (await pool.run([[1, 2]])).logits[0]!.fill(-1);
      (await pool.run([[1, 2]])).logits[0]!.fill(-2);
      expect(Array.from((await pool.run([[1, 2]])).logits[0]!)).toEqual(Array.from(modelRow([1, 2])));
    } finally {
      await pool.close();
    }
  });

  it('several sequences in one call: hits from the cache, only the rest go to the model, order kept', async () => {
    const { pool, seen } = await poolWith(16);
    try {
      await pool.run([[1], [2, 2]]);
      seen.length = 0;
      const inputs = [[3, 3, 3], [1], [4], [2, 2]];
      const out = await pool.run(inputs);
      expect(seen.map((s) => s.join(',')).sort()).toEqual(['3,3,3', '4']);
      out.logits.forEach((row, i) => expect(Array.from(row)).toEqual(Array.from(modelRow(inputs[i]!))));
      expect(pool.stats().cache).toMatchObject({ hits: 2, misses: 4 });
      // all hits: nothing reaches the model
      seen.length = 0;
      const again = await pool.run([[4], [1]]);
      expect(seen).toHaveLength(0);
      expect(Array.from(again.logits[1]!)).toEqual(Array.from(modelRow([1])));
    } finally {
      await pool.close();
    }
  });

  it('is bounded (LRU) in the pool too', async () => {
    const { pool, seen } = await poolWith(2);
    try {
      for (const ids of [[1], [2], [1], [3]]) await pool.run([ids]); // [2] is evicted by [3]
      seen.length = 0;
      await pool.run([[1]]);
      await pool.run([[2]]);
      expect(seen).toEqual([[2]]);
      expect(pool.stats().cache.size).toBe(2);
    } finally {
      await pool.close();
    }
  });

  it('is off by default and with size 0: every request runs the model', async () => {
    for (const size of [undefined, 0]) {
      const { pool, seen } = await poolWith(size);
      try {
        for (let i = 0; i < 3; i++) await pool.run([[9, 9]]);
        expect(seen).toHaveLength(3);
        expect(pool.stats().cache).toEqual({ capacity: 0, size: 0, hits: 0, misses: 0 });
      } finally {
        await pool.close();
      }
    }
  });

  it('counts hits and misses in /metrics', async () => {
    const { pool } = await poolWith(8);
    const registry = new Registry();
    registerPoolMetrics(registry, pool);
    try {
      for (const ids of [[1], [1], [2], [1]]) await pool.run([ids]);
      const text = await registry.metrics();
      expect(text).toContain('rpa_inference_cache_lookups_total{result="hit"} 2');
      expect(text).toContain('rpa_inference_cache_lookups_total{result="miss"} 2');
      expect(text).toContain('rpa_inference_cache_entries 2');
    } finally {
      await pool.close();
    }
  });
});
