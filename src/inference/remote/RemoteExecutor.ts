import { performance } from 'node:perf_hooks';
import { padPacked } from '../pool/batchInput.js';
import { InferenceFailedError, WorkerCrashedError } from '../pool/errors.js';
import type { Executor, ExitListener } from '../pool/executors.js';
import type { BatchInput, BatchOutput } from '../pool/protocol.js';
import type { OipClient } from './oipClient.js';
import { flatNumbers, type InferenceRequest, type ModelMetadata } from './oipSchema.js';

/** The model's tensors as the NLU exports them (see the model card). */
export const INPUT_NAMES = ['input_ids', 'attention_mask'] as const;
export const OUTPUT_NAME = 'logits';

/**
 * Response `parameters` key under which a server may report its own compute time for the batch
 * (our `inference:serve` does; Triton, KServe and MLServer do not, then the round trip counts).
 */
export const SERVER_INFERENCE_MS = 'inference_ms';

export interface RemoteExecutorOptions {
  client: OipClient;
  padTokenId: number;
}

/**
 * Stands where an ONNX Runtime session stands in the pool, but sends each batch to an Open
 * Inference Protocol server (POST /v2/models/{name}/infer, INT64 ids and mask as JSON numbers).
 * The pool keeps batching, deadlines, the queue bound and retries; this only moves the batch.
 */
export class RemoteExecutor implements Executor {
  readonly kind = 'remote' as const;
  readonly provider = 'remote' as const;
  private inflight = 0;
  private retiring = false;
  private ended?: Promise<void>;
  private markEnded?: () => void;

  private constructor(
    readonly id: number,
    private readonly client: OipClient,
    private readonly padTokenId: number,
    private readonly outputName: string,
    readonly loadMs: number,
    private readonly onExit: ExitListener,
  ) {}

  /** Checks the server is ready and serves a model with our inputs and output, then resolves. */
  static async start(id: number, options: RemoteExecutorOptions, onExit: ExitListener): Promise<RemoteExecutor> {
    const t0 = performance.now();
    const { client } = options;
    if (!(await client.serverReady())) throw new Error(`inference server ${client.baseUrl} is not ready (GET /v2/health/ready)`);
    if (!(await client.modelReady())) throw new Error(`model "${client.model}" is not ready on ${client.baseUrl}`);
    const outputName = checkMetadata(await client.metadata(), client);
    return new RemoteExecutor(id, client, options.padTokenId, outputName, performance.now() - t0, onExit);
  }

  async run(input: BatchInput): Promise<BatchOutput> {
    if (this.retiring) throw new WorkerCrashedError(`remote session ${this.id} is retired`);
    this.inflight += 1;
    try {
      return await this.runNow(input);
    } finally {
      this.inflight -= 1;
      if (this.retiring && this.inflight === 0) this.markEnded?.();
    }
  }

  private async runNow(input: BatchInput): Promise<BatchOutput> {
    const t0 = performance.now();
    const batch = padPacked(input, this.padTokenId);
    const shape = [batch.batchSize, batch.seqLen];
    const request: InferenceRequest = {
      inputs: [
        { name: 'input_ids', shape, datatype: 'INT64', data: Array.from(batch.inputIds, Number) },
        { name: 'attention_mask', shape, datatype: 'INT64', data: Array.from(batch.attentionMask, Number) },
      ],
      outputs: [{ name: this.outputName }],
    };
    const padMs = performance.now() - t0;
    const { response, roundtripMs } = await this.client.infer(request);
    const out = response.outputs.find((o) => o.name === this.outputName);
    if (!out) throw new InferenceFailedError(`server returned no "${this.outputName}" output`);
    if (out.datatype !== 'FP32') throw new InferenceFailedError(`expected FP32 ${this.outputName}, got ${out.datatype}`);
    const [rows, cols] = out.shape;
    if (out.shape.length !== 2 || rows !== batch.batchSize || cols === undefined || cols < 1) {
      throw new InferenceFailedError(`expected ${this.outputName} of shape [${batch.batchSize}, labels], got [${out.shape.join(', ')}]`);
    }
    let logits: Float32Array;
    try {
      logits = Float32Array.from(flatNumbers(out.data, out.shape, this.outputName));
    } catch (err) {
      throw new InferenceFailedError((err as Error).message);
    }
    const reported = response.parameters?.[SERVER_INFERENCE_MS];
    const serverMs = typeof reported === 'number' && Number.isFinite(reported) && reported >= 0 ? Math.min(reported, roundtripMs) : undefined;
    const endedAt = performance.timeOrigin + performance.now();
    return {
      logits,
      rows,
      cols,
      padMs,
      // Without a server-reported time the whole round trip is the inference as seen from here.
      inferenceMs: serverMs ?? roundtripMs,
      ...(serverMs !== undefined ? { networkMs: roundtripMs - serverMs } : {}),
      startedAt: performance.timeOrigin + t0,
      endedAt,
    };
  }

  debug(): void {
    // No fault injection: stop the server to test faults.
  }

  retire(): Promise<void> {
    if (!this.ended) {
      this.retiring = true;
      this.ended = new Promise<void>((resolve) => {
        this.markEnded = resolve;
        if (this.inflight === 0) resolve();
      }).then(() => this.onExit(this, 'retired', true));
    }
    return this.ended;
  }

  async close(graceMs = 5000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.retire(), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
  }
}

/** The output to ask for; throws when the model's inputs are not ours (names and INT64). */
function checkMetadata(meta: ModelMetadata, client: OipClient): string {
  for (const name of INPUT_NAMES) {
    const t = meta.inputs.find((i) => i.name === name);
    if (!t) throw new Error(`model "${client.model}" on ${client.baseUrl} has no input "${name}" (has ${meta.inputs.map((i) => i.name).join(', ')})`);
    if (t.datatype !== 'INT64') throw new Error(`input "${name}" of model "${client.model}" is ${t.datatype}, expected INT64`);
  }
  const out = meta.outputs.find((o) => o.name === OUTPUT_NAME) ?? meta.outputs[0];
  if (!out) throw new Error(`model "${client.model}" on ${client.baseUrl} has no outputs`);
  if (out.datatype !== 'FP32') throw new Error(`output "${out.name}" of model "${client.model}" is ${out.datatype}, expected FP32`);
  return out.name;
}
