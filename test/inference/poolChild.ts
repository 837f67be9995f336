/**
 * A real process running the inference pool, for test/inference/poolRetire.test.ts: if the pool
 * ever terminated a worker thread inside onnxruntime's native `session.run`, this process would
 * abort (exit 134, "terminate called after throwing an instance of 'Napi::Error'") and the parent
 * test would see it. Prints one JSON line with what every request got, then exits 0.
 *
 *   node --import tsx test/inference/poolChild.ts kill|slow
 */
import { existsSync } from 'node:fs';
import { readModelDir } from '../../src/inference/modelDir.js';
import { GptTokenizer } from '../../src/inference/tokenizer.js';
import { InferencePool, type InferencePoolOptions } from '../../src/inference/pool/index.js';

const mode = process.argv[2];
// The shipped model makes a batch take long enough that a kill lands inside session.run.
const dir = existsSync('models/intent-gpt2/model.onnx') ? 'models/intent-gpt2' : 'test/fixtures/tiny-gpt2';
const info = await readModelDir(dir);
const pad = info.padTokenId ?? 50256;
const window = info.maxLength ?? info.nPositions ?? 64;
const tok = await GptTokenizer.fromDir(dir, { maxLength: window, padTokenId: pad });
const long = 'move 40 boxes of nitrile gloves from WH-A to the Rotterdam warehouse tomorrow morning, then file the customs declaration for shipment SH-2001 and tell the broker';
const sequences = Array.from({ length: 64 }, (_, i) => tok.encode(`${i} ${long} ${'and check stock '.repeat(i % 5)}`));

const base: InferencePoolOptions = {
  modelPath: info.modelPath,
  padTokenId: pad,
  intraOpNumThreads: 1,
  maxBatchSize: 16,
  minFill: 0,
  queueMax: 10_000,
  warmup: false,
};

const tally = { requests: 0, ok: 0, busy: 0, error: 0, messages: new Set<string>(), maxLatencyMs: 0 };
async function round(pool: InferencePool, during: () => Promise<void>): Promise<void> {
  // Each request's own latency (measured, not asserted: docs/notes/pool-outbound.md).
  const timed = (s: number[]) => {
    const t0 = performance.now();
    return pool.run([s]).finally(() => (tally.maxLatencyMs = Math.max(tally.maxLatencyMs, performance.now() - t0)));
  };
  const all = Promise.allSettled(sequences.map(timed));
  await during();
  for (const r of await all) {
    tally.requests += 1;
    if (r.status === 'fulfilled') {
      if (r.value.logits[0]!.length !== r.value.numLabels || !r.value.logits[0]!.every(Number.isFinite)) throw new Error('bad logits');
      tally.ok += 1;
    } else {
      const code = String((r.reason as { code?: unknown }).code);
      tally[code === 'INFERENCE_BUSY' || code === 'INFERENCE_TIMEOUT' ? 'busy' : 'error'] += 1;
      tally.messages.add(String(r.reason));
    }
  }
}

async function until(condition: () => boolean, ms: number): Promise<boolean> {
  const t0 = Date.now();
  while (!condition()) {
    if (Date.now() - t0 > ms) return false;
    await new Promise((r) => setTimeout(r, 2));
  }
  return true;
}

let killsInBatch = 0;
const started = performance.now();
let pool: InferencePool;
if (mode === 'kill') {
  pool = await InferencePool.create({ ...base, sessions: 2, timeoutMs: 30_000, hangMs: 60_000 });
  for (let i = 0; i < 10; i++) {
    await round(pool, async () => {
      // Kill a session while it is running a batch (inside session.run, or about to be).
      if (await until(() => pool.stats().sessions.busy > 0, 5000)) killsInBatch += 1;
      await pool.killSession(i % pool.stats().sessions.alive, `chaos round ${i}`);
    });
    await until(() => pool.stats().sessions.alive === 2, 30_000);
  }
} else if (mode === 'slow') {
  // Warm-up (also of the replacement, before it serves): the watchdog is for the slow batch, and a
  // cold first session.run on a loaded CI box can itself take longer than hangMs.
  pool = await InferencePool.create({ ...base, sessions: 1, timeoutMs: 30_000, hangMs: 500, warmup: { seqLens: [48] } });
  // The only session sleeps 4 s before its next session.run: the watchdog must retire and replace it.
  pool.debugSession(0, 'slow_next_run', 4000);
  await round(pool, async () => {});
  // The slow thread ends by itself once its batch really ran (it is never terminated).
  await until(() => pool.stats().sessions.retired === 0, 30_000);
} else {
  throw new Error(`usage: poolChild.ts kill|slow (got ${mode})`);
}
const stats = pool.stats();
await pool.close();
console.log(
  JSON.stringify({
    mode,
    model: dir,
    ...tally,
    messages: [...tally.messages],
    killsInBatch,
    restarts: stats.restarts,
    alive: stats.sessions.alive,
    retired: stats.sessions.retired,
    okCount: stats.requests.ok,
    elapsedMs: Math.round(performance.now() - started),
    maxLatencyMs: Math.round(tally.maxLatencyMs),
  }),
);
