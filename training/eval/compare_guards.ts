/**
 * One runtime rule off vs the default runtime, on developer-readable sets, row by row:
 * `npx tsx training/eval/compare_guards.ts '{"chatNoise":false,"clauses":false}' [FILE…]`
 * (`{"write":{"evidence":false}}` turns off an option of the write guard). Default files: val, test,
 * independent. Prints both accuracies and every row whose prediction changed; refuses the
 * report-only blind sets.
 */
import { readFileSync } from 'node:fs';
import { parseEvalFile } from '../../src/nlu/evaluation.js';
import { DEFAULT_GUARDS, loadNlu, type RuntimeGuards } from '../../src/nlu/NluPipeline.js';
import type { GuardOptions } from '../../src/nlu/guards/writeGuard.js';

const [change = '{}', ...rest] = process.argv.slice(2);
const files = rest.length ? rest : ['training/splits/val.jsonl', 'training/splits/test.jsonl', 'training/eval/independent.jsonl'];
if (files.some((f) => /blind_chat/.test(f))) throw new Error('report-only sets are not compared row by row');
const modelDir = process.env.MODEL_DIR ?? 'models/intent-gpt2';
const thresholds = (JSON.parse(readFileSync(`${modelDir}/write_guard.json`, 'utf8')) as { thresholds: Record<string, number> }).thresholds;
const offChange = JSON.parse(change) as Partial<Omit<RuntimeGuards, 'write'>> & { write?: GuardOptions };
const on = await loadNlu(modelDir, { guards: { ...DEFAULT_GUARDS, write: { writeThresholds: thresholds } } });
const off = await loadNlu(modelDir, { guards: { ...DEFAULT_GUARDS, ...offChange, write: { writeThresholds: thresholds, ...offChange.write } } });
for (const f of files) {
  const rows = parseEvalFile(readFileSync(f, 'utf8'), f);
  const texts = rows.map((r) => r.text);
  const [a, b] = [await off.recognizeBatch(texts), await on.recognizeBatch(texts)];
  const acc = (rs: { intent: string }[]): string => ((100 * rs.filter((r, i) => r.intent === rows[i]!.intent).length) / rs.length).toFixed(2);
  console.log(`${f}: off ${acc(a)}%  on ${acc(b)}%`);
  rows.forEach((r, i) => {
    if (a[i]!.intent !== b[i]!.intent) console.log(`   ${r.intent} | off ${a[i]!.intent} → on ${b[i]!.intent} | ${JSON.stringify(r.text)}`);
  });
}
await Promise.all([off.close(), on.close()]);
