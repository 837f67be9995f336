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

export type ToWorker =
  | { type: 'run'; id: number; input: BatchInput }
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
  | { type: 'result'; id: number; output: BatchOutput }
  | { type: 'error'; id: number; message: string };
