/**
 * `npm run triton:repository`: the model repository Triton's ONNX Runtime backend loads. Triton
 * itself cannot run here; these check the layout and config.pbtxt against Triton's model
 * configuration rules (dims without the batch axis when max_batch_size > 0).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TRITON_BATCHING, batchingFromBench, renderConfigPbtxt, writeTritonRepository } from '../../src/inference/remote/tritonRepository.js';

const FIXTURE = 'test/fixtures/tiny-gpt2';

/** One `name { ... }` / `name [ ... ]` block's text (enough for config.pbtxt, which nests shallowly). */
function block(text: string, name: string): string {
  const start = text.search(new RegExp(`^${name} [[{]`, 'm'));
  expect(start, `${name} block`).toBeGreaterThanOrEqual(0);
  const open = text[text.indexOf(' ', start) + 1]!;
  const close = open === '[' ? ']' : '}';
  let depth = 0;
  for (let i = text.indexOf(open, start); i < text.length; i++) {
    if (text[i] === open) depth++;
    if (text[i] === close && --depth === 0) return text.slice(start, i + 1);
  }
  throw new Error(`unbalanced ${name}`);
}

describe('Triton model repository', () => {
  let out: string;

  beforeAll(async () => {
    out = await mkdtemp(path.join(tmpdir(), 'triton-'));
  });

  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it('writes <name>/1/model.onnx (the model, byte for byte) and <name>/config.pbtxt for onnxruntime_onnx with the right dims', async () => {
    const written = await writeTritonRepository({ modelDir: FIXTURE, outDir: out, name: 'intent', benchFile: 'bench/results/inference.json' });
    expect(written.modelPath).toBe(path.join(out, 'intent', '1', 'model.onnx'));
    expect((await readFile(written.modelPath)).equals(await readFile(`${FIXTURE}/model.onnx`))).toBe(true);
    const config = await readFile(path.join(out, 'intent', 'config.pbtxt'), 'utf8');
    expect(config).toMatch(/^name: "intent"$/m);
    expect(config).toMatch(/^platform: "onnxruntime_onnx"$/m);
    const inputs = block(config, 'input');
    for (const name of ['input_ids', 'attention_mask']) {
      expect(inputs).toMatch(new RegExp(`name: "${name}"\\n\\s+data_type: TYPE_INT64\\n\\s+dims: \\[ -1 \\]`));
    }
    // 16 labels in the fixture's labels.json; the batch axis is implied by max_batch_size.
    expect(block(config, 'output')).toMatch(/name: "logits"\n\s+data_type: TYPE_FP32\n\s+dims: \[ 16 \]/);
  });

  it('takes max batch, preferred sizes and queue delay from the pool benchmark', async () => {
    const bench = JSON.parse(await readFile('bench/results/inference.json', 'utf8')) as { best_config: { env: Record<string, number> } };
    const batching = batchingFromBench(bench)!;
    expect(batching.maxBatchSize).toBe(bench.best_config.env.INFERENCE_MAX_BATCH);
    expect(batching.maxQueueDelayMicroseconds).toBe(bench.best_config.env.INFERENCE_MAX_DELAY_MS! * 1000);
    expect(batching.preferredBatchSizes.at(-1)).toBe(batching.maxBatchSize);
    expect(batching.preferredBatchSizes.every((b) => b <= batching.maxBatchSize)).toBe(true);
    const config = renderConfigPbtxt({ name: 'm', numLabels: 16, batching });
    expect(config).toMatch(new RegExp(`^max_batch_size: ${batching.maxBatchSize}$`, 'm'));
    const dyn = block(config, 'dynamic_batching');
    expect(dyn).toContain(`preferred_batch_size: [ ${batching.preferredBatchSizes.join(', ')} ]`);
    expect(dyn).toContain(`max_queue_delay_microseconds: ${batching.maxQueueDelayMicroseconds}`);
  });

  it('picks the cheap batch sizes from a made-up cost curve, and falls back to the documented defaults without results', async () => {
    const fake = {
      best_config: { label: 'x', env: { INFERENCE_MAX_BATCH: 16, INFERENCE_MAX_DELAY_MS: 2 } },
      batch_cost: [1, 2, 4, 8, 16, 32].map((batch) => ({ batch, msPerRequest: { 1: 4, 2: 2, 4: 1.3, 8: 1.1, 16: 1, 32: 0.5 }[batch] })),
    };
    expect(batchingFromBench(fake)).toMatchObject({ maxBatchSize: 16, preferredBatchSizes: [8, 16], maxQueueDelayMicroseconds: 2000 });
    expect(batchingFromBench({})).toBeUndefined();
    const written = await writeTritonRepository({ modelDir: FIXTURE, outDir: out, benchFile: path.join(out, 'missing.json') });
    expect(written.batching).toEqual(DEFAULT_TRITON_BATCHING);
    expect(written.name).toBe('intent-gpt2-smoke');
    const config = await readFile(written.configPath, 'utf8');
    expect(config).toContain('preferred_batch_size: [ 8, 16, 32 ]');
    expect(config).toContain('max_queue_delay_microseconds: 100');
  });

  it('refuses a name Triton cannot use as a folder, and a bench file that is not JSON', async () => {
    await expect(writeTritonRepository({ modelDir: FIXTURE, outDir: out, name: '../evil' })).rejects.toThrow(/model name/);
    const bad = path.join(out, 'bad.json');
    await writeFile(bad, '{');
    await expect(writeTritonRepository({ modelDir: FIXTURE, outDir: out, benchFile: bad })).rejects.toThrow(/bad\.json/);
  });
});
