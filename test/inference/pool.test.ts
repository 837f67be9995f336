import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnnxClassifierSession } from '../../src/inference/onnxSession.js';
import { GptTokenizer } from '../../src/inference/tokenizer.js';
import {
  BusyError,
  InferencePool,
  InferenceTimeoutError,
  WorkerCrashedError,
  createModelPool,
  isBusyError,
  takeBatch,
  type BatchEvent,
  type InferencePoolOptions,
  type PoolLogger,
} from '../../src/inference/pool/index.js';
import { loadNlu } from '../../src/nlu/NluPipeline.js';
import { TurnTrace, runWithTrace } from '../../src/tracing/turnTrace.js';

const FIXTURE = 'test/fixtures/tiny-gpt2';
const MODEL = `${FIXTURE}/model.onnx`;
const PAD = 50256;

const TEXTS = [
  'hi',
  'raise a PO for 200 steel bearings from Globex',
  'what is the status of PO-10452',
  'move 40 boxes of gloves from WH-A to Rotterdam tomorrow',
  'thanks!',
  'what is the weather in paris',
  'how many SKU-1001 do we have in WH-B right now, and how many are reserved for open orders?',
  'cancel order 7',
  '日本語のテキスト 😀',
  'file a customs declaration for shipment SH-2001 arriving at the port of Hamburg next week',
  'help',
  'approve PO-1003',
];

/** Small pools for tests: one ORT thread per session, no warm-up beyond the defaults. */
const base = (extra: Partial<InferencePoolOptions> = {}): InferencePoolOptions => ({
  modelPath: MODEL,
  padTokenId: PAD,
  sessions: 1,
  intraOpNumThreads: 1,
  warmup: { seqLens: [8] },
  maxBatchSize: 8,
  ...extra,
});

const same = (a: Float32Array, b: Float32Array): boolean => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

let seqs: number[][];
/** Logits of each sequence run alone (batch of one) on a plain session. */
let alone: Float32Array[];

beforeAll(async () => {
  const tok = await GptTokenizer.fromDir(FIXTURE, { maxLength: 32, padTokenId: PAD });
  seqs = TEXTS.map((t) => tok.encode(t));
  const session = await OnnxClassifierSession.load(MODEL, { padTokenId: PAD, intraOpNumThreads: 1 });
  alone = [];
  for (const s of seqs) alone.push((await session.run([s])).logits[0]!);
  await session.close();
  expect(new Set(seqs.map((s) => s.length)).size).toBeGreaterThan(5); // lengths really differ
});

describe('takeBatch', () => {
  const items = (...lens: number[]) => lens.map((len, i) => ({ len, i }));
  const limits = { maxBatchSize: 4, maxBatchTokens: 1000, minFill: 0.5 };

  it('always takes the oldest request, then the closest lengths, and keeps arrival order', () => {
    const pending = items(10, 3, 11, 30, 9, 12, 10);
    const batch = takeBatch(pending, limits);
    expect(batch.map((b) => b.i)).toEqual([0, 2, 4, 6]);
    expect(pending.map((p) => p.i)).toEqual([1, 3, 5]);
  });

  it('keeps short messages out of a batch padded for a long one (minFill)', () => {
    const pending = items(2, 30, 2, 2);
    expect(takeBatch(pending, limits).map((b) => b.len)).toEqual([2, 2, 2]);
    expect(takeBatch(pending, limits).map((b) => b.len)).toEqual([30]);
  });

  it('respects the token budget and the batch size', () => {
    expect(takeBatch(items(10, 10, 10, 10, 10), { ...limits, maxBatchTokens: 25 })).toHaveLength(2);
    expect(takeBatch(items(1, 1, 1, 1, 1, 1), limits)).toHaveLength(4);
    expect(takeBatch([], limits)).toEqual([]);
  });
});

