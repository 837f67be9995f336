import { performance } from 'node:perf_hooks';
import type { ProviderName, ProviderRequest } from '../executionProvider.js';
import type { LogitsResult, LogitsRunner } from '../onnxSession.js';
import { currentTrace } from '../../tracing/turnTrace.js';
import { packBatch } from './batchInput.js';
import { PredictionCache, predictionKey, type PredictionCacheStats } from './predictionCache.js';
import { takeBatch, type BatchLimits } from './batcher.js';
import {
  BusyError,
  InferenceTimeoutError,
  PoolClosedError,
  WorkerCrashedError,
} from './errors.js';
import { ThreadExecutor, WorkerExecutor, type Executor, type ExitListener } from './executors.js';
import type { BatchOutput, DebugAction, SessionInit } from './protocol.js';

/** Minimal logger (pino-compatible). */
export interface PoolLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface InferencePoolOptions {
  modelPath: string;
  /** Right-padding id (GPT-2: 50256). */
  padTokenId: number;
  /** ONNX Runtime sessions (default 1). */
  sessions?: number;
  /** true: each session in a worker thread (default); false: sessions on the main thread. */
  workers?: boolean;
  /** Most requests in one batch (default 32). */
  maxBatchSize?: number;
  /** Most rows × padded length in one batch (default maxBatchSize × 64). */
  maxBatchTokens?: number;
  /** Least share of real tokens in a batch (default 0.5): groups messages by length. */
  minFill?: number;
  /** How long a request may wait for others to join its batch when a session is idle (default 0). */
  maxDelayMs?: number;
  /**
   * Batches that may be formed past a waiting request before it must ride in the next one
   * (default 0: the oldest request is always in the next batch). Above 0, when more requests wait
   * than fit in one batch, the next batch is the full one of closest lengths (least padding) among
   * them, so a deep queue pads less; a request passed over this many times anchors the next batch.
   * Trades the tail latency of unusual lengths under a deep queue for throughput (see batcher.ts).
   */
  maxPassOver?: number;
  /** Requests waiting for a session; past it `run` rejects at once with BusyError (default 256). */
  queueMax?: number;
  /** Per-request deadline from arrival (default 2000 ms): InferenceTimeoutError. */
  timeoutMs?: number;
  /**
   * A batch running longer than this marks its worker as hung: it is retired (out of rotation, its
   * requests retried elsewhere) and replaced; the thread itself is never terminated.
   */
  hangMs?: number;
  /**
   * Retired threads that may still be running (a batch that has not returned) while replacements
   * start (default: max(2, sessions)). Past it, replacements wait for one of them to end, so a
   * model that hangs every batch cannot pile up threads.
   */
  maxRetired?: number;
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
  provider?: ProviderRequest;
  cudaInstalled?: boolean;
  graphOptimizationLevel?: SessionInit['graphOptimizationLevel'];
  /**
   * Batches one worker session holds at once: the one it runs and the ones after it (default 2
   * for worker sessions, 1 for in-thread and remote ones). With 2, the pool forms and sends a
   * worker its next batch while the current one runs, so the worker does not sit idle while its
   * result travels to the main thread and the next batch travels back.
   */
  pipelineDepth?: number;
  /**
   * Logits of this many distinct inputs kept (LRU) and answered again without a model run; 0
   * (default) turns it off. Keyed by the exact ids the model reads (see predictionCache.ts).
   */
  predictionCacheSize?: number;
  /** Retry a request once when the worker running it dies (default true). */
  retryOnCrash?: boolean;
  /**
   * Warm-up before the pool is ready: every session runs each power-of-two batch size up to
   * maxBatchSize at these sequence lengths (default [8, 32]); `false` skips it.
   */
  warmup?: false | { seqLens: number[] };
  logger?: PoolLogger;
  /**
   * Starts executors other than ONNX Runtime sessions (a remote inference server: see
   * src/inference/remote). Batching, deadlines, back-pressure and retries stay the pool's.
   */
  executorFactory?: ExecutorFactory;
}

/** Makes the pool's executors itself (`mode` is what stats() reports). */
export interface ExecutorFactory {
  readonly mode: 'remote';
  start(id: number, onExit: ExitListener): Promise<Executor>;
}

export type RequestOutcome = 'ok' | 'busy' | 'timeout' | 'error' | 'closed';

/** Hooks for metrics (see metrics.ts) and benchmarks. */
export interface PoolObserver {
  batch?(e: BatchEvent): void;
  request?(e: { outcome: RequestOutcome; totalMs: number; queueMs?: number; resultWaitMs?: number }): void;
  restart?(e: { reason: string }): void;
}

