/**
 * One-typo spelling tolerance (src/nlu/guards/spelling.ts) off / rules only / model input only / both,
 * on the validation and test splits and the independent set, each as written and with one typo per row
 * (the `--robustness` typo transform): `npx tsx training/eval/compare_spelling.ts [FILES…]`.
 * Everything else is the default runtime (casing, numbers, language check, write guard).
 */
import { readFileSync } from 'node:fs';
import { evaluate, parseEvalFile } from '../../src/nlu/evaluation.js';
import { DEFAULT_GUARDS, loadNlu, type RuntimeGuards } from '../../src/nlu/NluPipeline.js';
import { typo } from '../../src/nlu/robustness.js';

const sets = process.argv.slice(2).length ? process.argv.slice(2) : ['training/splits/val.jsonl', 'training/splits/test.jsonl', 'training/eval/independent.jsonl'];
const thresholds = JSON.parse(readFileSync('models/intent-gpt2/write_guard.json', 'utf8')).thresholds as Record<string, number>;
const arms: Record<string, RuntimeGuards> = {
  off: { ...DEFAULT_GUARDS, spelling: false, write: { writeThresholds: thresholds, spelling: false } },
  rules: { ...DEFAULT_GUARDS, spelling: false, write: { writeThresholds: thresholds, spelling: true } },
  model: { ...DEFAULT_GUARDS, spelling: true, write: { writeThresholds: thresholds, spelling: false } },
  both: { ...DEFAULT_GUARDS, spelling: true, write: { writeThresholds: thresholds, spelling: true } },
};
const pct = (x: number) => (x * 100).toFixed(2);
for (const file of sets) {
  const rows = parseEvalFile(readFileSync(file, 'utf8'), file);
  for (const [arm, guards] of Object.entries(arms)) {
    const nlu = await loadNlu('models/intent-gpt2', { guards });
    const cells: string[] = [];
    for (const [name, f] of Object.entries({ original: (t: string) => t, typo })) {
      const res = await nlu.recognizeBatch(rows.map((r, i) => f(r.text, i)));
      const rep = evaluate(rows.map((r) => r.intent), res.map((r) => r.intent));
      cells.push(`${name} ${pct(rep.accuracy)}% (fw ${pct(rep.false_write_rate ?? 0)}, ww ${pct(rep.wrong_write_rate)})`);
    }
    console.log(`${file} spelling=${arm}: ${cells.join(' | ')}`);
    await nlu.close();
  }
}
