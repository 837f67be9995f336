/**
 * Inference worker: one ONNX Runtime session in its own thread. onnxruntime-node's `session.run`
 * executes synchronously on the calling thread, so sessions in the main thread would block the
 * event loop (HTTP, timers) for the whole batch and could never run in parallel; a worker each
 * gives real parallelism and keeps the main thread free. Loaded through worker-entry.mjs.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { OnnxClassifierSession } from '../onnxSession.js';
import { flattenRows, padPacked } from './batchInput.js';
import type { FromWorker, SessionInit, ToWorker } from './protocol.js';

if (!parentPort) throw new Error('worker.ts must run in a worker thread');
const port = parentPort;

const init = workerData as SessionInit;
const send = (msg: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(msg, transfer);

let crashOnNextRun = false;
let hangOnNextRun = false;
let slowNextRunMs = 0;
/** Batches received and not yet answered: `close` waits for them (never end a thread inside session.run). */
const running = new Set<Promise<void>>();
let closing = false;

async function main(): Promise<void> {
  let session: OnnxClassifierSession;
  try {
    session = await OnnxClassifierSession.load(init.modelPath, {
      provider: init.provider,
      padTokenId: init.padTokenId,
      intraOpNumThreads: init.intraOpNumThreads,
      interOpNumThreads: init.interOpNumThreads,
      cudaInstalled: init.cudaInstalled,
      graphOptimizationLevel: init.graphOptimizationLevel,
    });
  } catch (err) {
    send({ type: 'init_error', message: err instanceof Error ? err.message : String(err) });
    return;
  }
  port.on('message', (msg: ToWorker) => {
    switch (msg.type) {
      case 'run': {
        const run = runOne(session, msg.id, msg);
        running.add(run);
        void run.finally(() => running.delete(run));
        break;
      }
      case 'debug':
        if (msg.action === 'exit_now') process.exit(70);
        if (msg.action === 'crash_on_next_run') crashOnNextRun = true;
        if (msg.action === 'hang_on_next_run') hangOnNextRun = true;
        if (msg.action === 'slow_next_run') slowNextRunMs = msg.ms ?? 3000;
        break;
      case 'close':
        if (closing) break;
        closing = true;
        // The thread ends by itself once the session is released and the port closed: the pool never
        // terminates a worker, since terminating one inside session.run aborts the whole process.
        void Promise.allSettled([...running])
          .then(() => session.close())
          .finally(() => port.close());
        break;
    }
  });
  send({ type: 'ready', provider: session.provider, loadMs: session.loadMs });
}

async function runOne(session: OnnxClassifierSession, id: number, msg: Extract<ToWorker, { type: 'run' }>): Promise<void> {
  if (crashOnNextRun) process.exit(70);
  if (hangOnNextRun) {
    // Blocks this thread for good (fault injection for the hang watchdog).
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  }
  if (slowNextRunMs > 0) {
    // A really slow batch (fault injection for the watchdog): the thread sleeps, then runs the model.
    const ms = slowNextRunMs;
    slowNextRunMs = 0;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  }
  try {
    const t0 = performance.now();
    const startedAt = performance.timeOrigin + t0;
    const batch = padPacked(msg.input, init.padTokenId);
    const padMs = performance.now() - t0;
    const out = await session.runBatch(batch);
    const logits = flattenRows(out.logits, out.numLabels);
    send(
      {
        type: 'result',
        id,
        output: {
          logits,
          rows: out.batchSize,
          cols: out.numLabels,
          padMs,
          inferenceMs: out.timings.inferenceMs,
          startedAt,
          endedAt: performance.timeOrigin + performance.now(),
        },
      },
      [logits.buffer as ArrayBuffer],
    );
  } catch (err) {
    send({ type: 'error', id, message: err instanceof Error ? err.message : String(err) });
  }
}

void main();
