/**
 * Issue 14, second round (docs/notes/nlu2.md), as pure functions without the model: one-typo
 * tolerance of cue and domain words, the write guard reading typo'd cues, pronoun resolution from
 * the conversation's recent entities, the price-question route, and the wider language check.
 */
import { describe, expect, it } from 'vitest';
import { withRecentEntities, RECENT_TTL_MS, RECENT_TURNS, type RecentEntitiesState } from '../../src/nlu/context/recentEntities.js';
import { PRICE_INTENT, routedIntent } from '../../src/nlu/decision.js';
import { detectLanguage } from '../../src/nlu/guards/language.js';
import { correctionOf, correctSpelling, editsOf } from '../../src/nlu/guards/spelling.js';
import { guardWrite } from '../../src/nlu/guards/writeGuard.js';
import { poEntities, sureOf } from './helpers/decisions.js';
import type { IntentDecision } from '../../src/nlu/intents/IntentClassifier.js';
import { INTENT_LABELS, type Entity } from '../../src/nlu/types.js';

describe('one-typo tolerance (guards/spelling.ts)', () => {
  it('reads a one-letter typo of a cue or domain word as the word', () => {
    for (const [typed, word] of [
      ['rejcet', 'reject'],
      ['declien', 'decline'],
      ['cancle', 'cancel'],
      ['shipmnet', 'shipment'],
      ['recieve', 'receive'],
      ['trasnfer', 'transfer'],
      ['invocie', 'invoice'],
      ['ordr', 'order'],
      ['pirce', 'price'],
      ['custmer', 'customer'],
    ]) {
      expect(correctionOf(typed!), typed).toBe(word);
    }
  });

  it('never turns a real English word, a short word or an ambiguous typo into a cue', () => {
    // real words one edit from a cue word (the shipped wamerican-derived list)
    for (const w of ['older', 'border', 'prize', 'rice', 'client\'s', 'custom', 'declined', 'rejects', 'deject', 'eject', 'cancer', 'define', 'never', 'orders']) {
      expect(correctionOf(w), w).toBeUndefined();
    }
    // "jast" is one likely slip from "just" and from "last": no guess (nlu5: "hellp" is now "help",
    // a doubled letter being likelier than "hello" with a neighbouring key); words under 4 letters
    // only for a short command's dropped letter or a swap
    expect(correctionOf('jast')).toBeUndefined();
    expect(correctionOf('odr')).toBeUndefined();
  });

  it('whole words only, ids and glued codes untouched, offsets map back to the typed text', () => {
    const c = correctSpelling('pls rejcet PO-1102, shipmnet SH-2001 and bin-ordr');
    expect(c.text).toBe('pls reject PO-1102, shipment SH-2001 and bin-ordr');
    const at = c.text.indexOf('reject');
    expect(c.toOriginal(at)).toBe(4);
    expect(c.toOriginal(at + 'reject'.length)).toBe(10);
    expect(c.toOriginal(c.text.indexOf('SH-2001'))).toBe('pls rejcet PO-1102, shipmnet '.length);
    expect(correctSpelling('Reorder SKU-1001').text).toBe('Reorder SKU-1001');
  });

  it('one edit: insert, drop, replace or swap two neighbours; not two edits', () => {
    expect(editsOf('reject').has('rejcet')).toBe(true);
    expect(editsOf('reject').has('rejet')).toBe(true);
    expect(editsOf('reject').has('rejectt')).toBe(true);
    expect(editsOf('reject').has('rexect')).toBe(true);
    expect(editsOf('reject').has('rjecet')).toBe(false);
    expect(editsOf('reject').has('reject')).toBe(false);
  });
});

