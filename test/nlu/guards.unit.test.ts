/**
 * The NLU's runtime rules as pure functions (no model): language check, negation / rejection /
 * other-department / price cues, casing normalisation, quantity masking, robustness transforms and
 * the write guard's decisions on hand-made rankings.
 */
import { describe, expect, it } from 'vitest';
import { evaluate, parseEvalFile } from '../../src/nlu/evaluation.js';
import { findNegatedWrite, findOtherDepartment, findRejection, isPriceQuestion } from '../../src/nlu/guards/cues.js';
import { detectLanguage } from '../../src/nlu/guards/language.js';
import { guardWrite } from '../../src/nlu/guards/writeGuard.js';
import type { IntentDecision } from '../../src/nlu/intents/IntentClassifier.js';
import { isShouting, maskQuantities, normalizeCasing } from '../../src/nlu/normalize.js';
import { entitySwap, title, typo, upper } from '../../src/nlu/robustness.js';
import { INTENT_LABELS, NON_ENGLISH, type Entity } from '../../src/nlu/types.js';

describe('language check', () => {
  it.each([
    'Hallo, wie viele SKU-1001 haben wir im Lager WH-A?',
    'Bitte 200 Stück SKU-1003 bei Acme Corp bestellen',
    '帮我订购100个SKU-1001',
    '请取消订单PO-1102',
    '¿Cuántos guantes tenemos en el almacén WH-B?',
    'Pouvez-vous annuler la commande PO-1133 ?',
    'Сколько у нас SKU-1001 на складе?',
  ])('%s → not English', (text) => {
    expect(detectLanguage(text).english).toBe(false);
  });

  it.each([
    'order 301 units of SKU-1001 from Acme Corp',
    'HELP',
    'Status PO-1203',
    'pls cancel PO-1102 asap, supplier messed up',
    'what is the HS code for nitrile gloves?',
    'move 20 pallets from WH-B to WH-C',
    'thx!',
    'PO-1203?',
    '👍',
    'Good morning, can we get 40 boxes of A4 paper from Globex by next Tuesday?',
    'sign off on PO-1150 pls, it is for the Dallas site',
  ])('%s → English', (text) => {
    expect(detectLanguage(text).english).toBe(true);
  });
});

describe('cues', () => {
  it('negated writes, with what the user wants instead', () => {
    expect(findNegatedWrite("don't order 100 SKU-1001 from Acme")?.phrase).toBe("don't order");
    expect(findNegatedWrite('please do not cancel PO-1102')).toBeDefined();
    expect(findNegatedWrite('no need to file anything for SH-2001')).toBeDefined();
    expect(findNegatedWrite("I don't want to order anything, just checking what SKU-1001 costs")?.rest).toBe('checking what SKU-1001 costs');
    expect(findNegatedWrite("I don't want to order anything, just get me the price")).toBeDefined();
    const n = findNegatedWrite("don't cancel PO-1145, just tell me where it is");
    expect(n?.without).toBe('PO-1145, just tell me where it is');
    for (const t of [
      'cancel PO-1102, we do not need it anymore',
      'order 50 gloves, dont forget the invoice number',
      'why did the order not arrive',
      // a correction: the write is wanted, only the verb was wrong
      "hold on, don't send PO-10477, cancel it",
    ]) {
      expect(findNegatedWrite(t), t).toBeUndefined();
    }
  });

  it('rejections (present tense instructions), not questions about rejected orders', () => {
    for (const t of ['reject PO-1102', 'decline PO-1102 please', 'Deny PO-1102', 'I cannot approve PO-1102, budget is frozen', 'turn it down']) {
      expect(findRejection(t), t).toBeDefined();
    }
    expect(findRejection('reject PO-1102')!.leading).toBe(true);
    expect(findRejection('hmm, PO-1102, reject it')!.leading).toBe(false);
    for (const t of ['show me rejected orders', 'why was PO-1102 declined?', 'approve PO-1102']) {
      expect(findRejection(t), t).toBeUndefined();
    }
  });

  it("other departments' requests that share our words", () => {
    for (const t of [
      'bill our client Tyrell Corp for 120 SKU-1004',
      'send an invoice to our customer Umbrella Ltd for 50 units of SKU-1002',
      'submit my expense report for the Dallas trip',
      'reset my VPN password',
      'book annual leave for next week',
    ]) {
      expect(findOtherDepartment(t), t).toBeDefined();
    }
    for (const t of ['order 100 gloves from Acme', 'status of PO-1203', 'transfer 20 pallets from WH-A to WH-B', "what's on order for laptop docking stations"]) {
      expect(findOtherDepartment(t), t).toBeUndefined();
    }
  });

  it('price questions (but not stock questions that mention price)', () => {
    expect(isPriceQuestion('what does SKU-1001 cost?')).toBe(true);
    expect(isPriceQuestion('price of the nitrile gloves?')).toBe(true);
    expect(isPriceQuestion('how many gloves in stock and what do they cost')).toBe(false);
    expect(isPriceQuestion('order 100 gloves from Acme')).toBe(false);
    // what customs will charge is a customs question
    expect(isPriceQuestion('how much duty will SH-20944 cost')).toBe(false);
  });
});

