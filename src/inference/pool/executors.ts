import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import type { ProviderName } from '../executionProvider.js';
import { OnnxClassifierSession } from '../onnxSession.js';
import { padPacked } from './batchInput.js';
import { InferenceFailedError, WorkerCrashedError } from './errors.js';
import { decodeResult, encodeRun, type BatchInput, type BatchOutput, type DebugAction, type FromWorker, type SessionInit, type ToWorker } from './protocol.js';

/** Runs batches on one ONNX Runtime session; the pool gives it one batch at a time. */
export interface Executor {
  readonly id: number;
  /** `remote`: batches go to an inference server (src/inference/remote); its HTTP timeout bounds a batch. */
  readonly kind: 'worker' | 'thread' | 'remote';
  readonly provider: ProviderName | 'remote';
  readonly loadMs: number;
  /** Rejects with WorkerCrashedError if the executor dies, InferenceFailedError if the model fails. */
  run(input: BatchInput): Promise<BatchOutput>;
  /**
   * Takes no more work: the batches it already has finish and are answered, then it releases its
   * session and ends by itself. Resolves when it has ended (never, if a batch never returns).
   * Nothing is ever terminated: terminating a thread inside `session.run` aborts the process.
   * `dropUnstarted`: batches it has not started may be answered with an error instead of run
   * (the pool re-queued all of their requests).
   */
  retire(options?: { dropUnstarted?: boolean }): Promise<void>;
  /** Retires it and waits at most `graceMs` for it to end; a thread still inside a batch is left to finish on its own. */
  close(graceMs?: number): Promise<void>;
  debug(action: DebugAction, ms?: number): void;
}

/** Called once when an executor ends: `expected` after retire/close, false for a crash. */
export type ExitListener = (executor: Executor, reason: string, expected: boolean) => void;

const WORKER_ENTRY = new URL('./worker-entry.mjs', import.meta.url);

/** A session in its own worker thread. */
export class WorkerExecutor implements Executor {
  readonly kind = 'worker' as const;
  private readonly inflight = new Map<number, { resolve: (o: BatchOutput) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private retiring = false;
  private dead = false;
  private readonly ended: Promise<void>;
  private markEnded!: () => void;

  private constructor(
    readonly id: number,
    private readonly worker: Worker,
    readonly provider: ProviderName,
    readonly loadMs: number,
    private readonly onExit: ExitListener,
  ) {
    this.ended = new Promise((resolve) => (this.markEnded = resolve));
    worker.on('message', (msg: FromWorker) => this.onMessage(msg));
    worker.on('error', (err) => this.die(`error: ${err.message}`));
    worker.on('exit', (code) => this.die(this.retiring ? 'retired' : `exited with code ${code}`));
  }

  static start(id: number, init: SessionInit, onExit: ExitListener): Promise<WorkerExecutor> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(WORKER_ENTRY, { workerData: init });
      let settled = false;
      // Only our own listeners are removed: Worker keeps internal ones (after removeAllListeners
      // a later 'message' listener never fires).
      const cleanup = (): void => {
        worker.off('error', onError);
        worker.off('exit', onExitEarly);
        worker.off('message', onMessage);
      };
      const fail = (message: string): void => {
        if (settled) return;
        settled = true;
        cleanup();
        // Only after the worker failed or exited: it is not inside a native call.
        void worker.terminate();
        reject(new Error(message));
      };
      const onError = (err: Error): void => fail(`inference worker failed to start: ${err.message}`);
      const onExitEarly = (code: number): void => fail(`inference worker exited during start (code ${code})`);
      const onMessage = (msg: FromWorker): void => {
        if (msg instanceof ArrayBuffer) return fail('inference worker sent a result before ready');
        if (msg.type === 'init_error') return fail(msg.message);
        if (msg.type !== 'ready') return fail(`inference worker sent ${msg.type} before ready`);
        settled = true;
        cleanup();
        // A pool nobody closed must not keep the process alive; pending requests hold their own timers.
        worker.unref();
        resolve(new WorkerExecutor(id, worker, msg.provider, msg.loadMs, onExit));
      };
      worker.on('error', onError);
      worker.on('exit', onExitEarly);
      worker.on('message', onMessage);
    });
  }

  run(input: BatchInput): Promise<BatchOutput> {
    if (this.dead || this.retiring) return Promise.reject(new WorkerCrashedError(`worker ${this.id} is gone`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.inflight.set(id, { resolve, reject });
      const wire = encodeRun(id, input);
      this.worker.postMessage(wire satisfies ToWorker, [wire.buffer as ArrayBuffer]);
    });
  }

  debug(action: DebugAction, ms?: number): void {
    const msg: ToWorker = { type: 'debug', action, ...(ms !== undefined ? { ms } : {}) };
    this.worker.postMessage(msg);
  }

  retire(options: { dropUnstarted?: boolean } = {}): Promise<void> {
    if (!this.dead && !this.retiring) {
      this.retiring = true;
      // The worker answers what it already has, releases the session and closes its port: the thread ends by itself.
      const msg: ToWorker = { type: 'close', ...(options.dropUnstarted ? { dropUnstarted: true } : {}) };
      this.worker.postMessage(msg);
    }
    return this.ended;
  }

  async close(graceMs = 5000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.retire(), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    // Still running after the grace period (a batch that never returns): left alone, unref'd, so
    // it does not keep the process up; terminating it could abort the process.
  }

  private onMessage(msg: FromWorker): void {
    if (msg instanceof ArrayBuffer) {
      const { id, output } = decodeResult(msg);
      const pending = this.inflight.get(id);
      if (!pending) return;
      this.inflight.delete(id);
      pending.resolve(output);
      return;
    }
    if (msg.type !== 'error') return;
    const pending = this.inflight.get(msg.id);
    if (!pending) return;
    this.inflight.delete(msg.id);
    pending.reject(new InferenceFailedError(msg.message));
  }

  private die(reason: string): void {
    if (this.dead) return;
    this.dead = true;
    const err = new WorkerCrashedError(`worker ${this.id} ${reason}`);
    for (const p of this.inflight.values()) p.reject(err);
    this.inflight.clear();
    this.markEnded();
    this.onExit(this, reason, this.retiring && reason === 'retired');
  }
}

