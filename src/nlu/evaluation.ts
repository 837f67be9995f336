import { NON_ENGLISH, OUT_OF_SCOPE, WRITE_INTENTS } from './types.js';

export interface IntentMetrics {
  precision: number;
  recall: number;
  f1: number;
  /** Rows whose gold label is this intent. */
  support: number;
  /** Rows predicted as this intent. */
  predicted: number;
}

export interface EvalReport {
  n: number;
  accuracy: number;
  /** Unweighted mean F1 over every label that occurs in gold or predictions. */
  macro_f1: number;
  /** Share of gold out_of_scope rows predicted out_of_scope; null without such rows. */
  oos_recall: number | null;
  /** Share of gold out_of_scope rows predicted as a write intent; null without such rows. */
  false_trigger_rate: number | null;
  /** The same number under the issue's name: out-of-scope rows predicted as a write intent. */
  false_write_rate: number | null;
  /** Share of ALL rows predicted as a write intent other than their gold label (the costly errors). */
  wrong_write_rate: number;
  /** Accuracy and write rates per tag, when rows carry tags (e.g. the blind set's noise, trap…). */
  per_tag?: Record<string, TagMetrics>;
  /** Gold rows with a decision (approve/reject): how many were predicted with the right intent AND decision. */
  decision?: DecisionMetrics;
  per_intent: Record<string, IntentMetrics>;
  /** confusion[gold][predicted] = count, over all labels (zeros included). */
  confusion: Record<string, Record<string, number>>;
  labels: string[];
}

export interface TagMetrics {
  n: number;
  accuracy: number;
  false_write_rate: number | null;
  wrong_write_rate: number;
}

export interface DecisionMetrics {
  /** Gold rows that carry a decision. */
  n: number;
  /** Right intent and right decision (a missing predicted decision counts as "approve"). */
  accuracy: number;
  /** Gold "reject" rows predicted as approve_order without decision=reject: an approval nobody asked for. */
  rejects_read_as_approve: number;
}

export interface EvaluateOptions {
  /** Labels to report even when absent from the data (e.g. the model's labels). */
  labels?: readonly string[];
  outOfScopeLabel?: string;
  writeIntents?: readonly string[];
  /** Per-row tags (same length as gold): adds `per_tag`. */
  tags?: readonly (readonly string[] | undefined)[];
  /** Per-row gold and predicted decisions (same length as gold): adds `decision`. */
  decisions?: readonly { gold?: string; predicted?: string }[];
}

const ratio = (num: number, den: number): number => (den === 0 ? 0 : num / den);

/**
 * Classification metrics, pure. Precision of a label never predicted (or recall of one never in
 * gold) is 0, as scikit-learn's zero_division=0. Macro-F1 averages over labels seen in gold or
 * predictions only, so a label absent from both does not drag it down.
 */
export function evaluate(gold: readonly string[], predicted: readonly string[], options: EvaluateOptions = {}): EvalReport {
  if (gold.length !== predicted.length) {
    throw new Error(`evaluate: ${gold.length} gold labels but ${predicted.length} predictions`);
  }
  const oos = options.outOfScopeLabel ?? OUT_OF_SCOPE;
  const writes = new Set(options.writeIntents ?? WRITE_INTENTS);
  const seen = new Set<string>([...gold, ...predicted]);
  const labels = [...new Set([...(options.labels ?? []), ...[...seen].sort()])];

  const confusion: Record<string, Record<string, number>> = {};
  for (const g of labels) confusion[g] = Object.fromEntries(labels.map((p) => [p, 0]));
  let correct = 0;
  gold.forEach((g, i) => {
    const p = predicted[i]!;
    confusion[g]![p]! += 1;
    if (g === p) correct++;
  });

  const per_intent: Record<string, IntentMetrics> = {};
  for (const label of labels) {
    const tp = confusion[label]![label]!;
    const support = Object.values(confusion[label]!).reduce((a, b) => a + b, 0);
    const predictedCount = labels.reduce((a, g) => a + confusion[g]![label]!, 0);
    const precision = ratio(tp, predictedCount);
    const recall = ratio(tp, support);
    per_intent[label] = {
      precision,
      recall,
      f1: ratio(2 * precision * recall, precision + recall),
      support,
      predicted: predictedCount,
    };
  }
  const scored = labels.filter((l) => seen.has(l));
  const macro_f1 = ratio(
    scored.reduce((a, l) => a + per_intent[l]!.f1, 0),
    scored.length,
  );

  const oosRows = predicted.filter((_, i) => gold[i] === oos);
  const rates = (idx: readonly number[]): TagMetrics => {
    const oosIdx = idx.filter((i) => gold[i] === oos);
    return {
      n: idx.length,
      accuracy: ratio(idx.filter((i) => gold[i] === predicted[i]).length, idx.length),
      false_write_rate: oosIdx.length === 0 ? null : ratio(oosIdx.filter((i) => writes.has(predicted[i]!)).length, oosIdx.length),
      wrong_write_rate: ratio(idx.filter((i) => writes.has(predicted[i]!) && predicted[i] !== gold[i]).length, idx.length),
    };
  };
  const all = gold.map((_, i) => i);
  const extra: Pick<EvalReport, 'per_tag' | 'decision'> = {};
  if (options.tags) {
    if (options.tags.length !== gold.length) throw new Error(`evaluate: ${gold.length} rows but ${options.tags.length} tag lists`);
    const byTag = new Map<string, number[]>();
    options.tags.forEach((tags, i) => (tags ?? []).forEach((t) => byTag.set(t, [...(byTag.get(t) ?? []), i])));
    extra.per_tag = Object.fromEntries([...byTag.keys()].sort().map((t) => [t, rates(byTag.get(t)!)]));
  }
  if (options.decisions) {
    const d = options.decisions;
    if (d.length !== gold.length) throw new Error(`evaluate: ${gold.length} rows but ${d.length} decisions`);
    const idx = all.filter((i) => d[i]?.gold !== undefined);
    const decided = (i: number): string => d[i]?.predicted ?? 'approve';
    extra.decision = {
      n: idx.length,
      accuracy: ratio(idx.filter((i) => predicted[i] === gold[i] && decided(i) === d[i]!.gold).length, idx.length),
      rejects_read_as_approve: idx.filter((i) => d[i]!.gold === 'reject' && predicted[i] === gold[i] && decided(i) === 'approve').length,
    };
  }
  const falseWrites =
    oosRows.length === 0 ? null : ratio(oosRows.filter((p) => writes.has(p)).length, oosRows.length);
  return {
    n: gold.length,
    accuracy: ratio(correct, gold.length),
    macro_f1,
    oos_recall: oosRows.length === 0 ? null : ratio(oosRows.filter((p) => p === oos).length, oosRows.length),
    false_trigger_rate: falseWrites,
    false_write_rate: falseWrites,
    wrong_write_rate: rates(all).wrong_write_rate,
    ...extra,
    per_intent,
    confusion,
    labels,
  };
}

