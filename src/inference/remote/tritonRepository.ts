import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readModelDir } from '../modelDir.js';
import { INPUT_NAMES, OUTPUT_NAME } from './RemoteExecutor.js';

/** Triton's dynamic batcher settings (config.pbtxt `max_batch_size` and `dynamic_batching`). */
export interface TritonBatching {
  maxBatchSize: number;
  preferredBatchSizes: number[];
  maxQueueDelayMicroseconds: number;
  /** Where the numbers came from (written as a comment into config.pbtxt). */
  source: string;
}

/**
 * Used when no pool benchmark result is there: the pool's own batch default (32), batch sizes from
 * 8 up (where per-request cost flattened in every measurement so far) and 100 µs of waiting.
 */
export const DEFAULT_TRITON_BATCHING: TritonBatching = {
  maxBatchSize: 32,
  preferredBatchSizes: [8, 16, 32],
  maxQueueDelayMicroseconds: 100,
  source: 'documented defaults (no bench/results/inference.json)',
};

/** A preferred size costs at most this much more per request than the cheapest size measured. */
const PREFERRED_WITHIN = 1.2;

interface BenchResults {
  best_config?: { label?: string; env?: Record<string, unknown> };
  batch_cost?: { batch?: unknown; msPerRequest?: unknown }[];
}

/**
 * Batching from `npm run bench:inference` results: max_batch_size and the queue delay are the best
 * pool configuration's INFERENCE_MAX_BATCH and INFERENCE_MAX_DELAY_MS; preferred sizes are the
 * measured batch sizes (up to max) whose cost per request is within 20 % of the cheapest one.
 * Undefined when the file does not hold those fields.
 */
export function batchingFromBench(results: unknown, file = 'bench/results/inference.json'): TritonBatching | undefined {
  const r = results as BenchResults;
  const env = r?.best_config?.env;
  const maxBatch = Number(env?.INFERENCE_MAX_BATCH);
  const delayMs = Number(env?.INFERENCE_MAX_DELAY_MS ?? 0);
  if (!Number.isInteger(maxBatch) || maxBatch < 1 || !Number.isFinite(delayMs) || delayMs < 0) return undefined;
  const cheapest = new Map<number, number>();
  for (const row of r.batch_cost ?? []) {
    const b = Number(row.batch);
    const cost = Number(row.msPerRequest);
    if (!Number.isInteger(b) || b < 1 || b > maxBatch || !(cost > 0)) continue;
    cheapest.set(b, Math.min(cheapest.get(b) ?? Infinity, cost));
  }
  const best = Math.min(...cheapest.values());
  const preferred = [...cheapest].filter(([, cost]) => cost <= best * PREFERRED_WITHIN).map(([b]) => b);
  if (!preferred.includes(maxBatch)) preferred.push(maxBatch);
  return {
    maxBatchSize: maxBatch,
    preferredBatchSizes: [...new Set(preferred)].sort((a, b) => a - b),
    maxQueueDelayMicroseconds: Math.round(delayMs * 1000),
    source: `${file}: best config "${r.best_config?.label ?? '?'}", batch cost within ${Math.round((PREFERRED_WITHIN - 1) * 100)} % of the cheapest`,
  };
}

export interface TritonModelConfig {
  name: string;
  numLabels: number;
  batching: TritonBatching;
}

/**
 * config.pbtxt for the ONNX Runtime backend. With max_batch_size > 0, dims leave out the batch
 * axis: ids and mask are [-1] (any length), logits [labels]. Triton's dynamic batcher only merges
 * requests of the same shape, i.e. the same padded length (no ragged batching is configured).
 * No instance_group: Triton's default (one instance per GPU, else CPU) applies.
 */
export function renderConfigPbtxt(config: TritonModelConfig): string {
  const { name, numLabels, batching } = config;
  const tensor = (tensorName: string, type: string, dims: number[]): string =>
    `  {\n    name: "${tensorName}"\n    data_type: ${type}\n    dims: [ ${dims.join(', ')} ]\n  }`;
  return [
    `# Written by \`npm run triton:repository\`; batching from ${batching.source}.`,
    `name: "${name}"`,
    'platform: "onnxruntime_onnx"',
    `max_batch_size: ${batching.maxBatchSize}`,
    'input [',
    INPUT_NAMES.map((n) => tensor(n, 'TYPE_INT64', [-1])).join(',\n'),
    ']',
    'output [',
    tensor(OUTPUT_NAME, 'TYPE_FP32', [numLabels]),
    ']',
    'dynamic_batching {',
    `  preferred_batch_size: [ ${batching.preferredBatchSizes.join(', ')} ]`,
    `  max_queue_delay_microseconds: ${batching.maxQueueDelayMicroseconds}`,
    '}',
    '',
  ].join('\n');
}

export interface WriteTritonOptions {
  modelDir: string;
  /** The model repository root; the model goes to `<outDir>/<name>/`. */
  outDir: string;
  /** Triton model name (default: the model card's name). */
  name?: string;
  /** Pool benchmark results (default bench/results/inference.json; missing → defaults). */
  benchFile?: string;
}

export interface WrittenRepository {
  name: string;
  modelPath: string;
  configPath: string;
  batching: TritonBatching;
}

/** Writes `<outDir>/<name>/1/model.onnx` and `<outDir>/<name>/config.pbtxt`. */
export async function writeTritonRepository(options: WriteTritonOptions): Promise<WrittenRepository> {
  const dir = await readModelDir(options.modelDir);
  const name = options.name ?? dir.name;
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new Error(`Triton model name must be [A-Za-z0-9_.-]+, got "${name}"`);
  const benchFile = options.benchFile ?? 'bench/results/inference.json';
  let batching = DEFAULT_TRITON_BATCHING;
  try {
    batching = batchingFromBench(JSON.parse(await readFile(benchFile, 'utf8')), benchFile) ?? DEFAULT_TRITON_BATCHING;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${benchFile}: ${(err as Error).message}`);
  }
  const modelFolder = path.join(options.outDir, name);
  const modelPath = path.join(modelFolder, '1', 'model.onnx');
  const configPath = path.join(modelFolder, 'config.pbtxt');
  await mkdir(path.dirname(modelPath), { recursive: true });
  await copyFile(dir.modelPath, modelPath);
  await writeFile(configPath, renderConfigPbtxt({ name, numLabels: dir.labels.length, batching }));
  return { name, modelPath, configPath, batching };
}
