import { readModelDir } from '../modelDir.js';
import { InferencePool } from '../pool/InferencePool.js';
import type { ModelPoolOptions } from '../pool/modelPool.js';
import { OipClient } from './oipClient.js';
import { RemoteExecutor } from './RemoteExecutor.js';

const GPT2_EOS = 50256;

export interface RemotePoolOptions extends ModelPoolOptions {
  /** Base URL of the Open Inference Protocol server (INFERENCE_URL). */
  url: string;
  /** Model name on that server (INFERENCE_MODEL_NAME). */
  modelName: string;
}

/**
 * The same batching pool as createModelPool, but each "session" is a RemoteExecutor: `sessions`
 * is how many batches may be in flight to the server at once, `timeoutMs` bounds each request
 * (the pool's deadline) and each HTTP exchange. The model dir still gives the pad id and window
 * (the tokenizer and labels stay local).
 */
export async function createRemotePool(modelDir: string, options: RemotePoolOptions): Promise<InferencePool> {
  const dir = await readModelDir(modelDir);
  const padTokenId = dir.padTokenId ?? GPT2_EOS;
  const window = Math.min(dir.maxLength ?? dir.nPositions ?? 64, dir.nPositions ?? Number.POSITIVE_INFINITY);
  const { url, modelName, ...poolOptions } = options;
  const client = new OipClient({ url, model: modelName, timeoutMs: options.timeoutMs ?? 2000 });
  return InferencePool.create({
    // Warm-up goes over the wire too: it checks the server answers at the model's window.
    warmup: { seqLens: [...new Set([Math.min(12, window), window])] },
    ...poolOptions,
    // ONNX Runtime options do not apply to a remote server.
    workers: false,
    provider: 'cpu',
    modelPath: dir.modelPath,
    padTokenId,
    executorFactory: { mode: 'remote', start: (id, onExit) => RemoteExecutor.start(id, { client, padTokenId }, onExit) },
  });
}
