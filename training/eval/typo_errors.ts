/**
 * The rows a developer-readable set gets right as written but wrong with the `--robustness` typo
 * (robustness.ts `typo`): the typo'd word, what the spelling pass made of it, and the decision.
 * `npx tsx training/eval/typo_errors.ts FILE...` (refuses the report-only blind sets). For finding
 * the classes of typo failures (nlu5).
 */
import { readFileSync } from 'node:fs';
import { parseEvalFile } from '../../src/nlu/evaluation.js';
import { loadNlu } from '../../src/nlu/NluPipeline.js';
import { typo } from '../../src/nlu/robustness.js';
import { correctSpelling } from '../../src/nlu/guards/spelling.js';

const files = process.argv.slice(2).filter((a) => !a.startsWith('--'));
if (files.length === 0 || files.some((f) => /blind_chat/.test(f))) throw new Error('usage: typo_errors.ts FILE... (not a report-only blind set)');
const nlu = await loadNlu(process.env.MODEL_DIR ?? 'models/intent-gpt2');
const ok = (r: { intent: string; entities: { type: string; value: unknown }[] }, gold: string, decision?: string): boolean =>
  r.intent === gold && (!decision || decision === (r.entities.find((e) => e.type === 'decision')?.value ?? 'approve'));
for (const file of files) {
  const rows = parseEvalFile(readFileSync(file, 'utf8'));
  const typed = rows.map((r, i) => typo(r.text, i));
  const clean = await nlu.recognizeBatch(rows.map((r) => r.text));
  const noisy = await nlu.recognizeBatch(typed);
  let lost = 0;
  let gained = 0;
  rows.forEach((row, i) => {
    const a = ok(clean[i]!, row.intent, row.decision);
    const b = ok(noisy[i]!, row.intent, row.decision);
    if (!a && b) gained++;
    if (!a || b) return;
    lost++;
    const words = typed[i]!.match(/\p{L}+/gu) ?? [];
    const orig = new Set(row.text.match(/\p{L}+/gu) ?? []);
    const changed = words.filter((w) => !orig.has(w));
    const fixed = correctSpelling(typed[i]!).edits.map((e) => `${e.from}→${e.to}`);
    const r = noisy[i]!;
    const why = r.fallback ? `[${r.fallback.reason}: ${r.fallback.intent} ${r.fallback.confidence.toFixed(2)}]` : r.confidence.toFixed(2);
    console.log(`${row.intent} → ${r.intent} ${why} typo=${changed.join(',')} fixed=${fixed.join(',') || '-'} ${JSON.stringify(typed[i])}`);
  });
  console.log(`${file}: ${lost} lost, ${gained} gained of ${rows.length}`);
}
await nlu.close();