describe('casing and quantity masking of the model input', () => {
  it('lower-cases everything but ids, which keep their canonical case', () => {
    expect(normalizeCasing('SHOW PO-1203', 'lower')).toBe('show PO-1203');
    expect(normalizeCasing('How Many Sku 1001 In Wh-B', 'lower')).toBe('how many SKU 1001 in WH-B');
    expect(normalizeCasing('raise a PO for 500 gloves', 'lower')).toBe('raise a po for 500 gloves');
    expect(normalizeCasing('HELP', 'none')).toBe('HELP');
    expect(isShouting('ORDER 300 UNITS OF SKU-1001')).toBe(true);
    expect(isShouting('order 300 units of SKU-1001')).toBe(false);
  });

  it('301 and 300 units read alike; ids and other numbers keep their digits', () => {
    const text = 'order 301 units of SKU-1001 for PO-1203 by 15/07';
    const masked = maskQuantities(text, [{ start: 6, end: 15 }]);
    expect(masked).toBe('order 100 units of SKU-1001 for PO-1203 by 15/07');
    expect(maskQuantities('order 300 units of SKU-1001 for PO-1203 by 15/07', [{ start: 6, end: 15 }])).toBe(masked);
    expect(maskQuantities('1,500 gloves', [{ start: 0, end: 5 }])).toBe('1000 gloves');
  });
});

describe('robustness transforms', () => {
  it('are deterministic, keep ids, and change what they say', () => {
    const t = 'Show me PO-1203 and 40 boxes of SKU-1002';
    expect(upper(t, 0)).toBe('SHOW ME PO-1203 AND 40 BOXES OF SKU-1002');
    expect(title(t, 0)).toBe('Show Me PO-1203 And 40 Boxes Of SKU-1002');
    expect(typo(t, 3)).toBe(typo(t, 3));
    expect(typo(t, 3)).not.toBe(t);
    expect(typo(t, 3)).toContain('PO-1203');
    const swapped = entitySwap(t, 1);
    expect(swapped).toMatch(/^Show me PO-\d{4} and \d{2} boxes of SKU-\d{4}$/);
    expect(swapped).not.toBe(t);
  });
});

