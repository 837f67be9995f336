/**
 * Issue 14, fourth round (docs/notes/nlu4.md): the classes left wrong on dev_chat after nlu3, with
 * new examples of each written for these tests (not dev_chat rows): bare order/shipment numbers,
 * questions about a write, unsure reads confirmed by a named record, passive instructions,
 * replacement and partial writes, corrections, customs-code paraphrases and goods' purpose phrases.
 * Pure functions first (table-driven), then the shipped model with each rule on and off.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractIds } from '../../src/nlu/entities/idExtractor.js';
import { findCorrection } from '../../src/nlu/guards/cues.js';
import { asksCustomsCode, findReplacement, isPartialWrite, isWriteQuestion, paraphraseForModel, passiveInstruction } from '../../src/nlu/guards/questions.js';
import { guardWrite, type GuardOptions } from '../../src/nlu/guards/writeGuard.js';
import { bareIdEdits, rewriteSpans } from '../../src/nlu/normalize.js';
import { DEFAULT_GUARDS, loadNlu, type NluPipeline, type RuntimeGuards } from '../../src/nlu/NluPipeline.js';
import { WRITE_INTENTS, type Entity } from '../../src/nlu/types.js';
import type { IntentDecision } from '../../src/nlu/intents/IntentClassifier.js';
import { sureOf, unsureOf } from './helpers/decisions.js';

const OOS = 'out_of_scope';
const STATUS = 'procurement.order_status';
const APPROVE = 'procurement.approve_order';
const CANCEL = 'procurement.cancel_order';
const CREATE = 'procurement.create_order';
const RECEIVE = 'storage.receive_goods';
const DECL_STATUS = 'customs.declaration_status';
const CLASSIFY = 'customs.classify_goods';

/** Every id in the text as the extractor gives it (ids only: enough for the guard's record checks). */
const ids = (text: string): Entity[] => extractIds(text).map((c) => c.entity);
const guard = (text: string, d: IntentDecision, options: GuardOptions = {}) => guardWrite(text, d, ids(text), options, OOS);

describe('bare order and shipment numbers', () => {
  it.each([
    ['status of order 1119', 'PO-1119'],
    ['where is order 1187?', 'PO-1187'],
    ["where's order 1187", 'PO-1187'],
    ['can you cancel order 1187', 'PO-1187'],
    ['approve order 1187 please', 'PO-1187'],
    ['order 1187 still not here, any news?', 'PO-1187'],
    ['any update on the order 1187?', 'PO-1187'],
    ['order 1124 - received or not?', 'PO-1124'],
    ['track shipment 2004', 'SH-2004'],
    ['has shipment 2004 cleared customs yet?', 'SH-2004'],
  ])('%s → %s', (text, id) => {
    expect(ids(text).map((e) => e.value)).toEqual([id]);
  });

  it.each(['order 1000 pallets from Acme', 'order 2000 gloves', 'we need to order 1500', 'please order 1200 bearings from Globex', 'can you order 1500 today'])(
    '%s → a quantity to order, no PO id',
    (text) => {
      expect(ids(text).filter((e) => e.type === 'purchase_order')).toEqual([]);
    },
  );

  it.each([
    ['status of order 1119', 'status of order PO-1119'],
    ['track shipment 2004 pls', 'track shipment SH-2004 pls'],
    ['is purchase order 12001 approved', 'is purchase order PO-12001 approved'],
    // nlu5: ids typed with their prefix in another form get the canonical form (was: left as typed)
    ['status of PO 1119', 'status of PO-1119'],
    ['where is po#1119', 'where is PO-1119'],
    ['SH2004 status', 'SH-2004 status'],
  ])('model input: %s → %s', (text, input) => {
    expect(rewriteSpans(text, bareIdEdits(text, ids(text)))).toBe(input);
  });
});