/** One answered batch. Times in ms; the `*At` fields are epoch ms (timeOrigin + now, comparable across threads). */
export interface BatchEvent {
  size: number;
  seqLen: number;
  realTokens: number;
  padMs: number;
  inferenceMs: number;
  /** Sent to the executor → its answer taken by the pool. */
  roundtripMs: number;
  /** The executor that ran it. */
  session?: number;
  /** Choosing the rows and packing them (main thread). */
  formMs?: number;
  /** Arrival of its oldest request → sent to the executor. */
  oldestQueueMs?: number;
  sentAt?: number;
  /** Worker sessions: the worker took it off its port (after the batch before it, when pipelined). */
  receivedAt?: number;
  startedAt?: number;
  endedAt?: number;
  /** The pool's thread took the answer. */
  resultAt?: number;
  /** Handing the results to the callers (main thread). */
  deliverMs?: number;
}

export interface ProviderFallback {
  requested: ProviderRequest;
  reason: string;
}

export interface PoolStats {
  ready: boolean;
  provider: ProviderName | 'remote';
  requestedProvider: ProviderRequest;
  fallback?: ProviderFallback;
  mode: 'worker' | 'thread' | 'remote';
  /** `retired`: taken out of rotation (killed, hung) and still finishing their last batch. */
  sessions: { configured: number; alive: number; busy: number; retired: number };
  queueDepth: number;
  inFlight: number;
  requests: { ok: number; busy: number; timeout: number; error: number; closed: number };
  batches: number;
  /** Average requests per batch since start. */
  meanBatchSize: number;
  restarts: number;
  /** Prediction cache (capacity 0: off). Hits are answered without a model run and are not in `requests`. */
  cache: PredictionCacheStats;
  config: {
    maxBatchSize: number;
    maxBatchTokens: number;
    minFill: number;
    maxPassOver?: number;
    maxDelayMs: number;
    queueMax: number;
    timeoutMs: number;
    intraOpNumThreads?: number;
    interOpNumThreads?: number;
  };
}

interface Item {
  readonly seq: readonly number[];
  /** Its prediction-cache key (set when the cache is on): the answer is kept under it. */
  readonly key: string | undefined;
  readonly len: number;
  readonly enqueuedAt: number;
  /** enqueuedAt + timeoutMs: the deadline sweep fails it then (one timer for all items, not one each). */
  readonly deadline: number;
  attempts: number;
  /** Batches formed past it while it waited (with maxPassOver). */
  passedOver?: number;
  settled: boolean;
  /** The batch answerable for it (unset while it waits in the queue). */
  owner?: RunningBatch;
  resolve(r: ItemResult): void;
  reject(e: Error): void;
}

interface ItemResult {
  logits: Float32Array;
  cols: number;
  batchId: number;
  batchSize: number;
  seqLen: number;
  padMs: number;
  inferenceMs: number;
  networkMs?: number;
  /** Arrival → a session started its batch (waiting for a free session / for company, and the hand-over). */
  queueMs: number;
  /** The batch finished → the caller's thread took the result (event-loop lag on the way back). */
  resultWaitMs: number;
}

interface Slot {
  executor: Executor;
  /** Dispatched and unanswered, oldest (the one running) first; at most pipelineDepth. */
  batches: RunningBatch[];
  /** Armed for the batch at the head of `batches` (the one running). */
  watchdog?: NodeJS.Timeout;
}

/** A dispatched batch; `detached` once its executor was retired and its requests handed elsewhere. */
interface RunningBatch {
  readonly items: Item[];
  detached: boolean;
}

const noopLogger: PoolLogger = { info() {}, warn() {}, error() {} };

/**
 * A batching inference pool over N ONNX Runtime sessions (worker threads by default), usable
 * wherever a LogitsRunner is (`loadNlu(dir, { runner: pool })`).
 *
 * Requests from concurrent turns queue up; whenever a session is free, the oldest request and
 * others of similar length ride together in one batch (at most maxBatchSize rows and
 * maxBatchTokens padded tokens). With an idle session a request waits at most maxDelayMs for
 * company. Every row's logits are bit-identical to running it alone (the model is exported so
 * right-padding does not change them; test/inference/pool.test.ts checks it). The queue is bounded: past
 * queueMax, `run` fails at once with BusyError. Each request has a deadline (timeoutMs). A worker
 * that dies is replaced; its in-flight requests are retried once, then fail with WorkerCrashedError.
 * A worker that hangs (hangMs) or is killed (killSession) is retired, never terminated: out of
 * rotation at once, its requests retried elsewhere, a replacement started, and the thread ends by
 * itself after its batch (terminating a thread inside onnxruntime's native `session.run` aborts the
 * whole process: `terminate called after throwing an instance of 'Napi::Error'`).
 */
