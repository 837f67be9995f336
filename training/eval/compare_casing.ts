/**
 * Compares casing normalisations of the model input (src/nlu/normalize.ts) on the validation split
 * and the independent set, each also in UPPER / Title / lower case: `npx tsx training/eval/compare_casing.ts`.
 * Only the casing differs between the runs (no language check or write guard).
 */
import { readFileSync } from 'node:fs';
import { evaluate, parseEvalFile } from '../../src/nlu/evaluation.js';
import { loadNlu } from '../../src/nlu/NluPipeline.js';
import type { CasingMode } from '../../src/nlu/normalize.js';
import { lower, title, upper, type Transform } from '../../src/nlu/robustness.js';

const sets = ['training/splits/val.jsonl', 'training/eval/independent.jsonl'];
const variants: Record<string, Transform> = { original: (t) => t, upper, title, lower };
for (const mode of ['none', 'shouting', 'lower'] as CasingMode[]) {
  const nlu = await loadNlu('models/intent-gpt2', { guards: { casing: mode, language: false, write: false } });
  for (const file of sets) {
    const rows = parseEvalFile(readFileSync(file, 'utf8'), file);
    const cells: string[] = [];
    for (const [name, f] of Object.entries(variants)) {
      const res = await nlu.recognizeBatch(rows.map((r, i) => f(r.text, i)));
      const rep = evaluate(rows.map((r) => r.intent), res.map((r) => r.intent));
      cells.push(`${name} ${(rep.accuracy * 100).toFixed(2)}% (fw ${((rep.false_write_rate ?? 0) * 100).toFixed(2)}%, ww ${(rep.wrong_write_rate * 100).toFixed(2)}%)`);
    }
    console.log(`casing=${mode} ${file}: ${cells.join(' | ')}`);
  }
  await nlu.close();
}
