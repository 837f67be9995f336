/**
 * Inference worker: one ONNX Runtime session in its own thread. onnxruntime-node's `session.run`
 * executes synchronously on the calling thread, so sessions in the main thread would block the
 * event loop (HTTP, timers) for the whole batch and could never run in parallel; a worker each
 * gives real parallelism and keeps the main thread free. Loaded through worker-entry.mjs.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { OnnxClassifierSession } from '../onnxSession.js';
import { padPacked } from './batchInput.js';
import { decodeRun, encodeResult, type BatchInput, type FromWorker, type SessionInit, type ToWorker } from './protocol.js';

if (!parentPort) throw new Error('worker.ts must run in a worker thread');
const port = parentPort;

const init = workerData as SessionInit;
const send = (msg: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(msg, transfer);

let crashOnNextRun = false;
let hangOnNextRun = false;
let slowNextRunMs = 0;
/** Batches received and not yet answered: `close` waits for them (never end a thread inside session.run). */
const running = new Set<Promise<void>>();
/** The batch run last (runOne never rejects: it answers errors). */
let last: Promise<void> = Promise.resolve();
let closing = false;
/** Set by `close` with dropUnstarted: batches not started yet are answered `dropped`, not run. */
let dropUnstarted = false;

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
    if (msg instanceof Int32Array) {
      const receivedAt = performance.timeOrigin + performance.now();
      const { id, input } = decodeRun(msg);
      // One batch at a time, in arrival order: the pool sends the next batch while one runs, and
      // session.run yields (setImmediate) before it blocks, so without the chain the next batch
      // would be padded and timed while the current one still runs.
      const run = (last = last.then(() => runOne(session, id, input, receivedAt)));
      running.add(run);
      void run.finally(() => running.delete(run));
      return;
    }
    switch (msg.type) {
      case 'debug':
        if (msg.action === 'exit_now') process.exit(70);
        if (msg.action === 'crash_on_next_run') crashOnNextRun = true;
        if (msg.action === 'hang_on_next_run') hangOnNextRun = true;
        if (msg.action === 'slow_next_run') slowNextRunMs = msg.ms ?? 3000;
        break;
      case 'close':
        if (msg.dropUnstarted) dropUnstarted = true;
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

async function runOne(
  session: OnnxClassifierSession,
  id: number,
  input: BatchInput,
  receivedAt: number,
): Promise<void> {
  if (dropUnstarted) {
    send({ type: 'error', id, message: 'dropped: the session was retired before this batch started' });
    return;
  }
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
    const batch = padPacked(input, init.padTokenId);
    const padMs = performance.now() - t0;
    const out = await session.runBatchFlat(batch);
    const wire = encodeResult(id, {
      logits: out.data,
      rows: out.batchSize,
      cols: out.cols,
      padMs,
      inferenceMs: out.inferenceMs,
      startedAt,
      endedAt: performance.timeOrigin + performance.now(),
      receivedAt,
    });
    send(wire, [wire]);
  } catch (err) {
    send({ type: 'error', id, message: err instanceof Error ? err.message : String(err) });
  }
}

void main();
