/** Hand-made classifier outputs and PO entities for the guard tables (no model needed). */
import type { IntentDecision } from '../../../src/nlu/intents/IntentClassifier.js';
import { INTENT_LABELS, type Entity } from '../../../src/nlu/types.js';

const LABELS = [...INTENT_LABELS];
const rankingWith = (top: string, p: number) => [
  { intent: top, confidence: p },
  ...LABELS.filter((l) => l !== top).map((intent) => ({ intent, confidence: (1 - p) / 15 })),
];

/** The model is sure of `top`. */
export const sureOf = (top: string, p = 0.9): IntentDecision => ({ intent: top, confidence: p, ranking: rankingWith(top, p) });

/** The model leans to `top` but falls below the bar (out_of_scope with a low-confidence fallback). */
export const unsureOf = (top: string, p = 0.45): IntentDecision => ({
  intent: 'out_of_scope',
  confidence: 0.05,
  ranking: rankingWith(top, p),
  fallback: { reason: 'low_confidence', intent: top, confidence: p },
});

/** The first PO id in the text as an entity, as the extractor would give it. */
export const poEntities = (text: string): Entity[] => {
  const m = /PO-\d+/.exec(text);
  return m ? [{ type: 'purchase_order', value: m[0], text: m[0], start: m.index, end: m.index + m[0].length }] : [];
};
