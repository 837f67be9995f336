import { readModelDir } from '../modelDir.js';
import { InferencePool, type InferencePoolOptions } from './InferencePool.js';

const GPT2_EOS = 50256;

export type ModelPoolOptions = Omit<InferencePoolOptions, 'modelPath' | 'padTokenId'>;

/**
 * A pool over a model directory's model.onnx, with the card's pad id; warm-up runs at a short
 * length and at the model's window (max_length / n_positions), so the first users are not slow.
 */
export async function createModelPool(modelDir: string, options: ModelPoolOptions = {}): Promise<InferencePool> {
  const dir = await readModelDir(modelDir);
  const window = Math.min(dir.maxLength ?? dir.nPositions ?? 64, dir.nPositions ?? Number.POSITIVE_INFINITY);
  return InferencePool.create({
    warmup: { seqLens: [...new Set([Math.min(12, window), window])] },
    ...options,
    modelPath: dir.modelPath,
    padTokenId: dir.padTokenId ?? GPT2_EOS,
  });
}
