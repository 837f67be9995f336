/**
 * Row by row, what a change to the runtime rules (or the model) changed: every row's decided intent and
 * decision slot, as written and in every `--robustness` variant (typo, UPPER, Title, lower, entity swap; nlu7; refuses the
 * report-only blind sets).
 *   npx tsx training/eval/row_changes.ts dump OUT.jsonl FILE...     (run once per tree: the tree this file is in)
 *   npx tsx training/eval/row_changes.ts compare BEFORE.jsonl AFTER.jsonl [--quiet]
 * For an A/B against HEAD: copy this file into a `git worktree` of HEAD and dump there too. `compare` prints
 * each changed row as FIX (now right), BREAK (was right) or CHG (wrong before and after), then the counts
 * per file and variant. Gold `decision` is the row's, else "reject" for rows tagged `reject`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseEvalFile } from '../../src/nlu/evaluation.js';
import { loadNlu } from '../../src/nlu/NluPipeline.js';
import { ROBUSTNESS_TRANSFORMS } from '../../src/nlu/robustness.js';
import { NON_ENGLISH } from '../../src/nlu/types.js';

interface Row {
  file: string;
  variant: string;
  i: number;
  text: string;
  gold: string;
  goldDecision?: string;
  intent: string;
  decision?: string;
  rule?: string;
}

const APPROVE = 'procurement.approve_order';
const VARIANTS = ['original', 'typo', 'upper', 'title', 'lower', 'entity_swap'];
const [mode, ...args] = process.argv.slice(2);

if (mode === 'dump') {
  const [out, ...files] = args;
  if (!out || files.length === 0 || files.some((f) => /blind_chat/.test(f))) throw new Error('usage: row_changes.ts dump OUT.jsonl FILE... (not a report-only blind set)');
  const nlu = await loadNlu(process.env.MODEL_DIR ?? 'models/intent-gpt2');
  const rows: Row[] = [];
  for (const file of files) {
    const evalRows = parseEvalFile(readFileSync(file, 'utf8'));
    for (const variant of VARIANTS) {
      const t = ROBUSTNESS_TRANSFORMS[variant];
      const texts = evalRows.map((r, i) => (t ? t(r.text, i) : r.text));
      const results = await nlu.recognizeBatch(texts);
      results.forEach((r, i) => {
        const row = evalRows[i]!;
        const decision = r.entities.find((e) => e.type === 'decision')?.value ?? (r.intent === APPROVE ? 'approve' : undefined);
        const gold = row.intent === 'non_english' ? NON_ENGLISH : row.intent;
        const goldDecision = row.decision ?? (gold === APPROVE ? (row.tags?.includes('reject') ? 'reject' : 'approve') : undefined);
        rows.push({ file: file.split('/').pop()!, variant, i, text: texts[i]!, gold, goldDecision, intent: r.intent, decision: typeof decision === 'string' ? decision : undefined, rule: r.rule ?? r.fallback?.reason });
      });
    }
  }
  writeFileSync(out, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  await nlu.close();
} else if (mode === 'compare') {
  const [a, b] = args;
  if (!a || !b) throw new Error('usage: row_changes.ts compare BEFORE.jsonl AFTER.jsonl [--quiet]');
  const read = (f: string): Row[] => readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Row);
  const before = read(a);
  const after = read(b);
  if (before.length !== after.length) throw new Error(`${a} has ${before.length} rows, ${b} ${after.length}: dump the same files`);
  const right = (r: Row) => r.intent === r.gold && (!r.goldDecision || r.goldDecision === r.decision);
  const counts = new Map<string, number>();
  before.forEach((x, k) => {
    const y = after[k]!;
    if (x.intent === y.intent && x.decision === y.decision) return;
    const kind = right(y) && !right(x) ? 'FIX' : right(x) && !right(y) ? 'BREAK' : 'CHG';
    const key = `${x.file} ${x.variant} ${kind}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    if (!args.includes('--quiet')) {
      const show = (r: Row) => `${r.intent}${r.decision ? '/' + r.decision : ''}[${r.rule ?? ''}]`;
      console.log(`${kind.padEnd(5)} ${x.file}/${x.variant} gold=${x.gold}${x.goldDecision ? '/' + x.goldDecision : ''} ${show(x)} → ${show(y)} ${JSON.stringify(x.text)}`);
    }
  });
  for (const [k, n] of [...counts].sort()) console.log(`${k}: ${n}`);
  console.log(`${[...counts.values()].reduce((s, n) => s + n, 0)} of ${before.length} row-variants changed`);
} else {
  throw new Error('usage: row_changes.ts dump OUT.jsonl FILE... | compare BEFORE.jsonl AFTER.jsonl [--quiet]');
}