describe('questions about a write', () => {
  it.each([
    'who needs to approve PO-1102?',
    'who approves PO-1102',
    "who's supposed to sign off on PO-1120",
    'do you know who cancelled PO-1131?',
    'has PO-1120 been approved yet?',
    'was it cancelled?',
    'was PO-1131 cancelled last week?',
    'has PO-1120 been approved by finance',
    'Is PO-1105 received already?',
    'PO-1133 — approved or still pending?',
    'po 1120 approved yet??',
    'po1124 cancelled?',
    'did anyone cancel PO-1150?',
    'did finance approve PO-1120?',
    'when will PO-1120 be approved?',
    'does PO-1148 need to be approved?',
    'have the goods for PO-1118 been booked in?',
  ])('%s → a question about a write', (text) => {
    expect(isWriteQuestion(text)).toBe(true);
  });

  it.each([
    'approve PO-1120',
    'can you approve PO-1120?',
    'could you cancel PO-1131 please',
    'please get PO-1120 approved today',
    'cancel PO-1131, it was never approved',
    'was PO-1131 approved? if not, cancel it',
    'is it possible to have PO-1131 cancelled?',
    'can I cancel PO-1150?',
    'order 500 gloves from Acme, approved by Maria',
  ])('%s → a request, not a question about one', (text) => {
    expect(isWriteQuestion(text)).toBe(false);
  });

  it.each<[string, IntentDecision, string]>([
    ['who needs to approve PO-1102?', sureOf(APPROVE), STATUS],
    ['who approves PO-1102?', sureOf(CANCEL, 0.74), STATUS],
    ['PO-1133 — approved or still pending? need to tell the site mgr', sureOf(DECL_STATUS, 0.76), STATUS],
    ['Is PO-1105 received already?', unsureOf(STATUS, 0.41), STATUS],
    ['did finance approve PO-1120?', sureOf('automation.list_jobs', 0.88), STATUS],
    ['did anyone cancel PO-1150?', unsureOf(DECL_STATUS, 0.41), STATUS],
    ['who can cancel a purchase order?', sureOf(CANCEL), OOS],
    ['has SH-2003 been received?', sureOf(RECEIVE), OOS],
    ['can you approve PO-1120?', sureOf(APPROVE), APPROVE],
    ['was PO-1131 approved? if not, cancel it', sureOf(CANCEL), CANCEL],
  ])('%s (%s) → %s', (text, d, want) => {
    expect(guard(text, d).decision.intent).toBe(want);
  });

  it('off: the write stands', () => {
    expect(guard('who needs to approve PO-1102?', sureOf(APPROVE), { writeQuestions: false }).decision.intent).toBe(APPROVE);
  });
});

describe('an unsure read confirmed by a named record; passive instructions', () => {
  it.each<[string, IntentDecision, string]>([
    ['not asking to change anything, just the status of PO-1141 pls', unsureOf(STATUS, 0.4), STATUS],
    ['what duty did customs assess on CD-3102?', unsureOf(DECL_STATUS, 0.63), DECL_STATUS],
    ['SH-2001 any news from the broker', unsureOf(DECL_STATUS, 0.5), DECL_STATUS],
    // the record is not the kind the read answers about, or there is none, or the model is too unsure
    ['what duty did customs assess on PO-1102?', unsureOf(DECL_STATUS, 0.63), OOS],
    ['status pls', unsureOf(STATUS, 0.5), OOS],
    ['PO-1141 and SH-2001?', unsureOf(STATUS, 0.5), OOS],
    ['PO-1141 hmm', unsureOf(STATUS, 0.3), OOS],
    // a decision cue goes to the decision rules instead
    ['ok approving PO-1109 - thx', unsureOf(STATUS, 0.48), APPROVE],
  ])('%s → %s', (text, d, want) => {
    expect(guard(text, d).decision.intent).toBe(want);
  });

  it.each([
    ['PO-1148 needs to be cancelled at the supplier', CANCEL],
    ['PO-1148 has to be approved today', APPROVE],
    ['PO-1148 must be cancelled', CANCEL],
    ["PO-1148 doesn't need to be cancelled anymore", undefined],
    ['does PO-1148 need to be cancelled?', undefined],
    ['the old PO needs to be checked', undefined],
  ])('%s → passive instruction %s', (text, want) => {
    expect(passiveInstruction(text)).toBe(want);
  });

  it.each<[string, IntentDecision, string]>([
    ['PO-1148 needs to be cancelled at the supplier', unsureOf(CANCEL, 0.41), CANCEL],
    ['PO-1148 needs to be cancelled at the supplier', unsureOf(APPROVE, 0.41), OOS],
    ['the Globex order needs to be cancelled', unsureOf(CANCEL, 0.41), OOS],
  ])('%s (%s) → %s', (text, d, want) => {
    expect(guard(text, d, { writeThresholds: { [CANCEL]: 0.6, [APPROVE]: 0.6 } }).decision.intent).toBe(want);
  });

  it('off: an unsure message stays out of scope', () => {
    expect(guard('what duty did customs assess on CD-3102?', unsureOf(DECL_STATUS, 0.63), { recordReads: false }).decision.intent).toBe(OOS);
    expect(guard('PO-1148 needs to be cancelled', unsureOf(CANCEL, 0.41), { recordReads: false }).decision.intent).toBe(OOS);
  });
});

