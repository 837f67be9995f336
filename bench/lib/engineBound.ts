/**
 * The pool's bound, measured: `sessions` bare session.run loops (bench/lib/engineLoop.mjs), each
 * in its own worker thread with `intra` ORT threads, running at the same time on this machine's
 * cores, over batches of `batch` real utterances. The batches are what the best batcher could form
 * from the same stream at 64 concurrent requests: each window of 64 consecutive requests grouped
 * by length, cut into batches, each padded to its own longest row. Rows/s of all loops together.
 * The batches cover the whole stream, as the pool's closed loop does (until 2026-12-07 only its
 * first 256 batches, 2,048 rows at batch 8: those pad 13.7% where the whole stream pads 14.9%,
 * so the bound ran on easier batches than the pool).
 */
import { Worker } from 'node:worker_threads';
import { packBatch } from '../../src/inference/pool/batchInput.js';

export interface EngineBound {
  sessions: number;
  intra: number;
  batch: number;
  rowsPerSecond: number;
  /** ms per row on one session (its wall time / its rows), mean over the sessions. */
  msPerRow: number;
  /** CPU µs per row of the loops' threads together (NaN where /proc is missing). */
  cpuUsPerRow: number;
  /** Share of padding tokens in its batches (%). */
  paddingPct: number;
}

const ENGINE_LOOP = new URL('./engineLoop.mjs', import.meta.url);

/** Batches of `batch` rows from `seqs` in arrival order, grouped by length within windows of `window`. */
export function groupedBatches(seqs: readonly (readonly number[])[], batch: number, window = 64, limit = Infinity) {
  const out = [];
  const b = Math.max(1, Math.round(batch));
  for (let w = 0; w + window <= seqs.length && out.length < limit; w += window) {
    const win = [...seqs.slice(w, w + window)].sort((x, y) => x.length - y.length);
    for (let i = 0; i + b <= win.length && out.length < limit; i += b) out.push(packBatch(win.slice(i, i + b)));
  }
  return out;
}

export async function measureEngineBound(opts: {
  modelPath: string;
  padTokenId: number;
  seqs: readonly (readonly number[])[];
  sessions: number;
  intra: number;
  batch: number;
  seconds: number;
  /** cpu (default), webgpu or cuda */
  provider?: 'cpu' | 'webgpu' | 'cuda';
}): Promise<EngineBound> {
  const batches = groupedBatches(opts.seqs, opts.batch);
  const workers = Array.from(
    { length: opts.sessions },
    () =>
      new Worker(ENGINE_LOOP, {
        workerData: {
          modelPath: opts.modelPath,
          intra: opts.intra,
          batches,
          padTokenId: opts.padTokenId,
          seconds: opts.seconds,
          provider: opts.provider ?? 'cpu',
        },
      }),
  );
  try {
    const next = (w: Worker) =>
      new Promise<unknown>((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
      });
    await Promise.all(workers.map(next));
    const results = (await Promise.all(
      workers.map((w) => {
        const done = next(w);
        w.postMessage('go');
        return done;
      }),
    )) as { rows: number; batches: number; wallMs: number; cpuNs: number }[];
    const rowsPerSecond = results.reduce((a, r) => a + (r.rows * 1000) / r.wallMs, 0);
    const msPerRow = results.reduce((a, r) => a + r.wallMs / r.rows, 0) / results.length;
    let padded = 0;
    let real = 0;
    for (const b of batches) {
      padded += b.lengths.length * b.seqLen;
      real += b.ids.length;
    }
    const paddingPct = (1 - real / padded) * 100;
    const cpuUsPerRow = results.reduce((a, r) => a + r.cpuNs, 0) / 1000 / results.reduce((a, r) => a + r.rows, 0);
    return { sessions: opts.sessions, intra: opts.intra, batch: Math.max(1, Math.round(opts.batch)), rowsPerSecond, msPerRow, cpuUsPerRow, paddingPct };
  } finally {
    // Each loop releases its session and ends by itself; a thread is never terminated inside a
    // native call (that aborts the process: docs/notes/pool-outbound.md).
    await Promise.all(workers.map((w) => new Promise((resolve) => (w.threadId < 0 ? resolve(undefined) : w.once('exit', resolve)))));
  }
}
