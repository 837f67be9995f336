// The engine alone, for the pool's bound: one ONNX Runtime session in a worker thread running a
// bare `session.run` loop over pre-built batches (inputs padded once, before timing), with nothing
// else on the thread. workerData: { modelPath, intra, batches: [{ ids: Int32Array, lengths:
// Int32Array, seqLen }], padTokenId, seconds, provider }. Posts 'ready' after warm-up, waits for 'go' (so
// several loops start together), then posts { rows, batches, wallMs, cpuNs }.
// Plain JavaScript: a worker started from a tsx process would need the loader registered first.
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';

// This thread's CPU time in ns (Linux; NaN elsewhere): the engine's CPU per row, beside the pool's.
const threadNs = () => {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
  } catch {
    return NaN;
  }
};

const { modelPath, intra, batches, padTokenId, seconds, provider = 'cpu' } = workerData;
const executionProviders = provider === 'cpu' ? ['cpu'] : [provider === 'cuda' ? { name: 'cuda', deviceId: 0 } : provider, 'cpu'];
const session = await ort.InferenceSession.create(modelPath, {
  executionProviders,
  intraOpNumThreads: intra,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
  logSeverityLevel: 3,
});
const feeds = batches.map((b) => {
  const rows = b.lengths.length;
  const n = rows * b.seqLen;
  const ids = new BigInt64Array(n).fill(BigInt(padTokenId));
  const mask = new BigInt64Array(n);
  let o = 0;
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < b.lengths[r]; i++) {
      ids[r * b.seqLen + i] = BigInt(b.ids[o++]);
      mask[r * b.seqLen + i] = 1n;
    }
  }
  const dims = [rows, b.seqLen];
  return { rows, feed: { input_ids: new ort.Tensor('int64', ids, dims), attention_mask: new ort.Tensor('int64', mask, dims) } };
});
for (let i = 0; i < Math.min(30, feeds.length * 2); i++) await session.run(feeds[i % feeds.length].feed);
parentPort.postMessage('ready');
await new Promise((resolve) => parentPort.once('message', resolve));
const t0 = performance.now();
const cpu0 = threadNs();
let rows = 0;
let count = 0;
while (performance.now() - t0 < seconds * 1000) {
  const b = feeds[count++ % feeds.length];
  await session.run(b.feed);
  rows += b.rows;
}
parentPort.postMessage({ rows, batches: count, wallMs: performance.now() - t0, cpuNs: threadNs() - cpu0 });
await session.release();
