/**
 * Calibrates the write guard's per-intent thresholds (src/nlu/guards/writeGuard.ts) on the
 * VALIDATION split only and writes them to `<model>/write_guard.json`:
 *
 *   npx tsx training/eval/calibrate_write_guard.ts [--model DIR] [--dry-run]
 *
 * The shipped model is refit on train + validation, so on the clean validation rows it makes no
 * wrong write at all; the calibration therefore also scores the validation rows with one typo and
 * with other numbers (src/nlu/robustness.ts), where it does. For each write intent the threshold t
 * (from the model's global confidence up to 0.99) maximises  kept correct − COST × kept wrong  over
 * the rows predicted as that intent; ties keep the lowest t. Never run on the blind sets.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEvalFile } from '../../src/nlu/evaluation.js';
import { DEFAULT_GUARDS, loadNlu } from '../../src/nlu/NluPipeline.js';
import { entitySwap, typo } from '../../src/nlu/robustness.js';
import { WRITE_INTENTS } from '../../src/nlu/types.js';

/** A wrong write costs this many "not sure" replies to a right one. */
const COST = 3;
const argv = process.argv.slice(2);
const modelDir = argv.includes('--model') ? argv[argv.indexOf('--model') + 1]! : 'models/intent-gpt2';
const dryRun = argv.includes('--dry-run');

const rows = parseEvalFile(readFileSync('training/splits/val.jsonl', 'utf8'), 'val.jsonl');
const texts = [...rows.map((r) => r.text), ...rows.map((r, i) => typo(r.text, i)), ...rows.map((r, i) => entitySwap(r.text, i))];
const gold = [...rows, ...rows, ...rows].map((r) => r.intent);

// The other guards on, the thresholds off: the thresholds see what they would be applied to.
const nlu = await loadNlu(modelDir, { guards: { ...DEFAULT_GUARDS, write: {} } });
const results = await nlu.recognizeBatch(texts);
await nlu.close();
const globalConfidence = nlu.info().thresholds.confidence;

const thresholds: Record<string, number> = {};
const table: Record<string, unknown>[] = [];
for (const intent of WRITE_INTENTS) {
  const hits = results.map((r, i) => ({ r, g: gold[i]! })).filter(({ r }) => r.intent === intent);
  let best = { t: globalConfidence, score: -Infinity, correct: 0, wrong: 0 };
  for (let t = globalConfidence; t <= 0.9901; t += 0.01) {
    const kept = hits.filter(({ r }) => r.confidence >= t);
    const correct = kept.filter(({ g }) => g === intent).length;
    const wrong = kept.length - correct;
    const score = correct - COST * wrong;
    if (score > best.score) best = { t: Math.round(t * 100) / 100, score, correct, wrong };
  }
  const wrongAll = hits.filter(({ g }) => g !== intent).length;
  thresholds[intent] = best.t;
  table.push({ intent, predicted: hits.length, wrong_at_global: wrongAll, threshold: best.t, kept_correct: best.correct, kept_wrong: best.wrong });
}
console.table(table);
const out = {
  thresholds,
  calibrated_on: 'training/splits/val.jsonl (+ its typo and entity-swap variants)',
  cost_of_wrong_write: COST,
  command: 'npx tsx training/eval/calibrate_write_guard.ts',
  date: new Date().toISOString(),
};
if (dryRun) console.log(JSON.stringify(out, null, 2));
else {
  writeFileSync(join(modelDir, 'write_guard.json'), `${JSON.stringify(out, null, 2)}\n`);
  console.log(`wrote ${join(modelDir, 'write_guard.json')}`);
}