export class InferencePool implements LogitsRunner {
  private readonly pending: Item[] = [];
  private readonly slots: Slot[] = [];
  private readonly observers: PoolObserver[] = [];
  private readonly limits: BatchLimits;
  private readonly maxDelayMs: number;
  private readonly queueMax: number;
  private readonly timeoutMs: number;
  private readonly hangMs: number;
  private readonly retryOnCrash: boolean;
  private readonly pipelineDepth: number | undefined;
  private readonly cache: PredictionCache;
  /** Unsettled items in arrival order (= deadline order): the one deadline timer watches the head. */
  private readonly deadlines: Item[] = [];
  private deadlineHead = 0;
  private deadlineTimer?: NodeJS.Timeout;
  private readonly maxRetired: number;
  private readonly retired = new Set<Executor>();
  /** Replacements being started (so several exits do not overshoot `configured`). */
  private starting = 0;
  private readonly logger: PoolLogger;
  private readonly configured: number;
  private readonly useWorkers: boolean;
  private readonly warmSeqLens: number[] | undefined;
  private pumpScheduled = false;
  private delayTimer?: NodeJS.Timeout;
  private closed = false;
  private nextExecutorId = 1;
  private nextBatchId = 1;
  private inFlight = 0;
  private batches = 0;
  private batchedRequests = 0;
  private restarts = 0;
  private consecutiveStartFailures = 0;
  private readonly restartTimers = new Set<NodeJS.Timeout>();
  private readonly counts = { ok: 0, busy: 0, timeout: 0, error: 0, closed: 0 };
  private readonly idleWaiters: (() => void)[] = [];
  private providerInUse: ProviderName | 'remote' = 'cpu';
  private fallback?: ProviderFallback;

  private constructor(
    private readonly options: InferencePoolOptions,
    private sessionProvider: ProviderRequest,
  ) {
    const maxBatchSize = positive(options.maxBatchSize, 32, 'maxBatchSize');
    this.limits = {
      maxBatchSize,
      maxBatchTokens: positive(options.maxBatchTokens, maxBatchSize * 64, 'maxBatchTokens'),
      minFill: Math.min(1, Math.max(0, options.minFill ?? 0.5)),
    };
    const passOver = options.maxPassOver ?? 0;
    if (!Number.isInteger(passOver) || passOver < 0) throw new Error(`InferencePool: maxPassOver must be a non-negative integer, got ${passOver}`);
    if (passOver > 0) this.limits.maxPassOver = passOver;
    this.maxDelayMs = Math.max(0, options.maxDelayMs ?? 0);
    this.queueMax = positive(options.queueMax, 256, 'queueMax');
    this.timeoutMs = positive(options.timeoutMs, 2000, 'timeoutMs');
    this.hangMs = positive(options.hangMs, Math.max(5000, this.timeoutMs * 2), 'hangMs');
    this.retryOnCrash = options.retryOnCrash ?? true;
    this.pipelineDepth = options.pipelineDepth === undefined ? undefined : Math.floor(positive(options.pipelineDepth, 1, 'pipelineDepth'));
    this.logger = options.logger ?? noopLogger;
    const cacheSize = options.predictionCacheSize ?? 0;
    if (!Number.isInteger(cacheSize) || cacheSize < 0) throw new Error(`InferencePool: predictionCacheSize must be a non-negative integer, got ${cacheSize}`);
    this.cache = new PredictionCache(cacheSize);
    this.configured = positive(options.sessions, 1, 'sessions');
    this.maxRetired = positive(options.maxRetired, Math.max(2, this.configured), 'maxRetired');
    this.useWorkers = options.workers ?? true;
    this.warmSeqLens = options.warmup === false ? undefined : options.warmup?.seqLens ?? [8, 32];
  }

