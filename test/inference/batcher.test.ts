import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { OnnxClassifierSession } from '../../src/inference/onnxSession.js';
import { InferencePool, takeBatch, type BatchLimits } from '../../src/inference/pool/index.js';

/** Batch formation with `maxPassOver` (like lengths from a deep queue) and its no-starvation rule. */

interface Req {
  len: number;
  i: number;
  passedOver?: number;
}
const items = (...lens: number[]): Req[] => lens.map((len, i) => ({ len, i }));

describe('takeBatch with maxPassOver', () => {
  const limits: BatchLimits = { maxBatchSize: 4, maxBatchTokens: 1000, minFill: 0.5, maxPassOver: 3 };

  it('cuts a deep queue into a batch of like lengths instead of one around the oldest request', () => {
    const pending = items(10, 3, 12, 3, 7, 3, 10, 3, 9);
    const batch = takeBatch(pending, limits);
    expect(batch.map((b) => b.i)).toEqual([1, 3, 5, 7]); // the four 3s, in arrival order, no padding
    expect(pending.map((p) => p.i)).toEqual([0, 2, 4, 6, 8]);
    // without it, the oldest (10) anchors: 10, 10, 9, 12 → 7 padding tokens
    const plain = takeBatch(items(10, 3, 12, 3, 7, 3, 10, 3, 9), { ...limits, maxPassOver: 0 });
    expect(plain.map((b) => b.i)).toEqual([0, 2, 6, 8]);
  });

  it('takes the oldest of equal lengths, and among windows that pad alike the one with the oldest request', () => {
    const pending = items(5, 9, 5, 9, 5, 9, 5, 9, 5, 9);
    expect(takeBatch(pending, limits).map((b) => b.i)).toEqual([0, 2, 4, 6]);
    const again = items(9, 5, 9, 5, 9, 5, 9, 5, 9, 5);
    expect(takeBatch(again, limits).map((b) => b.i)).toEqual([0, 2, 4, 6]);
  });

  it('builds the batch around the oldest request once it has been passed over maxPassOver times', () => {
    const pending = items(20, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4);
    const taken: number[][] = [];
    for (let k = 0; k < 4; k++) taken.push(takeBatch(pending, limits).map((b) => b.i));
    expect(taken.slice(0, 3).every((b) => !b.includes(0))).toBe(true);
    expect(taken[3]).toContain(0);
  });

  it('keeps every request exactly once, within the limits, and serves the oldest within maxPassOver + 1 batches (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }), // maxPassOver
        fc.integer({ min: 2, max: 8 }), // maxBatchSize
        fc.array(fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 12 }), { minLength: 1, maxLength: 60 }), // arrivals per step
        fc.constantFrom(0, 0.5, 0.9),
        (maxPassOver, maxBatchSize, arrivals, minFill) => {
          const lim: BatchLimits = { maxBatchSize, maxBatchTokens: maxBatchSize * 32, minFill, maxPassOver };
          const pending: Req[] = [];
          let next = 0;
          const seen = new Set<number>();
          /** The request that is oldest now, and the batches formed since it became the oldest. */
          let head: Req | undefined;
          let batchesAsHead = 0;
          const step = (lens: readonly number[]): void => {
            for (const len of lens) pending.push({ len, i: next++ });
            if (pending[0] !== head) [head, batchesAsHead] = [pending[0], 0];
            const batch = takeBatch(pending, lim);
            if (pending.length + batch.length > 0) expect(batch.length).toBeGreaterThan(0);
            expect(batch.length).toBeLessThanOrEqual(maxBatchSize);
            if (batch.length > 1) expect(batch.length * Math.max(...batch.map((b) => b.len))).toBeLessThanOrEqual(lim.maxBatchTokens);
            for (let j = 1; j < batch.length; j++) expect(batch[j]!.i).toBeGreaterThan(batch[j - 1]!.i); // arrival order
            for (const b of batch) {
              expect(seen.has(b.i)).toBe(false);
              seen.add(b.i);
            }
            if (head) {
              batchesAsHead++;
              if (!batch.includes(head)) expect(batchesAsHead).toBeLessThanOrEqual(maxPassOver);
            }
          };
          for (const lens of arrivals) step(lens);
          while (pending.length > 0) step([]);
          expect(seen.size).toBe(next);
        },
      ),
      { numRuns: 300 },
    );
  });
});

const FIXTURE = 'test/fixtures/tiny-gpt2';
const MODEL = `${FIXTURE}/model.onnx`;
const PAD = 50256;

describe('InferencePool with maxPassOver (fixture model, real worker threads)', () => {
  // 48 requests of mixed lengths at once: a deep queue behind one session. The oldest is long
  // (20); four of the others have length 6, so a batch of 4 with no padding can be formed.
  const lens = [20, 6, 11, 3, 15, 6, 9, 6, 13, 6, ...Array.from({ length: 38 }, (_, i) => 1 + ((i * 37 + 11) % 23))];
  const seqs = lens.map((n, r) => Array.from({ length: n }, (_, j) => (r * 131 + j * 17) % 5000));
  let alone: Float32Array[];
  beforeAll(async () => {
    const session = await OnnxClassifierSession.load(MODEL, { padTokenId: PAD, intraOpNumThreads: 1 });
    alone = [];
    for (const s of seqs) alone.push((await session.run([s])).logits[0]!);
    await session.close();
  });

  const runAll = async (maxPassOver: number) => {
    const pool = await InferencePool.create({
      modelPath: MODEL,
      padTokenId: PAD,
      sessions: 1,
      intraOpNumThreads: 1,
      maxBatchSize: 4,
      minFill: 0,
      maxPassOver,
      warmup: false,
      timeoutMs: 120_000,
    });
    // One session: batches are answered in the order they were formed.
    const batches: { size: number; seqLen: number; realTokens: number }[] = [];
    pool.addObserver({ batch: (e) => void batches.push({ size: e.size, seqLen: e.seqLen, realTokens: e.realTokens }) });
    try {
      const out = await Promise.all(seqs.map((s) => pool.run([s])));
      return { out, batches, stats: pool.stats() };
    } finally {
      await pool.close();
    }
  };
  it('answers every request with its logits alone, bit for bit, and forms its first batch from like lengths', async () => {
    const plain = await runAll(0);
    const grouped = await runAll(4);
    for (const r of [plain, grouped]) {
      expect(r.stats.requests.ok).toBe(seqs.length);
      r.out.forEach((res, k) => expect(res.logits[0]!.every((v, j) => Object.is(v, alone[k]![j]))).toBe(true));
    }
    expect(grouped.stats.config.maxPassOver).toBe(4);
    expect(plain.stats.config.maxPassOver).toBeUndefined();
    // without it the first batch is built around the oldest request (20 tokens); with it, the four 6s
    expect(plain.batches[0]!.seqLen).toBeGreaterThanOrEqual(20);
    expect(grouped.batches[0]).toEqual({ size: 4, seqLen: 6, realTokens: 24 });
    expect(grouped.batches.reduce((a, b) => a + b.size, 0)).toBe(seqs.length);
  });

  it('rejects a maxPassOver that is not a non-negative integer', async () => {
    for (const bad of [-1, 1.5, Number.NaN]) {
      await expect(InferencePool.create({ modelPath: MODEL, padTokenId: PAD, maxPassOver: bad, warmup: false })).rejects.toThrow(/maxPassOver/);
    }
  });
});