/**
 * A session on the main thread. onnxruntime-node runs it synchronously: the event loop is blocked
 * for each batch and several such sessions never overlap. Kept for comparison (bench) and for
 * providers where a worker brings nothing.
 */
export class ThreadExecutor implements Executor {
  readonly kind = 'thread' as const;
  private retiring = false;
  private current?: Promise<unknown>;
  private ended?: Promise<void>;

  private constructor(
    readonly id: number,
    private readonly session: OnnxClassifierSession,
    private readonly onExit: ExitListener,
  ) {}

  get provider(): ProviderName {
    return this.session.provider;
  }

  get loadMs(): number {
    return this.session.loadMs;
  }

  static async start(id: number, init: SessionInit, onExit: ExitListener): Promise<ThreadExecutor> {
    const session = await OnnxClassifierSession.load(init.modelPath, {
      provider: init.provider,
      padTokenId: init.padTokenId,
      intraOpNumThreads: init.intraOpNumThreads,
      interOpNumThreads: init.interOpNumThreads,
      cudaInstalled: init.cudaInstalled,
      graphOptimizationLevel: init.graphOptimizationLevel,
    });
    return new ThreadExecutor(id, session, onExit);
  }

  run(input: BatchInput): Promise<BatchOutput> {
    if (this.retiring) return Promise.reject(new WorkerCrashedError(`session ${this.id} is retired`));
    const run = this.runNow(input);
    this.current = run.catch(() => undefined);
    return run;
  }

  private async runNow(input: BatchInput): Promise<BatchOutput> {
    const t0 = performance.now();
    const batch = padPacked(input, this.session.padTokenId);
    const padMs = performance.now() - t0;
    let out;
    try {
      out = await this.session.runBatchFlat(batch);
    } catch (err) {
      throw new InferenceFailedError(err instanceof Error ? err.message : String(err));
    }
    return {
      logits: out.data,
      rows: out.batchSize,
      cols: out.cols,
      padMs,
      inferenceMs: out.inferenceMs,
      startedAt: performance.timeOrigin + t0,
      endedAt: performance.timeOrigin + performance.now(),
    };
  }

  debug(): void {
    // No fault injection for in-thread sessions.
  }

  retire(): Promise<void> {
    if (!this.ended) {
      this.retiring = true;
      // The batch it is running finishes first; the session is released after it.
      this.ended = Promise.resolve(this.current)
        .then(() => this.session.close())
        .catch(() => undefined)
        .finally(() => this.onExit(this, 'retired', true));
    }
    return this.ended;
  }

  async close(): Promise<void> {
    await this.retire();
  }
}