describe('write guard with typos in the cue words', () => {
  const decision = sureOf;
  const po = poEntities;

  it('"rejcet PO-1102" read as cancel → approve_order + decision=reject, span on the typed word; off → cancel stays', () => {
    const text = 'pls rejcet PO-1102, too expensive';
    const g = guardWrite(text, decision('procurement.cancel_order'), po(text), {}, 'out_of_scope');
    expect(g.decision.intent).toBe('procurement.approve_order');
    expect(g.entities).toEqual([{ type: 'decision', value: 'reject', text: 'rejcet', start: 4, end: 10 }]);
    const off = guardWrite(text, decision('procurement.cancel_order'), po(text), { spelling: false }, 'out_of_scope');
    expect(off.decision.intent).toBe('procurement.cancel_order');
  });

  it('typo\'d negation target, other department and price cue still hold a write back', () => {
    const cases: [string, string, string][] = [
      ["don't cancle PO-1102", 'procurement.cancel_order', 'negated_write'],
      // (nlu3: not "…to our customer…", which is now a cue of its own, typo or not)
      ['send an invocie for 50 SKU-1002 to Umbrella Ltd', 'storage.transfer_stock', 'other_department'],
      ['bill our custmer Tyrell Corp for 120 SKU-1004', 'procurement.create_order', 'other_department'],
      ['what is the pirce of SKU-1001', 'procurement.create_order', 'price_question'],
    ];
    for (const [text, top, reason] of cases) {
      const on = guardWrite(text, decision(top), po(text), {}, 'out_of_scope');
      expect(on.decision.intent, text).toBe('out_of_scope');
      expect(on.decision.fallback?.reason, text).toBe(reason);
      expect(guardWrite(text, decision(top), po(text), { spelling: false }, 'out_of_scope').decision.intent, `${text} (spelling off)`).toBe(top);
    }
  });
});

describe('pronoun resolution (context/recentEntities.ts)', () => {
  const sh = (text: string, value = 'SH-2001'): Entity => ({ type: 'shipment', value, text: value, start: text.indexOf(value), end: text.indexOf(value) + value.length });
  const step = (state: RecentEntitiesState, turn: number, intent: string, text: string, entities: Entity[] = [], now = turn * 1000) =>
    withRecentEntities(state, { intent, text, entities }, { turn, now });

  it('"has it cleared?" after a shipment gets that shipment; spans point at the reference', () => {
    const state: RecentEntitiesState = {};
    step(state, 1, 'customs.declaration_status', 'where is SH-2001?', [sh('where is SH-2001?')]);
    const out = step(state, 2, 'customs.declaration_status', 'has it cleared customs?');
    expect(out).toEqual([{ type: 'shipment', value: 'SH-2001', text: 'it', start: 4, end: 6 }]);
  });

  it('only with a reference word, only the type the intent needs, only when none is given', () => {
    const state: RecentEntitiesState = {};
    step(state, 1, 'procurement.order_status', 'status of PO-1102', [{ type: 'purchase_order', value: 'PO-1102', text: 'PO-1102', start: 10, end: 17 }]);
    // a PO is never a shipment
    expect(step(state, 2, 'customs.declaration_status', 'has it cleared customs?')).toEqual([]);
    // no reference word: nothing guessed
    expect(step(state, 3, 'procurement.cancel_order', 'cancel an order')).toEqual([]);
    // "the order from Globex" describes an order, it does not point back
    expect(step(state, 4, 'procurement.cancel_order', 'cancel the order from Globex')).toEqual([]);
    // a message naming its own record keeps it
    const own = step(state, 5, 'procurement.cancel_order', 'cancel it, PO-1150', [{ type: 'purchase_order', value: 'PO-1150', text: 'PO-1150', start: 11, end: 18 }]);
    expect(own.map((e) => e.value)).toEqual(['PO-1150']);
    // and the newest one is what "that one" means afterwards
    expect(step(state, 6, 'procurement.order_status', 'where is that one?').map((e) => e.value)).toEqual(['PO-1150']);
  });

  it(`expires after ${RECENT_TURNS} turns or ${RECENT_TTL_MS / 60_000} minutes`, () => {
    const a: RecentEntitiesState = {};
    step(a, 1, 'customs.declaration_status', 'where is SH-2001?', [sh('where is SH-2001?')], 0);
    expect(step(structuredClone(a), 1 + RECENT_TURNS, 'customs.declaration_status', 'has it cleared?', [], 1000)).toHaveLength(1);
    expect(step(structuredClone(a), 2 + RECENT_TURNS, 'customs.declaration_status', 'has it cleared?', [], 1000)).toEqual([]);
    expect(step(structuredClone(a), 2, 'customs.declaration_status', 'has it cleared?', [], RECENT_TTL_MS)).toHaveLength(1);
    expect(step(structuredClone(a), 2, 'customs.declaration_status', 'has it cleared?', [], RECENT_TTL_MS + 1)).toEqual([]);
  });

  it('"what does it cost?" (the price route) after a product gets that product', () => {
    const state: RecentEntitiesState = {};
    step(state, 1, 'storage.stock_level', 'how many SKU-1002 do we have', [{ type: 'sku', value: 'SKU-1002', text: 'SKU-1002', start: 9, end: 17 }]);
    expect(step(state, 2, PRICE_INTENT, 'what does it cost?').map((e) => e.value)).toEqual(['SKU-1002']);
  });

  it('"the container" names the shipment only right after it; "it" reaches back further', () => {
    const state: RecentEntitiesState = {};
    step(state, 1, 'customs.declaration_status', 'where is SH-2001?', [sh('where is SH-2001?')]);
    step(state, 2, 'assistant.thanks', 'thanks');
    expect(step(state, 3, 'customs.declaration_status', 'has it cleared?', []).map((e) => e.value)).toEqual(['SH-2001']);
    expect(step(state, 4, 'customs.declaration_status', 'and the container?', []).map((e) => e.value)).toEqual(['SH-2001']);
    const later: RecentEntitiesState = {};
    step(later, 1, 'customs.declaration_status', 'where is SH-2001?', [sh('where is SH-2001?')]);
    step(later, 2, 'assistant.thanks', 'thanks');
    expect(step(later, 3, 'customs.declaration_status', "what's the customs status of the container", []).map((e) => e.value)).toEqual([]);
  });

  it('a shipment asked about by description makes the remembered one stale: "it" then asks', () => {
    const state: RecentEntitiesState = {};
    step(state, 1, 'customs.declaration_status', 'status of SH-99999', [sh('status of SH-99999', 'SH-99999')]);
    expect(step(state, 2, 'customs.declaration_status', 'has the Frankfurt shipment cleared?', []).map((e) => e.value)).toEqual([]);
    expect(step(state, 3, 'customs.declaration_status', 'has it cleared?', []).map((e) => e.value)).toEqual([]);
  });

  it('remembers while a dialog asks its own question, but adds nothing then', () => {
    const state: RecentEntitiesState = {};
    withRecentEntities(state, { intent: 'customs.declaration_status', text: 'SH-2001', entities: [sh('SH-2001')] }, { turn: 1, now: 0, resolve: false });
    expect(withRecentEntities(state, { intent: 'customs.declaration_status', text: 'has it cleared?', entities: [] }, { turn: 2, now: 0, resolve: false })).toEqual([]);
    expect(step(state, 3, 'customs.declaration_status', 'has it cleared?', [], 0).map((e) => e.value)).toEqual(['SH-2001']);
  });
});

