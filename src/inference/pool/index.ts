export {
  InferencePool,
  type InferencePoolOptions,
  type PoolObserver,
  type PoolStats,
  type PoolLogger,
  type ProviderFallback,
  type RequestOutcome,
} from './InferencePool.js';
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
