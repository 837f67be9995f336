/**
 * How often each runtime rule that decides an intent (NluResult.rule: rejection, approval,
 * write_question, customs_code, record_read, passive, named_action) is right where it fires, on
 * developer-readable sets (refuses the report-only blind sets), as written and with the
 * `--robustness` casing and typo variants: the numbers behind guards/ruleConfidence.ts.
 *   npx tsx training/eval/rule_precision.ts training/splits/val.jsonl training/splits/test.jsonl \
 *     training/eval/independent.jsonl training/eval/dev_chat.jsonl training/eval/dev_chat2.jsonl
 */
import { readFileSync } from 'node:fs';
import { parseEvalFile } from '../../src/nlu/evaluation.js';
import { loadNlu } from '../../src/nlu/NluPipeline.js';
import { ROBUSTNESS_TRANSFORMS } from '../../src/nlu/robustness.js';
import { NON_ENGLISH } from '../../src/nlu/types.js';

const files = process.argv.slice(2);
if (files.length === 0 || files.some((f) => /blind_chat/.test(f))) throw new Error('usage: rule_precision.ts FILE... (not a report-only blind set)');
const nlu = await loadNlu(process.env.MODEL_DIR ?? 'models/intent-gpt2');
const tally = new Map<string, { fired: number; right: number }>();
for (const file of files) {
  const rows = parseEvalFile(readFileSync(file, 'utf8'));
  for (const variant of ['original', 'upper', 'title', 'lower', 'typo']) {
    const t = ROBUSTNESS_TRANSFORMS[variant];
    const results = await nlu.recognizeBatch(rows.map((r, i) => (t ? t(r.text, i) : r.text)));
    results.forEach((r, i) => {
      if (!r.rule) return;
      const row = rows[i]!;
      const gold = row.intent === 'non_english' ? NON_ENGLISH : row.intent;
      const decision = r.entities.find((e) => e.type === 'decision')?.value ?? (r.intent === 'procurement.approve_order' ? 'approve' : undefined);
      const right = r.intent === gold && (!row.decision || row.decision === decision);
      const k = tally.get(r.rule) ?? { fired: 0, right: 0 };
      k.fired++;
      if (right) k.right++;
      else if (variant === 'original') console.log(`  ${r.rule}: ${gold} → ${r.intent} ${JSON.stringify(row.text)}`);
      tally.set(r.rule, k);
    });
  }
}
for (const [rule, { fired, right }] of [...tally].sort()) {
  const smoothed = (right + 1) / (fired + 2);
  console.log(`${rule.padEnd(15)} fired ${String(fired).padStart(4)}  right ${String(right).padStart(4)}  (right+1)/(fired+2) ${smoothed.toFixed(3)} → ${(Math.floor(smoothed * 20) / 20).toFixed(2)}`);
}
await nlu.close();