describe.each([
  { mode: 'worker threads', workers: true },
  { mode: 'main-thread sessions', workers: false },
])('InferencePool with $mode (fixture model, real onnxruntime)', ({ workers }) => {
  let pool: InferencePool;
  beforeAll(async () => {
    // maxDelayMs makes concurrent requests wait for each other, so batches really form.
    pool = await InferencePool.create(base({ workers, sessions: 2, maxDelayMs: 20, maxBatchSize: 16, minFill: 0 }));
  });
  afterAll(() => pool?.close());

  it('is ready after warm-up and reports its provider', () => {
    expect(pool.ready).toBe(true);
    expect(pool.provider).toBe('cpu');
    expect(pool.stats()).toMatchObject({ mode: workers ? 'worker' : 'thread', sessions: { configured: 2, alive: 2 } });
  });

  it('gives every request, batched with others of other lengths, the logits it gets alone (bit-identical)', async () => {
    const before = pool.stats();
    const order = [...seqs.keys(), ...seqs.keys(), ...seqs.keys()].reverse();
    const results = await Promise.all(order.map((i) => pool.run([seqs[i]!])));
    results.forEach((r, k) => {
      expect(r.logits).toHaveLength(1);
      expect(same(r.logits[0]!, alone[order[k]!]!)).toBe(true);
    });
    const after = pool.stats();
    const batches = after.batches - before.batches;
    expect(after.requests.ok - before.requests.ok).toBe(order.length);
    // they rode in shared batches (fewer batches than requests)
    expect(batches).toBeLessThan(order.length);
  });

  it('returns the rows of a multi-sequence request in input order', async () => {
    const r = await pool.run(seqs);
    expect(r.batchSize).toBe(seqs.length);
    r.logits.forEach((row, i) => expect(same(row, alone[i]!)).toBe(true));
  });

  it('records queue_wait and the batch size in the caller’s turn trace', async () => {
    const trace = new TurnTrace({});
    await runWithTrace(trace, () => pool.run([seqs[1]!]));
    const record = trace.end();
    expect(record.stages.queue_wait).toBeGreaterThanOrEqual(0);
    expect(record.attributes.batch_size).toBeGreaterThanOrEqual(1);
  });
});

const REAL = 'models/intent-gpt2';

describe.skipIf(!existsSync(`${REAL}/model.onnx`))('real model (models/intent-gpt2): batched = alone, bit for bit', () => {
  it('gives each of 300 utterances, batched with others of mixed lengths, its logits alone', async () => {
    const { readFileSync } = await import('node:fs');
    const { readModelDir } = await import('../../src/inference/modelDir.js');
    const info = await readModelDir(REAL);
    const pad = info.padTokenId ?? PAD;
    const tok = await GptTokenizer.fromDir(REAL, { maxLength: info.maxLength ?? info.nPositions ?? 64, padTokenId: pad });
    const texts = readFileSync('training/splits/test.jsonl', 'utf8')
      .split('\n')
      .filter(Boolean)
      .slice(0, 300)
      .map((l) => (JSON.parse(l) as { text: string }).text);
    const ids = texts.map((t) => tok.encode(t)).filter((s) => s.length > 0);
    const session = await OnnxClassifierSession.load(info.modelPath, { padTokenId: pad, intraOpNumThreads: 1 });
    const single: Float32Array[] = [];
    for (const s of ids) single.push((await session.run([s])).logits[0]!);
    await session.close();
    // No deadline here: this test is about the logits, and a loaded CI box can take over 2 s for 300 rows.
    const pool = await createModelPool(REAL, { sessions: 2, intraOpNumThreads: 1, maxDelayMs: 5, maxBatchSize: 32, minFill: 0, queueMax: 1000, timeoutMs: 120_000 });
    try {
      const out = await Promise.all(ids.map((s) => pool.run([s])));
      const differing = out.filter((r, i) => !same(r.logits[0]!, single[i]!)).length;
      expect(differing).toBe(0);
      expect(pool.stats().meanBatchSize).toBeGreaterThan(2);
    } finally {
      await pool.close();
    }
  }, 120_000);
});

describe('InferencePool behind the NLU pipeline', () => {
  it('serves loadNlu and matches the plain session’s results', async () => {
    const pool = await createModelPool(FIXTURE, { sessions: 1, intraOpNumThreads: 1, maxDelayMs: 5 });
    const plain = await loadNlu(FIXTURE);
    const pooled = await loadNlu(FIXTURE, { runner: pool });
    try {
      expect(pooled.info().provider).toBe('cpu');
      const trace = new TurnTrace({});
      const results = await runWithTrace(trace, () => Promise.all(TEXTS.map((t) => pooled.recognize(t))));
      const expected = await Promise.all(TEXTS.map((t) => plain.recognize(t)));
      expect(results.map((r) => [r.intent, r.confidence])).toEqual(expected.map((r) => [r.intent, r.confidence]));
      const record = trace.end();
      for (const stage of ['tokenize', 'queue_wait', 'result_wait', 'inference']) expect(record.stages[stage]).toBeGreaterThanOrEqual(0);
      expect(record.attributes.batch_size).toBeGreaterThanOrEqual(1);
    } finally {
      await pooled.close(); // closes the pool (its runner)
      await plain.close();
    }
    expect(pool.ready).toBe(false);
  });
});

