import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { InferencePool } from './InferencePool.js';

/** Seconds buckets for per-batch and per-request latency (0.5 ms … 2.5 s). */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];

/**
 * Registers the pool's Prometheus metrics in `registry` (one pool per registry):
 *
 * - rpa_inference_queue_depth — requests waiting for a session (gauge)
 * - rpa_inference_in_flight — requests in running batches (gauge)
 * - rpa_inference_sessions{state} — alive / busy / configured / retired (out of rotation, still finishing a batch) sessions (gauge)
 * - rpa_inference_ready — 1 once warmed up and serving (gauge)
 * - rpa_inference_provider{provider,requested} — 1 for the execution provider in use (gauge)
 * - rpa_inference_batch_size — requests per batch (histogram)
 * - rpa_inference_batch_seconds — session.run time per batch (histogram)
 * - rpa_inference_request_seconds — per request: arrival to result (queue + batch), ok only (histogram)
 * - rpa_inference_requests_total{outcome} — ok / busy / timeout / error / closed (counter)
 * - rpa_inference_requests_rejected_total{reason} — refused: queue_full / timeout (counter)
 * - rpa_inference_session_restarts_total — sessions replaced after a crash, kill or hang (counter)
 * - rpa_inference_cache_lookups_total{result} — prediction-cache hit / miss (counter; 0 while the cache is off)
 * - rpa_inference_cache_entries — inputs kept in the prediction cache (gauge)
 */
export function registerPoolMetrics(registry: Registry, pool: InferencePool): void {
  const registers = [registry];
  new Gauge({
    name: 'rpa_inference_queue_depth',
    help: 'Inference requests waiting for a session',
    registers,
    collect() {
      this.set(pool.stats().queueDepth);
    },
  });
  new Gauge({
    name: 'rpa_inference_in_flight',
    help: 'Inference requests in batches being run',
    registers,
    collect() {
      this.set(pool.stats().inFlight);
    },
  });
  new Gauge({
    name: 'rpa_inference_sessions',
    help: 'Inference sessions by state (configured, alive, busy, retired)',
    labelNames: ['state'],
    registers,
    collect() {
      const s = pool.stats().sessions;
      this.set({ state: 'configured' }, s.configured);
      this.set({ state: 'alive' }, s.alive);
      this.set({ state: 'busy' }, s.busy);
      this.set({ state: 'retired' }, s.retired);
    },
  });
  new Gauge({
    name: 'rpa_inference_ready',
    help: '1 when the inference pool is warmed up and serving',
    registers,
    collect() {
      this.set(pool.ready ? 1 : 0);
    },
  });
  new Gauge({
    name: 'rpa_inference_provider',
    help: 'Execution provider in use (value 1); requested is what was configured',
    labelNames: ['provider', 'requested'],
    registers,
    collect() {
      const s = pool.stats();
      this.reset();
      this.set({ provider: s.provider, requested: s.requestedProvider }, 1);
    },
  });
  new Counter({
    name: 'rpa_inference_cache_lookups_total',
    help: 'Prediction-cache lookups by result (hit: answered without a model run)',
    labelNames: ['result'],
    registers,
    collect() {
      // The pool counts; the counter shows its totals at scrape time (nothing per request here).
      const c = pool.stats().cache;
      this.reset();
      this.inc({ result: 'hit' }, c.hits);
      this.inc({ result: 'miss' }, c.misses);
    },
  });
  new Gauge({
    name: 'rpa_inference_cache_entries',
    help: 'Inputs kept in the inference prediction cache',
    registers,
    collect() {
      this.set(pool.stats().cache.size);
    },
  });
  const batchSize = new Histogram({
    name: 'rpa_inference_batch_size',
    help: 'Requests per inference batch',
    buckets: BATCH_BUCKETS,
    registers,
  });
  const batchSeconds = new Histogram({
    name: 'rpa_inference_batch_seconds',
    help: 'Model run time per batch (session.run), seconds',
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const requestSeconds = new Histogram({
    name: 'rpa_inference_request_seconds',
    help: 'Per answered request: arrival in the pool to result (queue wait + batch), seconds',
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const requests = new Counter({
    name: 'rpa_inference_requests_total',
    help: 'Inference requests by outcome',
    labelNames: ['outcome'],
    registers,
  });
  const rejected = new Counter({
    name: 'rpa_inference_requests_rejected_total',
    help: 'Inference requests refused as busy (queue_full) or past their deadline (timeout)',
    labelNames: ['reason'],
    registers,
  });
  const restarts = new Counter({
    name: 'rpa_inference_session_restarts_total',
    help: 'Inference sessions replaced after a crash or hang',
    registers,
  });
  for (const outcome of ['ok', 'busy', 'timeout', 'error', 'closed']) requests.inc({ outcome }, 0);
  for (const reason of ['queue_full', 'timeout']) rejected.inc({ reason }, 0);

  pool.addObserver({
    batch(e) {
      batchSize.observe(e.size);
      batchSeconds.observe(e.inferenceMs / 1000);
    },
    request(e) {
      requests.inc({ outcome: e.outcome });
      if (e.outcome === 'ok') requestSeconds.observe(e.totalMs / 1000);
      if (e.outcome === 'busy') rejected.inc({ reason: 'queue_full' });
      if (e.outcome === 'timeout') rejected.inc({ reason: 'timeout' });
    },
    restart() {
      restarts.inc();
    },
  });
}
