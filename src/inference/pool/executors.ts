import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import type { ProviderName } from '../executionProvider.js';
import { OnnxClassifierSession } from '../onnxSession.js';
import { flattenRows, padPacked } from './batchInput.js';
import { InferenceFailedError, WorkerCrashedError } from './errors.js';
import type { BatchInput, BatchOutput, DebugAction, FromWorker, SessionInit, ToWorker } from './protocol.js';

/** Runs batches on one ONNX Runtime session; the pool gives it one batch at a time. */
export interface Executor {
  readonly id: number;
  readonly kind: 'worker' | 'thread';
  readonly provider: ProviderName;
  readonly loadMs: number;
  /** Rejects with WorkerCrashedError if the executor dies, InferenceFailedError if the model fails. */
  run(input: BatchInput): Promise<BatchOutput>;
  /** Stops it for good (no exit callback). */
  close(): Promise<void>;
  /** Kills it as if it had crashed: in-flight runs reject with WorkerCrashedError, the exit listener fires. */
  kill(reason: string): Promise<void>;
  debug(action: DebugAction): void;
}

export type ExitListener = (executor: Executor, reason: string) => void;

const WORKER_ENTRY = new URL('./worker-entry.mjs', import.meta.url);

/** A session in its own worker thread. */
export class WorkerExecutor implements Executor {
  readonly kind = 'worker' as const;
  private readonly inflight = new Map<number, { resolve: (o: BatchOutput) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private closing = false;
  private dead = false;
  private killReason?: string;

  private constructor(
    readonly id: number,
    private readonly worker: Worker,
    readonly provider: ProviderName,
    readonly loadMs: number,
    private readonly onExit: ExitListener,
  ) {
    worker.on('message', (msg: FromWorker) => this.onMessage(msg));
    worker.on('error', (err) => this.die(`error: ${err.message}`));
    worker.on('exit', (code) => this.die(this.killReason ?? `exited with code ${code}`));
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
        void worker.terminate();
        reject(new Error(message));
      };
      const onError = (err: Error): void => fail(`inference worker failed to start: ${err.message}`);
      const onExitEarly = (code: number): void => fail(`inference worker exited during start (code ${code})`);
      const onMessage = (msg: FromWorker): void => {
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
    if (this.dead) return Promise.reject(new WorkerCrashedError(`worker ${this.id} is gone`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.inflight.set(id, { resolve, reject });
      const msg: ToWorker = { type: 'run', id, input };
      this.worker.postMessage(msg, [input.ids.buffer as ArrayBuffer, input.lengths.buffer as ArrayBuffer]);
    });
  }

  debug(action: DebugAction): void {
    const msg: ToWorker = { type: 'debug', action };
    this.worker.postMessage(msg);
  }

  async kill(reason: string): Promise<void> {
    if (this.dead) return;
    this.killReason = reason;
    await this.worker.terminate();
  }

  async close(): Promise<void> {
    if (this.dead) return;
    this.closing = true;
    await this.worker.terminate();
  }

  private onMessage(msg: FromWorker): void {
    if (msg.type !== 'result' && msg.type !== 'error') return;
    const pending = this.inflight.get(msg.id);
    if (!pending) return;
    this.inflight.delete(msg.id);
    if (msg.type === 'result') pending.resolve(msg.output);
    else pending.reject(new InferenceFailedError(msg.message));
  }

  private die(reason: string): void {
    if (this.dead) return;
    this.dead = true;
    const err = new WorkerCrashedError(`worker ${this.id} ${reason}`);
    for (const p of this.inflight.values()) p.reject(err);
    this.inflight.clear();
    if (!this.closing) this.onExit(this, reason);
  }
}

/**
 * A session on the main thread. onnxruntime-node runs it synchronously: the event loop is blocked
 * for each batch and several such sessions never overlap. Kept for comparison (bench) and for
 * providers where a worker brings nothing.
 */
export class ThreadExecutor implements Executor {
  readonly kind = 'thread' as const;
  private dead = false;

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

  async run(input: BatchInput): Promise<BatchOutput> {
    if (this.dead) throw new WorkerCrashedError(`session ${this.id} is gone`);
    const t0 = performance.now();
    const batch = padPacked(input, this.session.padTokenId);
    const padMs = performance.now() - t0;
    let out;
    try {
      out = await this.session.runBatch(batch);
    } catch (err) {
      if (this.dead) throw new WorkerCrashedError(`session ${this.id} was closed during the run`);
      throw new InferenceFailedError(err instanceof Error ? err.message : String(err));
    }
    return {
      logits: flattenRows(out.logits, out.numLabels),
      rows: out.batchSize,
      cols: out.numLabels,
      padMs,
      inferenceMs: out.timings.inferenceMs,
      startedAt: performance.timeOrigin + t0,
      endedAt: performance.timeOrigin + performance.now(),
    };
  }

  debug(): void {
    // No fault injection for in-thread sessions.
  }

  async kill(reason: string): Promise<void> {
    if (this.dead) return;
    this.dead = true;
    await this.session.close();
    this.onExit(this, reason);
  }

  async close(): Promise<void> {
    if (this.dead) return;
    this.dead = true;
    await this.session.close();
  }
}
