/**
 * Measures the NLU's language check (src/nlu/guards/language.ts) on real English text and on
 * hand-written non-English chat: `npx tsx training/eval/language_check.ts`.
 * English: CLINC150 (all splits, in-scope and oos), the training splits and the independent set.
 */
import { readFileSync } from 'node:fs';
import { detectLanguage } from '../../src/nlu/guards/language.js';

const jsonl = (f: string): string[] =>
  readFileSync(f, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => (JSON.parse(l) as { text: string }).text);

const english: Record<string, string[]> = {};
try {
  const clinc = JSON.parse(readFileSync('../shared/data/clinc150/data_full.json', 'utf8')) as Record<string, [string, string][]>;
  english.clinc150 = Object.values(clinc).flatMap((rows) => rows.map((r) => r[0]));
} catch {
  console.error('CLINC150 not found under ../shared/data/clinc150; skipped');
}
for (const f of ['training/splits/train.jsonl', 'training/splits/val.jsonl', 'training/splits/test.jsonl', 'training/eval/independent.jsonl']) {
  english[f] = jsonl(f);
}
const foreign = jsonl('training/eval/non_english_samples.jsonl');
const foreign2 = jsonl('training/eval/non_english_samples_2.jsonl');

for (const [name, texts] of Object.entries(english)) {
  const flagged = texts.filter((t) => !detectLanguage(t).english);
  console.log(`${name}: ${flagged.length} of ${texts.length} English rows flagged non-English (${((100 * flagged.length) / texts.length).toFixed(3)}%)`);
  for (const t of flagged.slice(0, 15)) console.log(`   ${t}`);
}
const missed = foreign.filter((t) => detectLanguage(t).english);
console.log(`non-English samples: ${foreign.length - missed.length} of ${foreign.length} detected`);
for (const t of missed) console.log(`   missed: ${t}`);
// Second development set (nlu2): Polish, Czech, Turkish, Swedish, Danish, Norwegian, Romanian,
// Hungarian, Indonesian, Vietnamese — written to extend the check, so not a test of it either.
const missed2 = foreign2.filter((t) => detectLanguage(t).english);
console.log(`non-English samples 2: ${foreign2.length - missed2.length} of ${foreign2.length} detected`);
for (const t of missed2) console.log(`   missed: ${t}`);
