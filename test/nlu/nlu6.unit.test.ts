/**
 * nlu6 (issue 14): number words as quantities (entities and the model's input) and a negated write
 * followed by "just <the model's write>". Examples written for these tests, not copied from dev rows.
 */
import { describe, expect, it } from 'vitest';
import { EntityExtractor } from '../../src/nlu/entities/EntityExtractor.js';
import { findWordNumbers } from '../../src/nlu/entities/numbers.js';
import { extractIds } from '../../src/nlu/entities/idExtractor.js';
import { guardWrite } from '../../src/nlu/guards/writeGuard.js';
import { maskQuantities } from '../../src/nlu/normalize.js';
import type { Entity } from '../../src/nlu/types.js';
import { sureOf } from './helpers/decisions.js';

const OOS = 'out_of_scope';
const TRANSFER = 'storage.transfer_stock';
const CANCEL = 'procurement.cancel_order';
const CREATE = 'procurement.create_order';
const RECEIVE = 'storage.receive_goods';

const extractor = new EntityExtractor();
const quantities = (text: string) => extractor.extract(text).filter((e) => e.type === 'quantity');

describe('number words as quantities (entities/numbers.ts, quantityExtractor.ts)', () => {
  it.each([
    ['please get us a hundred SKU-1002 from Globex', 'a hundred', 100, null],
    ['we need forty boxes of nitrile gloves', 'forty boxes', 40, 'box'],
    ['two dozen SKU-1003 please', 'two dozen', 24, null],
    ['fifteen units of SKU-1001 to WH-B', 'fifteen units', 15, 'unit'],
    ['order twenty-five SKU-1004', 'twenty-five', 25, null],
    ['buy one hundred and fifty SKU-1002', 'one hundred and fifty', 150, null],
    ['send a couple of pallets to WH-A', 'a couple of pallets', 2, 'pallet'],
    ['could you move couple of SKU-1001 over', 'couple of', 2, null],
    ['order one SKU-1003', 'one', 1, null],
    ['the one hundred cartons from Acme', 'one hundred cartons', 100, 'carton'],
  ])('%s → %s = %d', (text, span, amount, unit) => {
    const q = quantities(text);
    expect(q.map((e) => e.text)).toEqual([span]);
    expect(q[0]!.value).toEqual({ amount, unit });
  });

  it.each([
    'move that one to WH-B',
    'the one from Acme, not the other',
    'which one SKU-1001 or SKU-1002?',
    'is this one SKU-1003 in stock',
    'order a SKU-1001 for me',
    'hang on a second, SKU-1001 first',
    'wait a couple of days before ordering SKU-1001',
    'we spoke a couple of times about it',
  ])('no quantity in "%s"', (text) => {
    expect(quantities(text)).toEqual([]);
  });

  it('"a couple of" is a word number of 2 ending after "of"; "a" alone is not', () => {
    const text = 'a couple of crates';
    expect(findWordNumbers(text)).toEqual([{ value: 2, start: 0, end: 11, dozen: false }]);
    expect(findWordNumbers('a crate and a box')).toEqual([]);
  });
});

describe('number words read as digits by the model (normalize.ts quantityEdits)', () => {
  it.each([
    ['raise a PO with Globex for a hundred SKU-1002', 'raise a PO with Globex for 100 SKU-1002'],
    ['we need forty boxes of nitrile gloves', 'we need 40 boxes of nitrile gloves'],
    ['fifteen units of SKU-1001 to WH-B', '40 units of SKU-1001 to WH-B'],
    ['buy one hundred and fifty SKU-1002', 'buy 100 SKU-1002'],
    ['send a couple of pallets to WH-A', 'send 5 pallets to WH-A'],
    ['two dozen SKU-1003 please', '40 SKU-1003 please'],
    ['order 301 units of SKU-1001', 'order 100 units of SKU-1001'],
    ['move that one to WH-B', 'move that one to WH-B'],
  ])('%s → %s', (text, expected) => {
    expect(maskQuantities(text, quantities(text))).toBe(expected);
  });
});

describe('a negated write followed by "just <the model\'s write>" (cues.ts restNamesTheWrite)', () => {
  const ents = (text: string): Entity[] => [...extractIds(text).map((c) => c.entity), ...quantities(text)];
  const guard = (text: string, intent: string) => guardWrite(text, sureOf(intent, 0.95), ents(text), {}, OOS);

  it.each([
    ["don't buy more of them, just shift 25 SKU-1002 from WH-A to WH-C", TRANSFER],
    ['no need to reorder, just xfer 40 SKU-1001 to WH-B', TRANSFER],
    ["don't order anything new - just relocate 12 SKU-1004 to WH-D", TRANSFER],
  ])('"%s" stays %s', (text, intent) => {
    const out = guard(text, intent);
    expect(out.decision.intent).toBe(intent);
    expect(out.reclassify).toBeUndefined();
  });

  it('the negated clause\'s entities are the ruled-out ones', () => {
    const text = "don't order SKU-1003, just shift 25 SKU-1002 to WH-C";
    const out = guard(text, TRANSFER);
    expect(out.decision.intent).toBe(TRANSFER);
    expect(out.correctedFrom).toBe(text.indexOf('shift'));
  });

  it.each([
    // the rest's verb names another write than the model's: never that write
    ["don't cancel PO-1204, just shift it to next week", CANCEL],
    ["don't cancel it, just shift 20 SKU-1001 to WH-B", CANCEL],
    ["don't order new ones, just shift 30 SKU-1002 to WH-B", CREATE],
    ["don't move SH-2010, just book it in", TRANSFER],
    // the negated phrase names the model's write itself
    ["don't shift SKU-1001, just shift SKU-1002 to WH-B", TRANSFER],
    // the rest is itself negated, or is not a write at all
    ["don't order any, just don't shift 5 SKU-1001 either", TRANSFER],
    ["don't order more, just tell me the stock of SKU-1002", TRANSFER],
    // the move verb is in the rest, but not its first word: a question about a move, not the move
    ["don't order more, just check whether to shift 20 SKU-1001 to WH-B", TRANSFER],
    // the rest starts with a move word, then negates the move
    ["don't order more, just put it off, don't shift SKU-1001 to WH-B", TRANSFER],
  ])('"%s" read as %s is withheld', (text, intent) => {
    expect(guard(text, intent).decision.intent).toBe(OOS);
  });

  it('a receive after a negated order stands when the model read a receive', () => {
    const text = "don't reorder, just receive 40 boxes on SH-2011";
    expect(guard(text, RECEIVE).decision.intent).toBe(RECEIVE);
  });
});
