import type { ProviderName, ProviderRequest } from '../executionProvider.js';

/** What a worker (or an in-thread executor) needs to open its session. */
export interface SessionInit {
  modelPath: string;
  padTokenId: number;
  provider: ProviderRequest;
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
  cudaInstalled?: boolean;
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
}

/**
 * One batch on the wire: token ids of every row back to back (no padding: the executor pads,
 * off the main thread when it is a worker), each row's length, and the padded length.
 */
export interface BatchInput {
  ids: Int32Array;
  lengths: Int32Array;
  seqLen: number;
}

export interface BatchOutput {
  /** Row-major [rows, cols]. */
  logits: Float32Array;
  rows: number;
  cols: number;
  /** Building the padded int64 tensors. */
  padMs: number;
  /** `session.run` itself (a remote executor: the server-reported time, else the round trip). */
  inferenceMs: number;
  /** A remote executor: round trip minus `inferenceMs` (wire, JSON, the server's queue); absent for local sessions. */
  networkMs?: number;
  /** When the executor started and finished the batch (epoch ms: timeOrigin + now, comparable across threads). */
  startedAt: number;
  endedAt: number;
  /**
   * Worker sessions: when the batch's message was taken off the port (epoch ms). `startedAt −
   * receivedAt` is the time it waited behind the batch before it (the pool sends a worker its next
   * batch while one runs); `receivedAt` minus the pool's send time is the hand-over.
   */
  receivedAt?: number;
}

/**
 * Test hooks understood by the worker (fault injection):
 * - `crash_on_next_run` / `exit_now`: the thread exits (as a crash would), outside any native call;
 * - `hang_on_next_run`: the next batch blocks the thread for good before `session.run`;
 * - `slow_next_run`: the next batch sleeps `ms` (default 3000) and then really runs `session.run`.
 */
export type DebugAction = 'crash_on_next_run' | 'hang_on_next_run' | 'exit_now' | 'slow_next_run';

/**
 * Batches travel as one typed array each way (see encodeRun / encodeResult), not as objects: a
 * structured clone of an object graph costs both threads more than one buffer, and a batch is
 * the message the pool sends most.
 */
export type ToWorker =
  | Int32Array
  | { type: 'debug'; action: DebugAction; ms?: number }
  /**
   * Finish the batches already received, release the session, and let the thread end on its own.
   * `dropUnstarted`: the pool has handed every request of this worker's batches to other sessions,
   * so batches it has not started are answered `dropped` instead of being run (a retired worker
   * does not spend the cores on work already being done elsewhere).
   */
  | { type: 'close'; dropUnstarted?: boolean };

export type FromWorker =
  | { type: 'ready'; provider: ProviderName; loadMs: number }
  | { type: 'init_error'; message: string }
  | ArrayBuffer
  | { type: 'error'; id: number; message: string };

/** Header of a run message: id, padded length, rows; then each row's length, then the ids. */
const RUN_HEADER = 3;

/** A batch as one Int32Array (its buffer is transferred): [id, seqLen, rows, lengths…, ids…]. */
export function encodeRun(id: number, input: BatchInput): Int32Array {
  const rows = input.lengths.length;
  const wire = new Int32Array(RUN_HEADER + rows + input.ids.length);
  wire[0] = id;
  wire[1] = input.seqLen;
  wire[2] = rows;
  wire.set(input.lengths, RUN_HEADER);
  wire.set(input.ids, RUN_HEADER + rows);
  return wire;
}

/** The batch of a run message (views into it, no copy). */
export function decodeRun(wire: Int32Array): { id: number; input: BatchInput } {
  const rows = wire[2]!;
  return {
    id: wire[0]!,
    input: {
      seqLen: wire[1]!,
      lengths: wire.subarray(RUN_HEADER, RUN_HEADER + rows),
      ids: wire.subarray(RUN_HEADER + rows),
    },
  };
}

/** Float64 header of a result: id, rows, cols, padMs, inferenceMs, startedAt, endedAt, receivedAt (NaN: absent). */
const RESULT_HEADER = 8;

/** A batch's answer as one ArrayBuffer (transferred): the float64 header, then the logits (float32, row-major). */
export function encodeResult(id: number, out: BatchOutput): ArrayBuffer {
  const n = out.rows * out.cols;
  const buf = new ArrayBuffer(RESULT_HEADER * 8 + n * 4);
  const h = new Float64Array(buf, 0, RESULT_HEADER);
  h[0] = id;
  h[1] = out.rows;
  h[2] = out.cols;
  h[3] = out.padMs;
  h[4] = out.inferenceMs;
  h[5] = out.startedAt;
  h[6] = out.endedAt;
  h[7] = out.receivedAt ?? NaN;
  new Float32Array(buf, RESULT_HEADER * 8, n).set(out.logits.subarray(0, n));
  return buf;
}

export function decodeResult(buf: ArrayBuffer): { id: number; output: BatchOutput } {
  const h = new Float64Array(buf, 0, RESULT_HEADER);
  const rows = h[1]!;
  const cols = h[2]!;
  const output: BatchOutput = {
    logits: new Float32Array(buf, RESULT_HEADER * 8, rows * cols),
    rows,
    cols,
    padMs: h[3]!,
    inferenceMs: h[4]!,
    startedAt: h[5]!,
    endedAt: h[6]!,
  };
  if (!Number.isNaN(h[7]!)) output.receivedAt = h[7]!;
  return { id: h[0]!, output };
}
