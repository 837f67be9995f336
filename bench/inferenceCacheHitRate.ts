/**
 * The prediction cache's hit rate on the e2e bench's traffic: the open-loop mix (bench/lib/openLoop.ts:
 * training utterances in its fixed order, a "yes" after each write, which the bot decides from
 * the words without the model) through the real NLU pipeline (its normalisation, then the
 * tokenizer) and a pool with INFERENCE_CACHE_SIZE = --size. No timing: counts only.
 *
 *   npx tsx bench/inferenceCacheHitRate.ts [--turns 6000] [--size 1024]
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createModelPool } from '../src/inference/pool/index.js';
import { loadNlu } from '../src/nlu/NluPipeline.js';
import { loadConversationMix } from './lib/openLoop.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { turns: { type: 'string', default: '6000' }, size: { type: 'string', default: '1024' } } });
const turns = Number(values.turns);
const modelDir = path.join(ROOT, 'models/intent-gpt2');
const pool = await createModelPool(modelDir, { sessions: 1, predictionCacheSize: Number(values.size), warmup: false });
const nlu = await loadNlu(modelDir, { runner: pool });
const mix = loadConversationMix(ROOT);
const before = pool.stats().cache; // loadNlu's own warm-up call
let modelTurns = 0;
let confirmations = 0;
for (let t = 0, next = 0; t < turns; t++) {
  const u = mix[next++ % mix.length]!;
  await nlu.recognize(u.text);
  modelTurns++;
  if (u.write && t + 1 < turns) {
    t++; // the "yes" turn: no model call
    confirmations++;
  }
}
const c = pool.stats().cache;
const hits = c.hits - before.hits;
const misses = c.misses - before.misses;
process.stdout.write(
  `${JSON.stringify({ turns, model_turns: modelTurns, confirmations, distinct_utterances: mix.length, cache_size: c.capacity, hits, misses, hit_rate: hits / Math.max(1, hits + misses) })}\n`,
);
await nlu.close();
