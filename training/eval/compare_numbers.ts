/**
 * Quantity masking of the model input (src/nlu/normalize.ts maskQuantities) on vs off, on the
 * validation split and the independent set, original and with other numbers (entity swap):
 * `npx tsx training/eval/compare_numbers.ts`. Casing normalisation on in both runs; no guards.
 */
import { readFileSync } from 'node:fs';
import { evaluate, parseEvalFile } from '../../src/nlu/evaluation.js';
import { loadNlu } from '../../src/nlu/NluPipeline.js';
import { entitySwap, type Transform } from '../../src/nlu/robustness.js';

const sets = ['training/splits/val.jsonl', 'training/eval/independent.jsonl'];
const variants: Record<string, Transform> = { original: (t) => t, entity_swap: entitySwap };
for (const numbers of [false, true]) {
  const nlu = await loadNlu('models/intent-gpt2', { guards: { casing: 'lower', numbers, language: false, write: false } });
  for (const file of sets) {
    const rows = parseEvalFile(readFileSync(file, 'utf8'), file);
    const cells: string[] = [];
    for (const [name, f] of Object.entries(variants)) {
      const res = await nlu.recognizeBatch(rows.map((r, i) => f(r.text, i)));
      const rep = evaluate(rows.map((r) => r.intent), res.map((r) => r.intent));
      cells.push(`${name} ${(rep.accuracy * 100).toFixed(2)}% (ww ${(rep.wrong_write_rate * 100).toFixed(2)}%)`);
    }
    console.log(`numbers=${numbers} ${file}: ${cells.join(' | ')}`);
  }
  await nlu.close();
}