describe('write guard', () => {
  const labels = [...INTENT_LABELS];
  const decision = (top: string, p = 0.9, second = 'out_of_scope'): IntentDecision => ({
    intent: top,
    confidence: p,
    ranking: [{ intent: top, confidence: p }, { intent: second, confidence: (1 - p) * 0.9 }, ...labels.filter((l) => l !== top && l !== second).map((intent) => ({ intent, confidence: (1 - p) * 0.1 / 14 }))],
  });
  const po = (text: string): Entity[] => {
    const m = /PO-\d+/.exec(text);
    return m ? [{ type: 'purchase_order', value: m[0], text: m[0], start: m.index, end: m.index + m[0].length }] : [];
  };
  const run = (text: string, d: IntentDecision, thresholds = {}) => guardWrite(text, d, po(text), { writeThresholds: thresholds }, 'out_of_scope');

  it('a rejection read as cancel becomes approve_order with decision=reject', () => {
    const g = run('reject PO-1102, too expensive', decision('procurement.cancel_order'));
    expect(g.decision.intent).toBe('procurement.approve_order');
    expect(g.entities).toEqual([{ type: 'decision', value: 'reject', text: 'reject', start: 0, end: 6 }]);
    // Without the rule (decision: false) the cancel stands: the rule is what fixes it.
    expect(guardWrite('reject PO-1102', decision('procurement.cancel_order'), po('reject PO-1102'), { decision: false }, 'out_of_scope').decision.intent).toBe(
      'procurement.cancel_order',
    );
  });

  it('a negated write never starts a write', () => {
    const g = run("don't order 100 SKU-1001 from Acme", decision('procurement.create_order'));
    expect(g.decision.intent).toBe('out_of_scope');
    expect(g.decision.fallback).toMatchObject({ reason: 'negated_write', intent: 'procurement.create_order' });
  });

  it('per-intent thresholds hold back a write the global rule lets through; reads are untouched', () => {
    expect(run('order 5 gloves', decision('procurement.create_order', 0.7), { 'procurement.create_order': 0.78 }).decision.intent).toBe('out_of_scope');
    expect(run('order 5 gloves', decision('procurement.create_order', 0.8), { 'procurement.create_order': 0.78 }).decision.intent).toBe('procurement.create_order');
    expect(run('status of PO-1102', decision('procurement.order_status', 0.61), { 'procurement.create_order': 0.78 }).decision.intent).toBe('procurement.order_status');
  });
});

describe('evaluation: write rates, tags, decisions, non_english', () => {
  it('wrong write rate counts every row predicted as a write other than its gold', () => {
    const gold = ['procurement.order_status', 'out_of_scope', 'procurement.create_order', 'procurement.approve_order', 'out_of_scope'];
    const pred = ['procurement.cancel_order', 'procurement.create_order', 'procurement.create_order', 'procurement.approve_order', 'assistant.help'];
    const r = evaluate(gold, pred, {
      tags: [['trap'], ['trap', 'noise'], ['plain'], ['plain'], undefined],
      decisions: [{}, {}, {}, { gold: 'reject', predicted: undefined }, {}],
    });
    expect(r.wrong_write_rate).toBeCloseTo(2 / 5, 12);
    expect(r.false_write_rate).toBeCloseTo(1 / 2, 12);
    expect(r.per_tag!.trap).toEqual({ n: 2, accuracy: 0, false_write_rate: 1, wrong_write_rate: 1 });
    expect(r.per_tag!.plain).toMatchObject({ n: 2, accuracy: 1, wrong_write_rate: 0, false_write_rate: null });
    expect(r.decision).toEqual({ n: 1, accuracy: 0, rejects_read_as_approve: 1 });
  });

  it('reads tags, decision and the non_english label', () => {
    const rows = parseEvalFile('{"text":"reject PO-1","intent":"procurement.approve_order","tags":["plain"],"decision":"reject"}\n{"text":"hallo","intent":"non_english"}');
    expect(rows).toEqual([
      { text: 'reject PO-1', intent: 'procurement.approve_order', tags: ['plain'], decision: 'reject' },
      { text: 'hallo', intent: NON_ENGLISH },
    ]);
    expect(() => parseEvalFile('{"text":"x","intent":"a","decision":"maybe"}', 'f')).toThrow('f:1: "decision" must be');
  });
});
