import { describe, expect, it } from 'vitest';
import { IntentClassifier, softmax } from '../../src/nlu/intents/IntentClassifier.js';

const LABELS = ['procurement.create_order', 'procurement.cancel_order', 'assistant.greet', 'out_of_scope'];
const clf = new IntentClassifier(LABELS, { confidence: 0.4, margin: 0.2 });

describe('softmax', () => {
  it('sums to 1 and is stable for large logits', () => {
    const p = softmax([1000, 1001, 999]);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(p.every(Number.isFinite)).toBe(true);
    expect(p[1]).toBeGreaterThan(p[0]!);
  });

  it('matches hand-computed values', () => {
    const p = softmax([0, Math.log(3)]);
    expect(p[0]).toBeCloseTo(0.25, 12);
    expect(p[1]).toBeCloseTo(0.75, 12);
  });
});

describe('out_of_scope rule', () => {
  // probabilities: [create, cancel, greet, oos]
  it.each([
    // confident and well separated → the intent
    { p: [0.9, 0.05, 0.03, 0.02], intent: 'procurement.create_order', reason: undefined },
    // low confidence → out_of_scope
    { p: [0.35, 0.25, 0.2, 0.2], intent: 'out_of_scope', reason: 'low_confidence' },
    { p: [0.39, 0.01, 0.3, 0.3], intent: 'out_of_scope', reason: 'low_confidence' },
    // confident enough but nearly tied with the runner-up → out_of_scope
    { p: [0.5, 0.4, 0.1, 0], intent: 'out_of_scope', reason: 'small_margin' },
    { p: [0.45, 0.54, 0.01, 0], intent: 'out_of_scope', reason: 'small_margin' },
    // same top probability, runner-up far enough behind → the intent
    { p: [0.5, 0.25, 0.25, 0], intent: 'procurement.create_order', reason: undefined },
    // model itself says out_of_scope (even unsure) → out_of_scope without a fallback
    { p: [0.3, 0.05, 0.05, 0.6], intent: 'out_of_scope', reason: undefined },
    { p: [0.3, 0.1, 0.2, 0.4], intent: 'out_of_scope', reason: undefined },
  ])('$p → $intent ($reason)', ({ p, intent, reason }) => {
    const d = clf.decide(p);
    expect(d.intent).toBe(intent);
    expect(d.fallback?.reason).toBe(reason);
    // confidence is always the model's probability of the returned label
    expect(d.confidence).toBe(p[LABELS.indexOf(intent)]);
    // the ranking is the model's, untouched by the rule
    expect(d.ranking.map((r) => r.confidence)).toEqual([...p].sort((a, b) => b - a));
  });

  it('exactly at the thresholds keeps the intent (the rule is a strict "<")', () => {
    // Binary fractions so top1 − top2 is exactly the margin.
    const edge = new IntentClassifier(LABELS, { confidence: 0.625, margin: 0.25 });
    expect(edge.decide([0.625, 0.375, 0, 0]).intent).toBe('procurement.create_order');
    expect(edge.decide([0.625 - 2 ** -20, 0.375, 2 ** -20, 0]).fallback?.reason).toBe('low_confidence');
    expect(edge.decide([0.6875, 0.4375 + 2 ** -20, 0, 0]).fallback?.reason).toBe('small_margin');
  });

  it('reports which intent was overridden', () => {
    const d = clf.decide([0.35, 0.25, 0.2, 0.2]);
    expect(d.fallback).toEqual({ reason: 'low_confidence', intent: 'procurement.create_order', confidence: 0.35 });
  });

  it('a zero threshold and margin never override', () => {
    const lax = new IntentClassifier(LABELS, { confidence: 0, margin: 0 });
    expect(lax.decide([0.26, 0.25, 0.25, 0.24]).intent).toBe('procurement.create_order');
  });

  it('classify() goes through softmax', () => {
    const d = clf.classify([5, 0, 0, 0]);
    expect(d.intent).toBe('procurement.create_order');
    expect(d.confidence).toBeCloseTo(Math.exp(5) / (Math.exp(5) + 3), 12);
  });

  it('validates its inputs', () => {
    expect(() => clf.decide([1, 0])).toThrow(/expected 4/);
    expect(() => new IntentClassifier(['a', 'a'], { confidence: 0.5, margin: 0.1 })).toThrow(/duplicate/);
    expect(() => new IntentClassifier(LABELS, { confidence: 1.5, margin: 0.1 })).toThrow(/confidence/);
  });
});