describe('replacements, partial writes and corrections', () => {
  it.each([
    ["don't order from Acme this time, get 200 SKU-1003 from Northwind instead", 'get 200 SKU-1003 from Northwind instead'],
    ["no, don't buy SKU-1002 from Initech - order 50 boxes from Globex instead", 'order 50 boxes from Globex instead'],
    ["don't order the gloves, just tell me the stock", undefined],
    ["don't order from Acme, get it from Northwind", undefined],
  ])('%s → replacement %s', (text, want) => {
    expect(findReplacement(text)).toBe(want);
  });

  it('a negated order naming its replacement asks the caller to re-read the replacement', () => {
    const text = "don't order from Globex, get 300 gloves from Acme instead";
    const out = guard(text, sureOf(CANCEL, 0.75));
    expect(out.decision.intent).toBe(OOS);
    expect(out.replacement).toBe('get 300 gloves from Acme instead');
    expect(guard(text, sureOf(CANCEL, 0.75), { corrections: false }).replacement).toBeUndefined();
  });

  it('a negated write corrected by an order is withheld and the order re-read, whatever the model made of it', () => {
    const text = "don't get the gloves from Acme, order 300 from Globex instead";
    const out = guard(text, sureOf(CANCEL, 0.89));
    expect(out.decision.intent).toBe(OOS);
    expect(out.replacement).toBe('order 300 from Globex instead');
    expect(guard(text, sureOf(CANCEL, 0.89), { corrections: false }).decision.intent).toBe(CANCEL);
  });

  it.each([
    ["don't book the whole PO-1118, only 60 pallets came", true],
    ["don't receive everything on PO-1118, only 40 boxes arrived", true],
    ["don't book in all of SH-2003, just 12 pallets came", true],
    ["don't book PO-1118 in yet, nothing came", false],
    ["don't receive PO-1118, only the invoice came", false],
  ])('%s → partial: %s', (text, partial) => {
    expect(isPartialWrite(text)).toBe(partial);
  });

  it.each<[string, GuardOptions, string]>([
    ["don't book the whole PO-1118, only 60 pallets came", {}, RECEIVE],
    ["don't book the whole PO-1118, only 60 pallets came", { corrections: false }, OOS],
    ["don't book PO-1118 in yet, nothing came", {}, OOS],
  ])('%s %j → %s', (text, options, want) => {
    expect(guard(text, sureOf(RECEIVE, 0.87), { writeThresholds: { [RECEIVE]: 0.88 }, ...options }).decision.intent).toBe(want);
  });

  it.each([
    ["don't cancel PO-1131, cancel PO-1132 instead", "don't cancel PO-1131".length],
    ["don't send PO-10477, cancel it", "don't send PO-10477".length],
    ['cancel PO-1131', undefined],
    ["don't cancel PO-1131", undefined],
  ])('%s → correction at %s', (text, at) => {
    expect(findCorrection(text)).toBe(at);
    if (at !== undefined) expect(guard(text, sureOf(CANCEL)).correctedFrom).toBe(at);
  });
});

describe('words the model never learned, in its input only', () => {
  it.each([
    ["I'd like to know the HS subheading for LED lamps", "I'd like to know the HS code for LED lamps"],
    ['tariff number for wooden toys?', 'hs code for wooden toys?'],
    ['commodity heading of bike helmets', 'hs code of bike helmets'],
    ['did the Hamburg shipment get through customs?', 'did the Hamburg shipment cleared customs?'],
    ['has SH-2002 made it through customs', 'has SH-2002 cleared customs'],
    ['the truck passed customs', 'the truck cleared customs'],
    ['the HS code for lamps', 'the HS code for lamps'],
  ])('%s → %s', (text, want) => {
    expect(paraphraseForModel(text, false)).toBe(want);
  });

  it.each([
    ['do we have 400 bearings in WH-A for the Monday job?', true, 'do we have 400 bearings in WH-A?'],
    ['can we cover 200 battery packs for the Dallas install from WH-C?', true, 'can we cover 200 battery packs from WH-C?'],
    ['show me the Monday job', false, 'show me the Monday job'],
    ['logs for the Monday job', false, 'logs for the Monday job'],
  ])('%s (goods: %s) → %s', (text, goods, want) => {
    expect(paraphraseForModel(text, goods)).toBe(want);
  });

  it.each([
    ["I'd like to know the HS subheading for LED lamps", true],
    ['which hs for office chairs?', true],
    ['what tariff code applies to euro pallets', true],
    ['HTS number for bike helmets', true],
    ['where are the hs lamps', false],
    ['the tariff went up', false],
  ])('%s → customs-code question: %s', (text, want) => {
    expect(asksCustomsCode(text)).toBe(want);
  });

  it.each<[string, IntentDecision, GuardOptions, string]>([
    ["I'd like to know the HS subheading for LED lamps, thanks", sureOf(OOS, 0.92), {}, CLASSIFY],
    ["I'd like to know the HS subheading for LED lamps, thanks", sureOf(OOS, 0.92), { customsCodes: false }, OOS],
    ['hs code for my holiday souvenirs in my suitcase', sureOf(OOS, 0.88), {}, OOS],
    ['what is the tariff code for LED lamps', sureOf(STATUS, 0.6), {}, STATUS],
  ])('%s (%s) %j → %s', (text, d, options, want) => {
    expect(guard(text, d, options).decision.intent).toBe(want);
  });
});