describe('price questions are routed to the catalog-price read', () => {
  it('a negated order with a price tail is a price question (rule 2 comes before the negation rule)', () => {
    const labels = [...INTENT_LABELS];
    const d: IntentDecision = { intent: 'procurement.create_order', confidence: 0.9, ranking: labels.map((intent) => ({ intent, confidence: intent === 'procurement.create_order' ? 0.9 : 0.1 / 15 })) };
    const g = guardWrite("I don't want to order anything, just checking what SKU-1001 costs", d, [], {}, 'out_of_scope');
    expect(g.decision.intent).toBe('out_of_scope');
    expect(g.decision.fallback?.reason).toBe('price_question');
    expect(g.reclassify).toBeUndefined();
  });

  it('out_of_scope with reason price_question → the price intent; everything else as the NLU said', () => {
    expect(routedIntent({ intent: 'out_of_scope', fallback: { reason: 'price_question' } })).toBe(PRICE_INTENT);
    expect(routedIntent({ intent: 'out_of_scope', fallback: { reason: 'negated_write' } })).toBe('out_of_scope');
    expect(routedIntent({ intent: 'out_of_scope' })).toBe('out_of_scope');
    expect(routedIntent({ intent: 'procurement.create_order' })).toBe('procurement.create_order');
  });
});

describe('language check: ten more languages (guards/language.ts)', () => {
  it.each([
    'Ile mamy SKU-1001 w magazynie WH-A?',
    'Prosím zrušte objednávku PO-1102',
    'Lütfen PO-1102 siparişini iptal et',
    'Hur många SKU-1001 har vi på lagret WH-A?',
    'Annuller venligst ordren PO-1102',
    'Hei, er sendingen SH-2001 fortollet?',
    'Vă rog să anulați comanda PO-1102',
    'Kérem, törölje a PO-1102 rendelést',
    'Tolong batalkan pesanan PO-1102',
    'Vui lòng hủy đơn hàng PO-1102',
  ])('%s → not English', (text) => {
    expect(detectLanguage(text).english).toBe(false);
  });

  it.each(['order 40 bao buns from Globex for the canteen', 'hei, where is PO-1102?', 'is SH-2001 at customs in Oslo yet', 'cancel PO-1102 per Ole and Bjørn'])('%s → English', (text) => {
    expect(detectLanguage(text).english).toBe(true);
  });
});
