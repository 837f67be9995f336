import { stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { chooseProvider, type ProviderName, type ProviderRequest } from './executionProvider.js';
import { padBatch, type EncodedBatch } from './tokenizer.js';

export interface InferenceTimings {
  /** Building the padded int64 tensors. */
  padMs: number;
  /** `session.run` itself. */
  inferenceMs: number;
}

export interface LogitsResult {
  /** One row of `numLabels` logits per input sequence, in input order. */
  logits: Float32Array[];
  numLabels: number;
  batchSize: number;
  seqLen: number;
  timings: InferenceTimings;
}

/**
 * Anything that turns token-id sequences into logits. The ONNX session implements it directly; a
 * batching pool (several sessions, cuda/webgpu, requests from many turns merged into one batch) can
 * implement it by wrapping sessions, and the NLU pipeline does not notice the difference.
 */
export interface LogitsRunner {
  readonly provider: string;
  run(sequences: readonly (readonly number[])[]): Promise<LogitsResult>;
  close(): Promise<void>;
}

export interface OnnxSessionOptions {
  provider?: ProviderRequest;
  /** Right-padding id (GPT-2: 50256). */
  padTokenId: number;
  /** ORT intra-op threads; default: ORT's choice (all cores). */
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /** With provider `auto`: whether CUDA libraries were installed for onnxruntime-node. */
  cudaInstalled?: boolean;
  deviceId?: number;
}

const REQUIRED_INPUTS = ['input_ids', 'attention_mask'] as const;

/** An onnxruntime session over a sequence-classification model: ids → logits [batch, numLabels]. */
export class OnnxClassifierSession implements LogitsRunner {
  private closed = false;

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly provider: ProviderName,
    readonly padTokenId: number,
    readonly outputName: string,
    /** Number of labels if the model declares it statically, else learned on the first run. */
    private declaredLabels: number | undefined,
    readonly loadMs: number,
    readonly modelPath: string,
  ) {}

  static async load(modelPath: string, options: OnnxSessionOptions): Promise<OnnxClassifierSession> {
    try {
      await stat(modelPath);
    } catch {
      throw new Error(`ONNX model not found: ${modelPath}`);
    }
    const choice = chooseProvider(options.provider ?? 'cpu', {
      cudaInstalled: options.cudaInstalled,
      deviceId: options.deviceId,
    });
    const t0 = performance.now();
    const session = await ort.InferenceSession.create(modelPath, {
      executionProviders: choice.executionProviders,
      graphOptimizationLevel: options.graphOptimizationLevel ?? 'all',
      // Warnings only (e.g. "some nodes were not assigned to the preferred provider") would go to stderr.
      logSeverityLevel: 3,
      ...(options.intraOpNumThreads !== undefined ? { intraOpNumThreads: options.intraOpNumThreads } : {}),
      ...(options.interOpNumThreads !== undefined ? { interOpNumThreads: options.interOpNumThreads } : {}),
    });
    const loadMs = performance.now() - t0;
    const missing = REQUIRED_INPUTS.filter((n) => !session.inputNames.includes(n));
    const extra = session.inputNames.filter((n) => !(REQUIRED_INPUTS as readonly string[]).includes(n));
    if (missing.length > 0 || extra.length > 0) {
      await session.release();
      throw new Error(
        `${modelPath}: expected inputs ${REQUIRED_INPUTS.join(', ')}, model has ${session.inputNames.join(', ')}`,
      );
    }
    const outputName = session.outputNames.includes('logits') ? 'logits' : session.outputNames[0];
    if (outputName === undefined) {
      await session.release();
      throw new Error(`${modelPath}: model has no outputs`);
    }
    const meta = session.outputMetadata.find((m) => m.name === outputName);
    const lastDim = meta?.isTensor ? meta.shape[meta.shape.length - 1] : undefined;
    return new OnnxClassifierSession(
      session,
      choice.name,
      options.padTokenId,
      outputName,
      typeof lastDim === 'number' && lastDim > 0 ? lastDim : undefined,
      loadMs,
      modelPath,
    );
  }

  /** Label count from the model's output shape (undefined until known if the axis is dynamic). */
  get numLabels(): number | undefined {
    return this.declaredLabels;
  }

  async run(sequences: readonly (readonly number[])[]): Promise<LogitsResult> {
    const t0 = performance.now();
    const batch = padBatch(sequences, this.padTokenId);
    const padMs = performance.now() - t0;
    const out = await this.runBatch(batch);
    return { ...out, timings: { padMs, inferenceMs: out.timings.inferenceMs } };
  }

  /** Runs an already padded batch. */
  async runBatch(batch: EncodedBatch): Promise<LogitsResult> {
    const out = await this.runBatchFlat(batch);
    const { data, cols } = out;
    const logits: Float32Array[] = [];
    for (let r = 0; r < out.batchSize; r++) logits.push(data.slice(r * cols, (r + 1) * cols));
    return { logits, numLabels: cols, batchSize: out.batchSize, seqLen: out.seqLen, timings: { padMs: 0, inferenceMs: out.inferenceMs } };
  }

  /**
   * Runs an already padded batch and returns the logits as one row-major [batchSize, cols] array
   * of its own (no per-row copies: a worker transfers it to the pool as it is).
   */
  async runBatchFlat(batch: EncodedBatch): Promise<{ data: Float32Array; cols: number; batchSize: number; seqLen: number; inferenceMs: number }> {
    if (this.closed) throw new Error('OnnxClassifierSession is closed');
    const dims = [batch.batchSize, batch.seqLen];
    const feeds = {
      input_ids: new ort.Tensor('int64', batch.inputIds, dims),
      attention_mask: new ort.Tensor('int64', batch.attentionMask, dims),
    };
    const t0 = performance.now();
    const result = await this.session.run(feeds, [this.outputName]);
    const inferenceMs = performance.now() - t0;
    const out = result[this.outputName];
    if (!out || !(out instanceof ort.Tensor)) throw new Error(`model returned no "${this.outputName}" tensor`);
    if (out.type !== 'float32') throw new Error(`expected float32 logits, got ${out.type}`);
    const [rows, cols] = out.dims;
    if (out.dims.length !== 2 || rows !== batch.batchSize || cols === undefined) {
      throw new Error(`expected logits of shape [${batch.batchSize}, labels], got [${out.dims.join(', ')}]`);
    }
    this.declaredLabels ??= cols;
    const raw = out.data as Float32Array;
    // A view of exactly [rows, cols] in a buffer of its own (transferable without copying more).
    const data = raw.byteOffset === 0 && raw.byteLength === raw.buffer.byteLength ? raw : raw.slice(0, rows * cols);
    return { data, cols, batchSize: batch.batchSize, seqLen: batch.seqLen, inferenceMs };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.session.release();
  }
}