describe("the model's second choice when the text names it and not the first", () => {
  const TRANSFER = 'storage.transfer_stock';
  /** First `a` at p, second `b` at q: the ranking the model gives these messages. */
  const ranked = (a: string, p: number, b: string, q: number, sure = p >= 0.6): IntentDecision => {
    const ranking = [{ intent: a, confidence: p }, { intent: b, confidence: q }, { intent: OOS, confidence: 1 - p - q }];
    return sure ? { intent: a, confidence: p, ranking } : { intent: OOS, confidence: 1 - p - q, ranking, fallback: { reason: 'low_confidence', intent: a, confidence: p } };
  };
  const supplier = (text: string, name: string): Entity[] => [{ type: 'supplier', value: name, text: name, start: text.indexOf(name), end: text.indexOf(name) + name.length }];
  const bar = { writeThresholds: { [CREATE]: 0.78, [TRANSFER]: 0.6, [RECEIVE]: 0.88 } };

  it.each<[string, IntentDecision, Entity[], GuardOptions, string]>([
    ['Please create an order for 18 solar inverters, Initech, ship to WH-B', ranked(TRANSFER, 0.58, CREATE, 0.29), [], bar, CREATE],
    ['raise a new PO with Initech for 12 desks', ranked(TRANSFER, 0.7, CREATE, 0.2), [], bar, CREATE],
    // the first choice is named too, or the second is too weak, or not a write, or the rule is off
    ['create an order and move it to WH-B, Initech', ranked(TRANSFER, 0.58, CREATE, 0.29), [], bar, OOS],
    ['Please create an order for 18 solar inverters for WH-B', ranked(TRANSFER, 0.8, CREATE, 0.1), [], bar, TRANSFER],
    ['raise a new PO with Initech for 12 desks', ranked(TRANSFER, 0.7, CREATE, 0.1), [], bar, OOS],
    ['Please create an order for 18 solar inverters, Initech', ranked(TRANSFER, 0.58, STATUS, 0.29), [], bar, OOS],
    ['Please create an order for 18 solar inverters, Initech', ranked(TRANSFER, 0.58, CREATE, 0.29), [], { ...bar, namedSecond: false }, OOS],
    // a negation still holds the swapped write back
    ["don't create an order for Initech yet", ranked(TRANSFER, 0.58, CREATE, 0.29), [], bar, OOS],
  ])('%s → %s', (text, d, extra, options, want) => {
    const entities = [...ids(text), ...(text.includes('Initech') ? supplier(text, 'Initech') : []), ...extra];
    expect(guardWrite(text, d, entities, options, OOS).decision.intent).toBe(want);
  });

  it('put … into bin: a transfer the model read as a receipt', () => {
    const text = 'put 1,000 gloves from the receiving dock into bin A-02-04';
    const qty: Entity = { type: 'quantity', value: { amount: 1000, unit: null }, text: '1,000', start: 4, end: 9 };
    expect(guardWrite(text, ranked(RECEIVE, 0.62, TRANSFER, 0.2), [qty], bar, OOS).decision.intent).toBe(TRANSFER);
    // without it the receipt falls below its own bar: "not sure"
    expect(guardWrite(text, ranked(RECEIVE, 0.62, TRANSFER, 0.2), [qty], { ...bar, namedSecond: false }, OOS).decision.intent).toBe(OOS);
  });
});

