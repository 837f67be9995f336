/**
 * Errors the inference pool rejects requests with. Each has a stable `code` so callers in other
 * layers (the bot) can recognise them without importing the pool.
 */

/** The pool is saturated: the queue is at its bound, or a request waited past its deadline. */
export class BusyError extends Error {
  readonly code: string = 'INFERENCE_BUSY';
  /**
   * Why: `queue_full` (refused at once), `timeout` (accepted, not answered in time) or
   * `unavailable` (a remote inference server that cannot be reached or says it is overloaded).
   */
  readonly reason: 'queue_full' | 'timeout' | 'unavailable';

  constructor(message: string, reason: 'queue_full' | 'timeout' | 'unavailable' = 'queue_full') {
    super(message);
    this.name = 'BusyError';
    this.reason = reason;
  }
}

/** A request was accepted but not answered within `timeoutMs` (a kind of busy: the pool is overloaded). */
export class InferenceTimeoutError extends BusyError {
  override readonly code = 'INFERENCE_TIMEOUT';

  constructor(timeoutMs: number) {
    super(`inference request timed out after ${timeoutMs} ms`, 'timeout');
    this.name = 'InferenceTimeoutError';
  }
}

/** The worker running the request's batch died (and the request was already retried once, or retry is off). */
export class WorkerCrashedError extends Error {
  readonly code = 'INFERENCE_WORKER_CRASHED';

  constructor(detail: string) {
    super(`inference worker crashed: ${detail}`);
    this.name = 'WorkerCrashedError';
  }
}

/** The model session itself failed on a batch (bad input shape, ORT error). */
export class InferenceFailedError extends Error {
  readonly code = 'INFERENCE_FAILED';

  constructor(detail: string) {
    super(`inference failed: ${detail}`);
    this.name = 'InferenceFailedError';
  }
}

export class PoolClosedError extends Error {
  readonly code = 'INFERENCE_POOL_CLOSED';

  constructor() {
    super('inference pool is closed');
    this.name = 'PoolClosedError';
  }
}

const BUSY_CODES = new Set(['INFERENCE_BUSY', 'INFERENCE_TIMEOUT']);

/**
 * True for "overloaded, try again shortly" errors (queue full or timed out), also across module
 * copies (checks the code, not the class).
 */
export function isBusyError(err: unknown): err is BusyError {
  return (
    err instanceof BusyError ||
    (typeof err === 'object' && err !== null && BUSY_CODES.has(String((err as { code?: unknown }).code)))
  );
}
