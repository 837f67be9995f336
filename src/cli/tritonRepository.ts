/**
 * Writes a Triton Inference Server model repository for the NLU model (ONNX Runtime backend):
 * `<out>/<name>/1/model.onnx` and `<out>/<name>/config.pbtxt` with dynamic batching taken from
 * the pool benchmark (bench/results/inference.json) when present, else documented defaults.
 *
 *   npm run triton:repository -- [--model DIR] [--out model_repository] [--name NAME] [--bench FILE]
 *
 * Then: tritonserver --model-repository=<out>, and INFERENCE_BACKEND=remote INFERENCE_URL=http://host:8000.
 */
import { parseArgs } from 'node:util';
import { writeTritonRepository } from '../inference/remote/tritonRepository.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: process.env.MODEL_DIR ?? './models/intent-gpt2' },
    out: { type: 'string', default: 'model_repository' },
    name: { type: 'string', default: process.env.INFERENCE_MODEL_NAME },
    bench: { type: 'string', default: 'bench/results/inference.json' },
  },
});

const written = await writeTritonRepository({
  modelDir: values.model,
  outDir: values.out,
  benchFile: values.bench,
  ...(values.name ? { name: values.name } : {}),
});
process.stdout.write(`${JSON.stringify(written, null, 2)}\n`);
