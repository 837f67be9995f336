/**
 * The rows a developer-readable set gets wrong, with the rule that decided (fallback reason) and the
 * model's first choice: `npx tsx training/eval/dev_errors.ts training/eval/dev_chat.jsonl [--plain]`.
 * For grouping errors into classes; refuses the report-only blind sets.
 */
import { readFileSync } from 'node:fs';
import { parseEvalFile } from '../../src/nlu/evaluation.js';
import { loadNlu } from '../../src/nlu/NluPipeline.js';

const file = process.argv[2];
if (!file || /blind_chat/.test(file)) throw new Error('usage: dev_errors.ts FILE (not a report-only blind set)');
const rows = parseEvalFile(readFileSync(file, 'utf8'));
const nlu = await loadNlu(process.env.MODEL_DIR ?? 'models/intent-gpt2', process.argv.includes('--plain') ? { guards: 'plain' } : {});
const results = await nlu.recognizeBatch(rows.map((r) => r.text));
let wrong = 0;
rows.forEach((row, i) => {
  const r = results[i]!;
  const decision = r.entities.find((e) => e.type === 'decision')?.value ?? (r.intent === 'procurement.approve_order' ? 'approve' : undefined);
  const ok = r.intent === row.intent && (!row.decision || row.decision === decision);
  if (ok) return;
  wrong++;
  const why = r.fallback ? ` [${r.fallback.reason}: ${r.fallback.intent} ${r.fallback.confidence.toFixed(2)}]` : ` ${r.confidence.toFixed(2)}`;
  console.log(`${row.intent}${row.decision ? '/' + row.decision : ''} → ${r.intent}${decision ? '/' + decision : ''}${why} (${(row.tags ?? []).join(',')}) ${JSON.stringify(row.text)}`);
});
console.log(`${wrong} of ${rows.length} wrong`);
await nlu.close();
