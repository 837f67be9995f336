export {
  InferencePool,
  type InferencePoolOptions,
  type PoolObserver,
  type BatchEvent,
  type PoolStats,
  type PoolLogger,
  type ProviderFallback,
  type RequestOutcome,
  type ExecutorFactory,
} from './InferencePool.js';
export type { Executor, ExitListener } from './executors.js';
export type { BatchInput, BatchOutput } from './protocol.js';
export {
  BusyError,
  InferenceTimeoutError,
  InferenceFailedError,
  WorkerCrashedError,
  PoolClosedError,
  isBusyError,
} from './errors.js';
export { registerPoolMetrics } from './metrics.js';
export { createModelPool, type ModelPoolOptions } from './modelPool.js';
export { takeBatch, type BatchLimits } from './batcher.js';