  /**
   * Starts the sessions, warms them up and resolves when the pool is ready. If the requested
   * provider cannot be used, the pool runs on CPU and says so once (logger.warn, stats().fallback).
   */
  static async create(options: InferencePoolOptions): Promise<InferencePool> {
    const requested = options.provider ?? 'cpu';
    const pool = new InferencePool(options, requested);
    try {
      await pool.start(requested);
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  get provider(): ProviderName | 'remote' {
    return this.providerInUse;
  }

  /** True when at least one warmed-up session is serving. */
  get ready(): boolean {
    return !this.closed && this.slots.length > 0;
  }

  addObserver(observer: PoolObserver): void {
    this.observers.push(observer);
  }

  stats(): PoolStats {
    return {
      ready: this.ready,
      provider: this.providerInUse,
      requestedProvider: this.options.provider ?? 'cpu',
      ...(this.fallback ? { fallback: { ...this.fallback } } : {}),
      mode: this.options.executorFactory?.mode ?? (this.useWorkers ? 'worker' : 'thread'),
      sessions: {
        configured: this.configured,
        alive: this.slots.length,
        busy: this.slots.filter((s) => s.batches.length > 0).length,
        retired: this.retired.size,
      },
      queueDepth: this.pending.length,
      inFlight: this.inFlight,
      requests: { ...this.counts },
      batches: this.batches,
      meanBatchSize: this.batches ? this.batchedRequests / this.batches : 0,
      restarts: this.restarts,
      cache: this.cache.stats(),
      config: {
        ...this.limits,
        maxDelayMs: this.maxDelayMs,
        queueMax: this.queueMax,
        timeoutMs: this.timeoutMs,
        intraOpNumThreads: this.options.intraOpNumThreads,
        interOpNumThreads: this.options.interOpNumThreads,
      },
    };
  }

  /**
   * Logits of each sequence, in order. Records `queue_wait` (arrival → a session started the
   * batch), `result_wait` (batch done → this thread took the result: event-loop lag) and the
   * `batch_size` attribute in the current turn trace (the caller's: workers run outside its async
   * context, so timings travel back with the results); the NLU pipeline records `inference`
   * (padding + session.run) from the returned timings.
   */
  async run(sequences: readonly (readonly number[])[]): Promise<LogitsResult> {
    if (this.closed) throw new PoolClosedError();
    const k = sequences.length;
    if (k === 0) throw new Error('InferencePool.run: no sequences');
    for (const s of sequences) if (s.length === 0) throw new Error('InferencePool.run: every sequence needs at least one token');
    const trace = currentTrace();
    if (k === 1) {
      // One message per turn is the common case: no Promise.all, no per-batch bookkeeping.
      const seq = sequences[0]!;
      const key = this.cache.enabled ? predictionKey(seq) : undefined;
      const hit = key === undefined ? undefined : this.cache.get(key);
      if (hit) return this.cachedResult([hit], sequences, trace);
      this.admit(1);
      const r = await this.enqueue(seq, key);
      trace?.record('queue_wait', r.queueMs);
      if (r.networkMs !== undefined) trace?.record('network', r.networkMs);
      trace?.record('result_wait', r.resultWaitMs);
      trace?.setAttribute('batch_size', r.batchSize);
      return {
        logits: [r.logits],
        numLabels: r.cols,
        batchSize: 1,
        seqLen: sequences[0]!.length,
        timings: { padMs: r.padMs, inferenceMs: r.inferenceMs },
      };
    }
    // Answered from the cache where it can; only the rest go to the model.
    const keys = this.cache.enabled ? sequences.map(predictionKey) : undefined;
    const cached = keys ? keys.map((key) => this.cache.get(key)) : undefined;
    const missing: number[] = [];
    for (let i = 0; i < k; i++) if (!cached?.[i]) missing.push(i);
    if (missing.length === 0) return this.cachedResult(cached as Float32Array[], sequences, trace);
    this.admit(missing.length);
    const results = await Promise.all(missing.map((i) => this.enqueue(sequences[i]!, keys?.[i])));
    const logits: Float32Array[] = new Array(k);
    for (let i = 0; i < k; i++) logits[i] = cached?.[i] as Float32Array;
    missing.forEach((i, j) => (logits[i] = results[j]!.logits));

    const first = results[0]!;
    let padMs = 0;
    let inferenceMs = 0;
    let networkMs: number | undefined;
    let queueMs = 0;
    let resultWaitMs = 0;
    let batchSize = 0;
    const seen = new Set<number>();
    for (const r of results) {
      queueMs = Math.max(queueMs, r.queueMs);
      resultWaitMs = Math.max(resultWaitMs, r.resultWaitMs);
      batchSize = Math.max(batchSize, r.batchSize);
      if (seen.has(r.batchId)) continue;
      seen.add(r.batchId);
      padMs += r.padMs;
      inferenceMs += r.inferenceMs;
      if (r.networkMs !== undefined) networkMs = (networkMs ?? 0) + r.networkMs;
    }
    trace?.record('queue_wait', queueMs);
    if (networkMs !== undefined) trace?.record('network', networkMs);
    trace?.record('result_wait', resultWaitMs);
    trace?.setAttribute('batch_size', batchSize);
    if (cached) trace?.setAttribute('inference_cache_hits', k - missing.length);
    return {
      logits,
      numLabels: first.cols,
      batchSize: k,
      seqLen: Math.max(...sequences.map((s) => s.length)),
      timings: { padMs, inferenceMs },
    };
  }

  /** Room in the queue for `k` more requests, or BusyError (counted). */
  private admit(k: number): void {
    // An oversized request (more rows than the queue holds) is only admitted into an empty queue.
    if (this.pending.length + k > Math.max(this.queueMax, k)) {
      this.counts.busy += 1;
      this.notifyRequest({ outcome: 'busy', totalMs: 0 });
      throw new BusyError(`inference queue is full (${this.pending.length}/${this.queueMax} waiting)`);
    }
  }

  /** Every sequence answered from the prediction cache: no model time, nothing queued. */
  private cachedResult(logits: Float32Array[], sequences: readonly (readonly number[])[], trace: ReturnType<typeof currentTrace>): LogitsResult {
    trace?.setAttribute('inference_cache_hits', logits.length);
    let seqLen = 0;
    for (const s of sequences) if (s.length > seqLen) seqLen = s.length;
    return { logits, numLabels: logits[0]!.length, batchSize: logits.length, seqLen, timings: { padMs: 0, inferenceMs: 0 } };
  }

  /**
   * Stops: waiting requests fail with PoolClosedError, running batches finish (up to
   * `drainMs`), then the sessions are released.
   */
  async close(drainMs = 5000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.delayTimer);
    for (const t of this.restartTimers) clearTimeout(t);
    this.restartTimers.clear();
    for (const item of this.pending.splice(0)) this.settleReject(item, new PoolClosedError(), 'closed');
    if (this.inFlight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, drainMs);
        this.idleWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    const slots = this.slots.splice(0);
    for (const s of slots) clearTimeout(s.watchdog);
    // Retired threads still in a batch past drainMs are left to end on their own (never terminated).
    await Promise.all([...slots.map((s) => s.executor), ...this.retired].map((e) => e.close(drainMs)));
    // Requests still unanswered keep their deadline; otherwise no timer outlives the pool.
    this.armDeadline();
  }

  /**
   * Takes session `index` (0-based among live ones) out of rotation, as the hang watchdog does:
   * tests and chaos drills. Its in-flight batch is retried (once) elsewhere, a replacement starts,
   * and the old thread ends by itself once its batch returns.
   */
  async killSession(index = 0, reason = 'killed'): Promise<void> {
    const slot = this.slots[index];
    if (!slot) throw new Error(`no live session #${index}`);
    this.retire(slot, reason);
    await Promise.resolve();
  }

  /** Fault injection for tests (worker sessions only); `ms` for `slow_next_run`. */
  debugSession(index: number, action: DebugAction, ms?: number): void {
    const slot = this.slots[index];
    if (!slot) throw new Error(`no live session #${index}`);
    slot.executor.debug(action, ms);
  }

  // --- start-up -----------------------------------------------------------------------------

  private async start(requested: ProviderRequest): Promise<void> {
    let first: Executor;
    try {
      first = await this.startExecutor(requested);
    } catch (err) {
      if (requested === 'cpu') throw err;
      const reason = err instanceof Error ? err.message : String(err);
      // If CPU fails too, the model itself is the problem: that error is thrown, no fallback.
      first = await this.startExecutor('cpu');
      this.sessionProvider = 'cpu';
      this.fallback = { requested, reason };
      this.logger.warn(
        { requested, reason },
        `inference provider "${requested}" could not be used; running on CPU instead`,
      );
    }
    this.providerInUse = first.provider;
    const rest = await Promise.allSettled(
      Array.from({ length: this.configured - 1 }, () => this.startExecutor(this.sessionProvider)),
    );
    const executors = [first, ...rest.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))];
    const failed = rest.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await Promise.all(executors.map((e) => e.close()));
      throw failed.reason;
    }
    try {
      await Promise.all(executors.map((e) => this.warm(e)));
    } catch (err) {
      await Promise.all(executors.map((e) => e.close()));
      throw err;
    }
    for (const e of executors) this.slots.push({ executor: e, batches: [] });
    this.logger.info(
      {
        provider: this.providerInUse,
        sessions: this.slots.length,
        mode: this.options.executorFactory?.mode ?? (this.useWorkers ? 'worker' : 'thread'),
        ...this.limits,
        maxDelayMs: this.maxDelayMs,
        queueMax: this.queueMax,
      },
      'inference pool ready',
    );
  }

  private startExecutor(provider: ProviderRequest): Promise<Executor> {
    const init: SessionInit = {
      modelPath: this.options.modelPath,
      padTokenId: this.options.padTokenId,
      provider,
      intraOpNumThreads: this.options.intraOpNumThreads,
      interOpNumThreads: this.options.interOpNumThreads,
      cudaInstalled: this.options.cudaInstalled,
      graphOptimizationLevel: this.options.graphOptimizationLevel,
    };
    const id = this.nextExecutorId++;
    const onExit: ExitListener = (executor, reason, expected) => this.onExecutorExit(executor, reason, expected);
    if (this.options.executorFactory) return this.options.executorFactory.start(id, onExit);
    return this.useWorkers ? WorkerExecutor.start(id, init, onExit) : ThreadExecutor.start(id, init, onExit);
  }

  /** Runs each power-of-two batch size (and maxBatchSize) at each warm-up length once. */
  private async warm(executor: Executor): Promise<void> {
    if (!this.warmSeqLens) return;
    const sizes: number[] = [];
    for (let b = 1; b < this.limits.maxBatchSize; b *= 2) sizes.push(b);
    sizes.push(this.limits.maxBatchSize);
    for (const len of this.warmSeqLens) {
      for (const b of sizes) {
        if (b * len > this.limits.maxBatchTokens && b > 1) continue;
        const seq = new Array<number>(len).fill(this.options.padTokenId);
        await executor.run(packBatch(new Array(b).fill(seq)));
      }
    }
  }

  // --- queue and dispatch -------------------------------------------------------------------

  private enqueue(seq: readonly number[], key: string | undefined): Promise<ItemResult> {
    return new Promise<ItemResult>((resolve, reject) => {
      const enqueuedAt = performance.now();
      const item: Item = { seq, key, len: seq.length, enqueuedAt, deadline: enqueuedAt + this.timeoutMs, attempts: 0, settled: false, resolve, reject };
      this.deadlines.push(item);
      if (!this.deadlineTimer) this.armDeadline();
      this.pending.push(item);
      this.schedulePump();
    });
  }

  /**
   * One timer for every request's deadline. Deadlines are arrival + timeoutMs, so arrival order is
   * deadline order (a retried request keeps its first arrival): the timer only ever waits for the
   * oldest unsettled request, and settled ones are dropped from the head as it passes.
   */
  private armDeadline(): void {
    clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    this.dropSettledDeadlines();
    const head = this.deadlines[this.deadlineHead];
    if (!head) {
      this.deadlines.length = 0;
      this.deadlineHead = 0;
      return;
    }
    this.deadlineTimer = setTimeout(() => this.onDeadline(), Math.max(0, head.deadline - performance.now()));
  }

  /** Forgets answered requests at the head of the deadline list (they would otherwise wait there up to timeoutMs). */
  private dropSettledDeadlines(): void {
    while (this.deadlineHead < this.deadlines.length && this.deadlines[this.deadlineHead]!.settled) this.deadlineHead++;
    if (this.deadlineHead > 1024 && this.deadlineHead * 2 > this.deadlines.length) {
      this.deadlines.splice(0, this.deadlineHead);
      this.deadlineHead = 0;
    }
  }

  private onDeadline(): void {
    const now = performance.now();
    for (let i = this.deadlineHead; i < this.deadlines.length; i++) {
      const item = this.deadlines[i]!;
      if (item.deadline > now) break;
      this.onTimeout(item);
    }
    this.armDeadline();
  }

  private schedulePump(): void {
    if (this.pumpScheduled || this.closed) return;
    this.pumpScheduled = true;
    // A microtask: runs as soon as the current callback is done, not after every other I/O callback
    // of this loop turn (a busy server's event loop would add its lag to every request). Requests
    // queued by the same callback (e.g. callers resuming after a batch) still batch together, and
    // while all sessions are busy requests accumulate anyway.
    queueMicrotask(() => this.pump());
  }

  /** How many batches a slot may hold: the one running and, for workers, the next ones. */
  private depthOf(slot: Slot): number {
    return this.pipelineDepth ?? (slot.executor.kind === 'worker' ? 2 : 1);
  }

  /** The least loaded slot with room for a batch (idle ones first), or undefined. */
  private freeSlot(): Slot | undefined {
    let best: Slot | undefined;
    for (const s of this.slots) {
      if (s.batches.length >= this.depthOf(s)) continue;
      if (!best || s.batches.length < best.batches.length) best = s;
      if (s.batches.length === 0) break;
    }
    return best;
  }

  private pump(): void {
    this.pumpScheduled = false;
    if (this.closed) return;
    while (this.pending.length > 0) {
      const slot = this.freeSlot();
      if (!slot) return;
      const waited = performance.now() - this.pending[0]!.enqueuedAt;
      // maxDelayMs only holds a batch back for an idle session; a batch queued behind a running
      // one waits for that batch anyway.
      if (slot.batches.length === 0 && this.pending.length < this.limits.maxBatchSize && waited < this.maxDelayMs) {
        clearTimeout(this.delayTimer);
        this.delayTimer = setTimeout(() => this.schedulePump(), Math.max(1, Math.ceil(this.maxDelayMs - waited)));
        return;
      }
      const formStart = performance.now();
      this.dispatch(slot, takeBatch(this.pending, this.limits), formStart);
    }
  }

  private dispatch(slot: Slot, batch: Item[], formStart: number): void {
    const running: RunningBatch = { items: batch, detached: false };
    slot.batches.push(running);
    this.inFlight += batch.length;
    const batchId = this.nextBatchId++;
    for (const item of batch) {
      item.attempts += 1;
      item.owner = running;
    }
    const seqs: (readonly number[])[] = new Array(batch.length);
    for (let i = 0; i < batch.length; i++) seqs[i] = batch[i]!.seq;
    const input = packBatch(seqs);
    const seqLen = input.seqLen;
    const realTokens = input.ids.length;
    const t0 = performance.now();
    const oldestQueueMs = t0 - batch.reduce((m, i) => Math.min(m, i.enqueuedAt), t0);
    if (slot.batches.length === 1) this.armWatchdog(slot);
    const sent = { formMs: t0 - formStart, oldestQueueMs, sentAt: performance.timeOrigin + t0 };
    slot.executor.run(input).then(
      (out) => this.complete(slot, running, batchId, out, t0, seqLen, realTokens, sent),
      (err: unknown) => this.failBatch(slot, running, err),
    );
  }

  /** Times the batch at the head of the slot (the one running now): past hangMs the session is retired. */
  private armWatchdog(slot: Slot): void {
    clearTimeout(slot.watchdog);
    slot.watchdog = undefined;
    if (slot.executor.kind !== 'worker' || slot.batches.length === 0) return;
    slot.watchdog = setTimeout(() => {
      this.logger.error({ session: slot.executor.id, hangMs: this.hangMs }, 'inference session hung: retiring and replacing it');
      this.retire(slot, `hung for more than ${this.hangMs} ms`);
    }, this.hangMs);
  }

  private complete(
    slot: Slot,
    running: RunningBatch,
    batchId: number,
    out: BatchOutput,
    t0: number,
    seqLen: number,
    realTokens: number,
    sent: { formMs: number; oldestQueueMs: number; sentAt: number },
  ): void {
    const batch = running.items;
    this.release(slot, running);
    const now = performance.now();
    this.batches += 1;
    this.batchedRequests += batch.length;
    const compute = out.padMs + out.inferenceMs + (out.networkMs ?? 0);
    for (let r = 0; r < batch.length; r++) {
      const item = batch[r]!;
      if (item.settled) continue;
      // A retired worker's late answer wins over the retry still waiting in the queue.
      if (running.detached) this.dropPending(item);
      item.settled = true;
      const totalMs = now - item.enqueuedAt;
      const waiting = Math.max(0, totalMs - compute);
      const queueMs = Math.min(waiting, Math.max(0, out.startedAt - (performance.timeOrigin + item.enqueuedAt)));
      const resultWaitMs = waiting - queueMs;
      this.counts.ok += 1;
      this.notifyRequest({ outcome: 'ok', totalMs, queueMs, resultWaitMs });
      const row = out.logits.slice(r * out.cols, (r + 1) * out.cols);
      if (item.key !== undefined) this.cache.set(item.key, row);
      item.resolve({
        logits: row,
        cols: out.cols,
        batchId,
        batchSize: batch.length,
        seqLen,
        padMs: out.padMs,
        inferenceMs: out.inferenceMs,
        ...(out.networkMs !== undefined ? { networkMs: out.networkMs } : {}),
        queueMs,
        resultWaitMs,
      });
    }
    if (this.observers.length > 0) {
      const e: BatchEvent = {
        size: batch.length,
        seqLen,
        realTokens,
        padMs: out.padMs,
        inferenceMs: out.inferenceMs,
        roundtripMs: now - t0,
        session: slot.executor.id,
        ...sent,
        ...(out.receivedAt !== undefined ? { receivedAt: out.receivedAt } : {}),
        startedAt: out.startedAt,
        endedAt: out.endedAt,
        resultAt: performance.timeOrigin + now,
        deliverMs: performance.now() - now,
      };
      for (const o of this.observers) o.batch?.(e);
    }
    // Idle: no timer left behind for requests that are all answered (a retired batch's may remain).
    if (this.inFlight === 0 && this.pending.length === 0) this.armDeadline();
    else this.dropSettledDeadlines();
    this.schedulePump();
  }

  private failBatch(slot: Slot, running: RunningBatch, err: unknown): void {
    const batch = running.items;
    this.release(slot, running);
    const error = err instanceof Error ? err : new Error(String(err));
    if (running.detached) {
      // Its requests were handed on when the worker was retired; those that were not (no retry left) fail now.
      for (const item of batch) if (item.owner === running) this.settleReject(item, error, 'error');
      this.schedulePump();
      return;
    }
    const retry = error instanceof WorkerCrashedError && this.retryOnCrash && !this.closed;
    const again = batch.filter((item) => !item.settled && retry && item.attempts < 2);
    for (const item of batch) if (!again.includes(item)) this.settleReject(item, error, 'error');
    if (again.length > 0) {
      this.logger.warn({ requests: again.length, reason: error.message }, 'retrying requests of a crashed inference session');
      this.pending.unshift(...again);
    }
    this.schedulePump();
  }

  private release(slot: Slot, running: RunningBatch): void {
    if (running.detached) return; // accounted for when its worker was retired
    const i = slot.batches.indexOf(running);
    if (i >= 0) slot.batches.splice(i, 1);
    // The next batch (sent while this one ran) starts now: its own hangMs from here.
    if (i === 0) this.armWatchdog(slot);
    this.uncount(running.items.length);
  }

  private uncount(n: number): void {
    this.inFlight -= n;
    if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private dropPending(item: Item): void {
    const i = this.pending.indexOf(item);
    if (i >= 0) this.pending.splice(i, 1);
  }

  private onTimeout(item: Item): void {
    if (item.settled) return;
    this.dropPending(item);
    this.settleReject(item, new InferenceTimeoutError(this.timeoutMs), 'timeout');
  }

  private settleReject(item: Item, err: Error, outcome: Exclude<RequestOutcome, 'ok' | 'busy'>): void {
    if (item.settled) return;
    item.settled = true;
    this.counts[outcome] += 1;
    this.notifyRequest({ outcome, totalMs: performance.now() - item.enqueuedAt });
    item.reject(err);
  }

  private notifyRequest(e: Parameters<NonNullable<PoolObserver['request']>>[0]): void {
    for (const o of this.observers) o.request?.(e);
  }

  // --- faults -------------------------------------------------------------------------------

  /**
   * Out of rotation at once (no new batch goes to it), its unanswered requests back at the head of
   * the queue (once, like a crash), a replacement started. The executor finishes its batch and ends
   * by itself: a thread is never terminated, since terminating one inside onnxruntime's native
   * `session.run` aborts the whole process. Its late answers still count if they come first.
   */
  private retire(slot: Slot, reason: string): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    this.slots.splice(i, 1);
    clearTimeout(slot.watchdog);
    slot.watchdog = undefined;
    this.retired.add(slot.executor);
    // Every batch it holds (the running one and those queued behind it) goes back, oldest first.
    const again: Item[] = [];
    let allHandedOn = true;
    for (const running of slot.batches) {
      if (running.detached) continue;
      running.detached = true;
      this.uncount(running.items.length);
      for (const item of running.items) {
        if (item.settled) continue;
        if (!this.retryOnCrash || item.attempts >= 2) {
          allHandedOn = false; // only this worker's late answer can still serve it
          continue;
        }
        item.owner = undefined;
        again.push(item);
      }
    }
    slot.batches = [];
    this.pending.unshift(...again);
    if (this.closed) return;
    this.restarts += 1;
    for (const o of this.observers) o.restart?.({ reason });
    this.logger.warn(
      { session: slot.executor.id, reason, alive: this.slots.length, retired: this.retired.size },
      'inference session retired: replacing it',
    );
    // Batches it has not started need not run there when all their requests are served elsewhere.
    void slot.executor.retire({ dropUnstarted: allHandedOn });
    this.scheduleReplacement();
    this.schedulePump();
  }

  private onExecutorExit(executor: Executor, reason: string, expected: boolean): void {
    if (this.retired.delete(executor)) {
      // A retired thread ended: room for a replacement that was held back (maxRetired).
      if (!this.closed) this.scheduleReplacement();
      return;
    }
    if (expected) return;
    const i = this.slots.findIndex((s) => s.executor === executor);
    if (i >= 0) {
      clearTimeout(this.slots[i]!.watchdog);
      this.slots.splice(i, 1);
    }
    if (this.closed) return;
    this.restarts += 1;
    for (const o of this.observers) o.restart?.({ reason });
    this.logger.warn({ session: executor.id, reason, alive: this.slots.length }, 'inference session died: replacing it');
    this.scheduleReplacement();
  }

  private scheduleReplacement(): void {
    const delay = this.consecutiveStartFailures === 0 ? 0 : Math.min(10_000, 100 * 2 ** this.consecutiveStartFailures);
    const timer = setTimeout(() => {
      this.restartTimers.delete(timer);
      void this.replace();
    }, delay);
    this.restartTimers.add(timer);
  }

  private async replace(): Promise<void> {
    if (this.closed || this.slots.length + this.starting >= this.configured) return;
    if (this.retired.size > this.maxRetired) {
      this.logger.error(
        { retired: this.retired.size, maxRetired: this.maxRetired },
        'too many retired inference sessions still running: replacement waits for one to end',
      );
      return;
    }
    this.starting += 1;
    let executor: Executor | undefined;
    try {
      executor = await this.startExecutor(this.sessionProvider);
      await this.warm(executor);
    } catch (err) {
      this.starting -= 1;
      this.consecutiveStartFailures += 1;
      this.logger.error({ err, attempt: this.consecutiveStartFailures }, 'inference session failed to start: retrying');
      if (executor) void executor.close();
      if (!this.closed) this.scheduleReplacement();
      return;
    }
    this.starting -= 1;
    if (this.closed) {
      await executor.close();
      return;
    }
    this.consecutiveStartFailures = 0;
    this.slots.push({ executor, batches: [] });
    this.schedulePump();
  }
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`InferencePool: ${name} must be positive, got ${value}`);
  return value;
}