describe('backpressure', () => {
  it('refuses at once with BusyError past the queue bound, and recovers', async () => {
    // A long maxDelayMs holds requests in the queue (the batch is not full) so the bound is reached deterministically.
    const pool = await InferencePool.create(base({ queueMax: 4, maxBatchSize: 8, maxDelayMs: 300 }));
    try {
      const queued = [0, 1, 2, 3].map((i) => pool.run([seqs[i]!]));
      expect(pool.stats().queueDepth).toBe(4);
      const t0 = performance.now();
      const err = await pool.run([seqs[4]!]).catch((e: unknown) => e);
      expect(performance.now() - t0).toBeLessThan(250); // refused without waiting for the batch
      expect(err).toBeInstanceOf(BusyError);
      expect(isBusyError(err)).toBe(true);
      expect((err as BusyError).reason).toBe('queue_full');
      // a request larger than what is left of the queue is refused too
      await expect(pool.run([seqs[0]!, seqs[1]!])).rejects.toBeInstanceOf(BusyError);

      const results = await Promise.all(queued);
      results.forEach((r, i) => expect(same(r.logits[0]!, alone[i]!)).toBe(true));
      expect(pool.stats().queueDepth).toBe(0);
      const again = await pool.run([seqs[4]!]);
      expect(same(again.logits[0]!, alone[4]!)).toBe(true);
      expect(pool.stats().requests).toMatchObject({ ok: 5, busy: 2 });
    } finally {
      await pool.close();
    }
  });

  it('fails a request that is not answered in time with InferenceTimeoutError (a busy error), never hangs', async () => {
    const pool = await InferencePool.create(base({ timeoutMs: 100, hangMs: 300 }));
    try {
      pool.debugSession(0, 'hang_on_next_run');
      const err = await pool.run([seqs[0]!]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InferenceTimeoutError);
      expect(isBusyError(err)).toBe(true);
      // the hung worker is retired by the watchdog (never terminated: it is still blocked) and replaced
      await waitFor(() => pool.stats().restarts === 1 && pool.ready);
      expect(pool.stats().sessions).toMatchObject({ alive: 1, retired: 1 });
      const r = await pool.run([seqs[0]!]);
      expect(same(r.logits[0]!, alone[0]!)).toBe(true);
      expect(pool.stats().requests.timeout).toBe(1);
    } finally {
      await pool.close(200); // the blocked thread is left behind (unref'd), not terminated
    }
  });
});

