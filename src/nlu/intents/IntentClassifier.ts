import { OUT_OF_SCOPE, type DecidingRule, type FallbackReason, type IntentScore, type NluThresholds } from '../types.js';

export interface IntentDecision {
  intent: string;
  /** The model's probability of `intent`; for an intent a runtime rule chose (`rule`), the rule's confidence. */
  confidence: number;
  /** Every label, most probable first (the model's view, before the out_of_scope rule). */
  ranking: IntentScore[];
  fallback?: { reason: FallbackReason; intent: string; confidence: number };
  /** Set when a runtime rule (src/nlu/guards), not the model's top choice, decided `intent`. */
  rule?: DecidingRule;
}

/** Numerically stable softmax (subtracts the max logit). */
export function softmax(logits: ArrayLike<number>): number[] {
  const n = logits.length;
  if (n === 0) return [];
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, logits[i]!);
  const exps = new Array<number>(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.exp(logits[i]! - max);
    exps[i] = e;
    sum += e;
  }
  for (let i = 0; i < n; i++) exps[i] = exps[i]! / sum;
  return exps;
}

/**
 * Turns logits into a decision. The model's top intent is replaced by out_of_scope when it is not
 * sure: top probability < `thresholds.confidence`, or top1 − top2 < `thresholds.margin` (two
 * intents nearly tied — guessing between e.g. create and cancel is worse than asking).
 */
export class IntentClassifier {
  readonly labels: readonly string[];
  readonly thresholds: Readonly<NluThresholds>;
  readonly outOfScopeLabel: string;

  constructor(labels: readonly string[], thresholds: NluThresholds, outOfScopeLabel = OUT_OF_SCOPE) {
    if (labels.length < 2) throw new Error('IntentClassifier needs at least two labels');
    if (new Set(labels).size !== labels.length) throw new Error('IntentClassifier: duplicate labels');
    for (const [k, v] of Object.entries(thresholds)) {
      if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new Error(`threshold ${k} must be in [0, 1], got ${v}`);
    }
    this.labels = [...labels];
    this.thresholds = { ...thresholds };
    this.outOfScopeLabel = outOfScopeLabel;
  }

  /** Labels with probabilities, most probable first (ties keep label order). */
  rank(probabilities: readonly number[]): IntentScore[] {
    if (probabilities.length !== this.labels.length) {
      throw new Error(`expected ${this.labels.length} scores, got ${probabilities.length}`);
    }
    return this.labels
      .map((intent, i) => ({ intent, confidence: probabilities[i]!, i }))
      .sort((a, b) => b.confidence - a.confidence || a.i - b.i)
      .map(({ intent, confidence }) => ({ intent, confidence }));
  }

  classify(logits: ArrayLike<number>): IntentDecision {
    return this.decide(softmax(logits));
  }

  /** Applies the out_of_scope rule to probabilities (already softmaxed). */
  decide(probabilities: readonly number[]): IntentDecision {
    const ranking = this.rank(probabilities);
    const top = ranking[0]!;
    const second = ranking[1]!;
    if (top.intent === this.outOfScopeLabel) return { intent: top.intent, confidence: top.confidence, ranking };
    let reason: FallbackReason | undefined;
    if (top.confidence < this.thresholds.confidence) reason = 'low_confidence';
    else if (top.confidence - second.confidence < this.thresholds.margin) reason = 'small_margin';
    if (!reason) return { intent: top.intent, confidence: top.confidence, ranking };
    const oos = ranking.find((r) => r.intent === this.outOfScopeLabel);
    return {
      intent: this.outOfScopeLabel,
      confidence: oos?.confidence ?? 0,
      ranking,
      fallback: { reason, intent: top.intent, confidence: top.confidence },
    };
  }
}