const pct = (x: number | null): string => (x === null ? 'n/a' : `${(x * 100).toFixed(2)}%`);

/** Human-readable report (the CLI's default output). */
export function formatReport(r: EvalReport): string {
  const lines: string[] = [];
  lines.push(`rows:               ${r.n}`);
  lines.push(`accuracy:           ${pct(r.accuracy)}`);
  lines.push(`macro-F1:           ${r.macro_f1.toFixed(4)}`);
  lines.push(`out-of-scope recall: ${pct(r.oos_recall)}`);
  lines.push(`false-trigger rate: ${pct(r.false_trigger_rate)}  (out_of_scope rows predicted as a write intent)`);
  lines.push(`wrong write rate:   ${pct(r.wrong_write_rate)}  (rows predicted as a write intent other than their gold)`);
  if (r.decision) {
    lines.push(
      `decision accuracy:  ${pct(r.decision.accuracy)}  (${r.decision.n} rows with a gold approve/reject; ` +
        `${r.decision.rejects_read_as_approve} rejections read as approvals)`,
    );
  }
  if (r.per_tag) {
    lines.push('');
    lines.push('tag            rows  accuracy  false-write  wrong-write');
    for (const [t, m] of Object.entries(r.per_tag)) {
      lines.push(
        `${t.padEnd(13)} ${String(m.n).padStart(5)}  ${pct(m.accuracy).padStart(8)}  ${pct(m.false_write_rate).padStart(11)}  ${pct(m.wrong_write_rate).padStart(11)}`,
      );
    }
  }
  lines.push('');
  const width = Math.max(6, ...r.labels.map((l) => l.length));
  lines.push(`${'intent'.padEnd(width)}  precision  recall     f1  support  predicted`);
  for (const l of r.labels) {
    const m = r.per_intent[l]!;
    lines.push(
      `${l.padEnd(width)}  ${m.precision.toFixed(4).padStart(9)}  ${m.recall.toFixed(4).padStart(6)}  ${m.f1
        .toFixed(4)
        .padStart(5)}  ${String(m.support).padStart(7)}  ${String(m.predicted).padStart(9)}`,
    );
  }
  lines.push('');
  lines.push('confusion (rows = gold, columns = predicted, by index):');
  r.labels.forEach((l, i) => lines.push(`  [${String(i).padStart(2)}] ${l}`));
  const cell = Math.max(3, ...Object.values(r.confusion).flatMap((row) => Object.values(row).map((v) => String(v).length))) + 1;
  lines.push(`${''.padStart(5)}${r.labels.map((_, i) => String(i).padStart(cell)).join('')}`);
  r.labels.forEach((g, i) => {
    lines.push(`${`[${i}]`.padStart(5)}${r.labels.map((p) => String(r.confusion[g]![p]!).padStart(cell)).join('')}`);
  });
  return lines.join('\n');
}

export interface LabeledRow {
  text: string;
  intent: string;
  tags?: string[];
  /** Gold decision of an approve_order row ("approve" | "reject"). */
  decision?: string;
}

/** Gold label spellings of other sets → this model's label. */
const LABEL_ALIASES: Record<string, string> = { non_english: NON_ENGLISH };

/** Parses JSONL `{"text": "...", "intent": "..."}` lines (blank lines skipped); errors name file:line. */
export function parseEvalFile(content: string, file = '<input>'): LabeledRow[] {
  const rows: LabeledRow[] = [];
  content.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch {
      throw new Error(`${file}:${i + 1}: not valid JSON`);
    }
    const o = obj as { text?: unknown; intent?: unknown; tags?: unknown; decision?: unknown } | null;
    if (typeof o !== 'object' || o === null || typeof o.text !== 'string' || typeof o.intent !== 'string') {
      throw new Error(`${file}:${i + 1}: expected {"text": string, "intent": string}`);
    }
    if (o.tags !== undefined && !(Array.isArray(o.tags) && o.tags.every((t) => typeof t === 'string'))) {
      throw new Error(`${file}:${i + 1}: "tags" must be an array of strings`);
    }
    if (o.decision !== undefined && o.decision !== 'approve' && o.decision !== 'reject') {
      throw new Error(`${file}:${i + 1}: "decision" must be "approve" or "reject"`);
    }
    const row: LabeledRow = { text: o.text, intent: LABEL_ALIASES[o.intent] ?? o.intent };
    if (o.tags !== undefined) row.tags = o.tags as string[];
    if (o.decision !== undefined) row.decision = o.decision;
    rows.push(row);
  });
  return rows;
}