describe('faults', () => {
  it('replaces a worker that crashes mid-batch and retries its requests once', async () => {
    const warnings: string[] = [];
    const logger: PoolLogger = { info() {}, warn: (_o, msg) => warnings.push(msg ?? ''), error() {} };
    const pool = await InferencePool.create(base({ logger }));
    try {
      pool.debugSession(0, 'crash_on_next_run');
      const results = await Promise.all(seqs.slice(0, 6).map((s) => pool.run([s])));
      results.forEach((r, i) => expect(same(r.logits[0]!, alone[i]!)).toBe(true));
      const stats = pool.stats();
      expect(stats.restarts).toBe(1);
      expect(stats.sessions.alive).toBe(1);
      expect(stats.requests.error).toBe(0);
      expect(warnings.some((w) => /died/.test(w))).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it('with retry off, fails the in-flight requests with a clear error; later requests are served', async () => {
    const pool = await InferencePool.create(base({ retryOnCrash: false }));
    try {
      pool.debugSession(0, 'crash_on_next_run');
      const settled = await Promise.allSettled(seqs.slice(0, 3).map((s) => pool.run([s])));
      for (const s of settled) {
        expect(s.status).toBe('rejected');
        expect((s as PromiseRejectedResult).reason).toBeInstanceOf(WorkerCrashedError);
        expect(String((s as PromiseRejectedResult).reason)).toMatch(/inference worker crashed/);
      }
      const r = await pool.run([seqs[2]!]);
      expect(same(r.logits[0]!, alone[2]!)).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it('a killed (retired) worker is replaced; requests sent meanwhile are served, none hang', async () => {
    const pool = await InferencePool.create(base({ sessions: 2 }));
    try {
      const during = Promise.allSettled(seqs.map((s) => pool.run([s])));
      await pool.killSession(0);
      const outcomes = await during;
      outcomes.forEach((o, i) => {
        expect(o.status).toBe('fulfilled');
        if (o.status === 'fulfilled') expect(same(o.value.logits[0]!, alone[i]!)).toBe(true);
      });
      await waitFor(() => pool.stats().sessions.alive === 2);
      expect(pool.stats().restarts).toBe(1);
      const r = await Promise.all(seqs.map((s) => pool.run([s])));
      r.forEach((x, i) => expect(same(x.logits[0]!, alone[i]!)).toBe(true));
    } finally {
      await pool.close();
    }
  });

  it('close() fails waiting requests instead of leaving them hanging', async () => {
    const pool = await InferencePool.create(base({ maxDelayMs: 10_000 }));
    const waiting = pool.run([seqs[0]!]).catch((e: unknown) => e);
    await pool.close();
    expect(String(await waiting)).toMatch(/closed/);
    await expect(pool.run([seqs[0]!])).rejects.toThrow(/closed/);
  });
});

describe('pipelining: a worker gets its next batch while one runs', () => {
  it('sends a worker its next batch before the one it runs is answered, and runs them one after the other', async () => {
    const pool = await InferencePool.create(base({ maxBatchSize: 2 }));
    const events: BatchEvent[] = [];
    pool.addObserver({ batch: (e) => void events.push(e) });
    try {
      pool.debugSession(0, 'slow_next_run', 300);
      const results = await Promise.all(seqs.slice(0, 4).map((s) => pool.run([s])));
      results.forEach((r, i) => expect(same(r.logits[0]!, alone[i]!)).toBe(true));
      expect(events).toHaveLength(2);
      const [first, second] = events as [BatchEvent, BatchEvent];
      // the second batch was already in the worker while the first ran (not sent after its answer) ...
      expect(second.receivedAt!).toBeLessThan(first.endedAt!);
      // ... and started only once the first had ended: one batch at a time per session
      expect(second.startedAt!).toBeGreaterThanOrEqual(first.endedAt!);
    } finally {
      await pool.close();
    }
  });

  it('a hung worker: its running batch and the one queued behind it are both served elsewhere', async () => {
    const pool = await InferencePool.create(base({ sessions: 2, maxBatchSize: 2, hangMs: 500, timeoutMs: 10_000 }));
    try {
      pool.debugSession(0, 'hang_on_next_run');
      // 4 batches of 2: each worker gets one to run and one queued behind it.
      const results = await Promise.all(seqs.slice(0, 8).map((s) => pool.run([s])));
      results.forEach((r, i) => expect(same(r.logits[0]!, alone[i]!)).toBe(true));
      expect(pool.stats().restarts).toBe(1);
      expect(pool.stats().requests).toMatchObject({ ok: 8, timeout: 0, error: 0 });
    } finally {
      await pool.close(200); // the blocked thread is left behind (unref'd), not terminated
    }
  });

  it('a retired worker finishes the batch it started but does not run the one queued behind it', async () => {
    const pool = await InferencePool.create(base({ maxBatchSize: 2, hangMs: 300, timeoutMs: 20_000 }));
    const bySession = new Map<number, number>();
    pool.addObserver({ batch: (e) => void bySession.set(e.session!, (bySession.get(e.session!) ?? 0) + 1) });
    try {
      pool.debugSession(0, 'slow_next_run', 1500); // session #1: retired by the watchdog while it sleeps
      const results = await Promise.all(seqs.slice(0, 4).map((s) => pool.run([s])));
      results.forEach((r, i) => expect(same(r.logits[0]!, alone[i]!)).toBe(true));
      await waitFor(() => pool.stats().sessions.retired === 0); // the slow thread ended by itself
      expect(pool.stats().restarts).toBe(1);
      // It answered the batch it had started (late); its queued batch was served by the replacement only.
      expect(bySession.get(1)).toBe(1);
    } finally {
      await pool.close();
    }
  });
});

describe('execution provider fallback', () => {
  it('asked for cuda on a machine without it: runs on CPU and says why, once', async () => {
    const warned: { obj: object; msg?: string }[] = [];
    const logger: PoolLogger = { info() {}, warn: (obj, msg) => warned.push({ obj, msg }), error() {} };
    const pool = await InferencePool.create(base({ provider: 'cuda', sessions: 2, logger }));
    try {
      expect(pool.provider).toBe('cpu');
      const stats = pool.stats();
      expect(stats.requestedProvider).toBe('cuda');
      expect(stats.fallback?.requested).toBe('cuda');
      expect(stats.fallback?.reason).toMatch(/cuda/i);
      expect(warned).toHaveLength(1);
      expect(warned[0]!.msg).toMatch(/"cuda" could not be used; running on CPU/);
      const r = await pool.run([seqs[3]!]);
      expect(same(r.logits[0]!, alone[3]!)).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it('a model that cannot load at all is an error, not a fallback', async () => {
    await expect(InferencePool.create(base({ modelPath: `${FIXTURE}/missing.onnx`, provider: 'cuda' }))).rejects.toThrow(
      /not found/,
    );
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!condition()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