const MODEL = 'models/intent-gpt2';
describe.skipIf(!existsSync(`${MODEL}/model.onnx`))('the shipped model with the nlu4 rules, each on and off', () => {
  const pipelines: Record<string, NluPipeline> = {};
  const variants: Record<string, Partial<RuntimeGuards>> = {
    on: {},
    noIds: { ids: false },
    noParaphrases: { paraphrases: false },
  };
  const writeVariants: Record<string, GuardOptions> = {
    noWriteQuestions: { writeQuestions: false },
    noCorrections: { corrections: false },
    noCustomsCodes: { customsCodes: false },
    noRecordReads: { recordReads: false },
  };
  beforeAll(async () => {
    for (const [name, change] of Object.entries(variants)) pipelines[name] = await loadNlu(MODEL, { guards: { ...DEFAULT_GUARDS, write: {}, ...change } });
    for (const [name, write] of Object.entries(writeVariants)) pipelines[name] = await loadNlu(MODEL, { guards: { ...DEFAULT_GUARDS, write } });
  });
  afterAll(async () => {
    await Promise.all(Object.values(pipelines).map((p) => p.close()));
  });
  const intent = async (variant: string, text: string): Promise<string> => (await pipelines[variant]!.recognize(text)).intent;

  it('a 4-digit order number after "order" is a PO, and the model reads it as one', async () => {
    const r = await pipelines.on!.recognize('where is order 1187?');
    expect(r.intent).toBe(STATUS);
    expect(r.entities.find((e) => e.type === 'purchase_order')?.value).toBe('PO-1187');
    expect(await intent('noIds', 'where is order 1187?')).not.toBe(STATUS);
  });

  it('questions about a write go to the status read, never the write', async () => {
    for (const text of ['who needs to approve PO-1102?', "who's supposed to approve PO-1120", 'PO-1133 — approved or still pending?']) {
      expect(await intent('on', text), text).toBe(STATUS);
    }
    expect(await intent('noWriteQuestions', 'who needs to approve PO-1102?')).toBe(APPROVE);
    expect(WRITE_INTENTS).not.toContain(await intent('on', 'who can cancel a purchase order?'));
    // requests stay requests
    expect(await intent('on', 'can you approve PO-1120?')).toBe(APPROVE);
    expect(await intent('on', 'could you cancel PO-1131 please')).toBe(CANCEL);
  });

  it('a replacement order is the order of the replacement, with its own supplier', async () => {
    const text = "don't order from Globex, get 300 gloves from Acme instead";
    const r = await pipelines.on!.recognize(text);
    expect(r.intent).toBe(CREATE);
    expect(r.entities.filter((e) => e.type === 'supplier').map((e) => e.value)).toEqual(['Acme Corp']);
    expect(r.entities.find((e) => e.type === 'quantity')?.start).toBe(text.indexOf('300'));
    expect(await intent('noCorrections', text)).toBe(OOS);
  });

  it('a corrected cancel keeps only the order it names', async () => {
    const r = await pipelines.on!.recognize("don't cancel PO-1131, cancel PO-1132 instead");
    expect(r.intent).toBe(CANCEL);
    expect(r.entities.filter((e) => e.type === 'purchase_order').map((e) => e.value)).toEqual(['PO-1132']);
    const off = await pipelines.noCorrections!.recognize("don't cancel PO-1131, cancel PO-1132 instead");
    expect(off.entities.filter((e) => e.type === 'purchase_order').map((e) => e.value)).toEqual(['PO-1131', 'PO-1132']);
  });

  it('a partial receipt is a receipt', async () => {
    expect(await intent('on', "don't receive everything on PO-1118, only 40 boxes arrived")).toBe(RECEIVE);
    expect(await intent('noCorrections', "don't receive everything on PO-1118, only 40 boxes arrived")).toBe(OOS);
  });

  it('customs jargon and purpose phrases', async () => {
    expect(await intent('on', 'did the Rotterdam container get through customs?')).toBe(DECL_STATUS);
    expect(await intent('on', 'I would like the HS subheading for ceramic tiles')).toBe(CLASSIFY);
    expect(await intent('on', 'do we have at least 400 bearings in WH-A for the Monday job?')).toBe('storage.stock_level');
    expect(await intent('noParaphrases', 'do we have at least 400 bearings in WH-A for the Monday job?')).not.toBe('storage.stock_level');
    expect(await intent('noCustomsCodes', "I'd like to know the HS code for LED lamps, thanks")).toBe(OOS);
    expect(await intent('on', "I'd like to know the HS code for LED lamps, thanks")).toBe(CLASSIFY);
  });

  it('an unsure status question on a named order is answered', async () => {
    expect(await intent('on', 'not asking to change anything, just the status of PO-1141 pls')).toBe(STATUS);
    expect(await intent('noRecordReads', 'not asking to change anything, just the status of PO-1141 pls')).toBe(OOS);
  });
});
