/**
 * Issue 14, third round (docs/notes/nlu3.md): wider negation scope, chat refusals and verdicts, more
 * price and customer-work phrasings, chat-noise stripping, sentence re-reads of unsure messages, and
 * the mixed-language write veto. Pure functions first (table-driven), then the shipped model with the
 * rules on and with the one rule off, to show that rule is what makes the difference.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stripChatNoise } from '../../src/nlu/guards/chatNoise.js';
import { splitClauses } from '../../src/nlu/guards/clauses.js';
import { findApproval, findNegatedWrite, findOtherDepartment, findRejection, findVerdict, hasWriteEvidence, isPriceQuestion, namesTheAction } from '../../src/nlu/guards/cues.js';
import { detectLanguage, isMixedLanguage } from '../../src/nlu/guards/language.js';
import { guardWrite } from '../../src/nlu/guards/writeGuard.js';
import { poEntities, sureOf, unsureOf } from './helpers/decisions.js';
import type { IntentDecision } from '../../src/nlu/intents/IntentClassifier.js';
import { DEFAULT_GUARDS, loadNlu, type NluPipeline, type RuntimeGuards } from '../../src/nlu/NluPipeline.js';
import { NON_ENGLISH, WRITE_INTENTS, type Entity } from '../../src/nlu/types.js';

describe('negation scope: "-ing" forms, "be", "bother", "nobody should"', () => {
  it.each([
    ["we're not ordering more SKU-1001 this month", 'not ordering'],
    ['not cancelling PO-1102 after all', 'not cancelling'],
    ["we won't be ordering from Acme anymore", "won't be ordering"],
    ["don't bother filing the declaration for SH-2001", "don't bother filing"],
    ['nobody should cancel PO-1102', 'nobody should cancel'],
    ['hold off on approving PO-1102', 'hold off on approving'],
    ["I'm not moving any stock today", 'not moving'],
  ])('%s → negated (%s)', (text, phrase) => {
    expect(findNegatedWrite(text)?.phrase).toBe(phrase);
  });

  it.each([
    'why was PO-1102 not approved?',
    'the shipment was not received yet, where is it?',
    'is PO-1102 not ordered yet?',
    'cancel PO-1102, we do not need it anymore',
  ])('%s → not a negated write', (text) => {
    expect(findNegatedWrite(text)).toBeUndefined();
  });

  it.each([
    ["not cancelling PO-1102 after all, what's its status?", "what's its status?"],
    ["we're not ordering more SKU-1001 this month, how many do we have?", 'how many do we have?'],
    ["don't cancel PO-1145, just tell me where it is", 'tell me where it is'],
  ])('%s → the question after it is what to answer (%s)', (text, rest) => {
    expect(findNegatedWrite(text)?.rest).toBe(rest);
  });
});

describe('decision phrasing: chat refusals and verdicts', () => {
  it.each([
    'not approving PO-1102, too pricey',
    "I'm going to pass on PO-1102",
    'no go on PO-1102',
    'nope, not signing off on PO-1102',
    "we can't sign off on this one",
    'nix PO-1102',
    'shoot it down',
  ])('%s → a rejection', (text) => {
    expect(findRejection(text)).toBeDefined();
  });

  it('leading refusals in "I\'m going to…" form lead the message', () => {
    expect(findRejection("I'm going to pass on PO-1102")?.leading).toBe(true);
  });

  it.each([
    ['PO-1102: not approved, over budget', 'not approved'],
    ['PO-1102 denied - too pricey', 'denied'],
    ['Rejected. PO-1102 is over budget', 'Rejected'],
  ])('%s → a verdict (%s)', (text, word) => {
    const v = findVerdict(text);
    expect(v && text.slice(v.start, v.end)).toBe(word);
  });

  it.each(['was PO-1102 rejected?', 'cancel PO-1102, supplier declined the terms', 'show me rejected orders', 'why is PO-1102 not approved'])(
    '%s → no verdict',
    (text) => {
      expect(findVerdict(text)).toBeUndefined();
    },
  );
});

describe('price questions and customer work, more phrasings', () => {
  it.each([
    'whats the going rate for SKU-1003',
    'what do we pay per unit for SKU-1001',
    'price check on SKU-1004 pls',
    'is SKU-1001 expensive?',
    "what's the unit cost of SKU-1005 from Globex",
  ])('%s → price question', (text) => {
    expect(isPriceQuestion(text)).toBe(true);
  });

  it.each(['how many SKU-1001 do we have in stock?', 'what is the duty rate for nitrile gloves', 'order 50 SKU-1001 from Acme'])('%s → not a price question', (text) => {
    expect(isPriceQuestion(text)).toBe(false);
  });

  it.each(['order 50 SKU-1001 for our customer Initech', 'ship 20 SKU-1003 to our client in Lyon', 'create an invoice for 30 units of SKU-1002', 'raise a quote for Umbrella Ltd'])(
    '%s → another department',
    (text) => {
      expect(findOtherDepartment(text)).toBeDefined();
    },
  );

  it.each(['order 50 SKU-1001 from Acme', 'status of PO-1102 please', 'move 20 SKU-1001 to WH-B'])('%s → ours', (text) => {
    expect(findOtherDepartment(text)).toBeUndefined();
  });
});

describe('write guard with the new cues', () => {
  const decision = sureOf;
  const po = poEntities;
  it.each([
    ['PO-1102: not approved, over budget', 'procurement.approve_order', 'procurement.approve_order', 'reject'],
    ['not approving PO-1102, too pricey', 'procurement.cancel_order', 'procurement.approve_order', 'reject'],
    ['cancel PO-1102, supplier declined the terms', 'procurement.cancel_order', 'procurement.cancel_order', undefined],
    ['approve PO-1102', 'procurement.approve_order', 'procurement.approve_order', undefined],
    ["we won't be ordering from Acme anymore", 'procurement.create_order', 'out_of_scope', undefined],
    ['ship 20 SKU-1003 to our client in Lyon', 'storage.transfer_stock', 'out_of_scope', undefined],
  ])('%s read as %s → %s (decision %s)', (text, model, intent, value) => {
    const g = guardWrite(text, decision(model), po(text), {}, 'out_of_scope');
    expect(g.decision.intent).toBe(intent);
    expect(g.entities.find((e) => e.type === 'decision')?.value).toBe(value);
  });
});

describe('chat noise around the request', () => {
  it.each([
    ['Hi team,\n\ncan someone pull up all open purchase orders for Globex?\n\nThanks,\nMark', 'can someone pull up all open purchase orders for Globex?'],
    ['hey @maria, whats the status on PO-1102 thx 👍', 'whats the status on PO-1102'],
    ['Morning all! can someone check the status of PO-1102 pls 🙏', 'can someone check the status of PO-1102 pls'],
    ['@bot status PO-1102', 'status PO-1102'],
    ['where is PO-1102? thanks', 'where is PO-1102?'],
    ['where is PO-1102. Thanks, Bob', 'where is PO-1102'],
  ])('%j → %j', (text, request) => {
    expect(stripChatNoise(text)).toBe(request);
  });

  it.each(['hi team', 'thanks!', 'hello there', 'hey, how are you?', "that's all, thanks", 'good morning! hope you\'re well', 'Cancel PO-1102', 'Reject: PO-1102'])(
    '%j stays as typed (small talk, or nothing to strip)',
    (text) => {
      expect(stripChatNoise(text)).toBe(text);
    },
  );
});

describe('sentences of a message', () => {
  it('splits at sentence ends, line breaks, semicolons and spaced dashes, not inside ids or numbers', () => {
    expect(splitClauses('Any update on the paperwork for SH-2003? Broker said it was stuck').map((c) => c.text)).toEqual([
      'Any update on the paperwork for SH-2003?',
      'Broker said it was stuck',
    ]);
    expect(splitClauses('price is 4.50 for PO-1102 - can you check; thanks').map((c) => c.text)).toEqual(['price is 4.50 for PO-1102', 'can you check']);
    const text = 'Hi.\nwhere is SH-2001?';
    const [c] = splitClauses(text);
    expect(text.slice(c!.start, c!.start + c!.text.length)).toBe('where is SH-2001?');
  });
});

describe('language: short foreign chat and mixed messages', () => {
  it.each(['potresti dirmi dove si trova PO-1102?', 'cancela el PO-1102 porfa', 'kannst du PO-1102 freigeben?', 'où en est SH-2001 ?', "j'ai besoin de 20 cartons de SKU-1002", 'kan je PO-1102 annuleren?', 'quanto temos de SKU-1001 no estoque?'])(
    '%s → not English',
    (text) => {
      expect(detectLanguage(text).english).toBe(false);
    },
  );

  it.each([
    ['annule PO-1102 pls thx', true],
    ['im gonna need 50 SKU-1001 from Acme', false],
    ['cancel PO-1102, the Las Vegas site closed', false],
    ['move 20 SKU-1001 to the Los Angeles warehouse', false],
    ['order 50 gloves from Acme', false],
  ])('%s → mixed language: %s', (text, mixed) => {
    expect(isMixedLanguage(text)).toBe(mixed);
  });
});

describe('dev_chat classes (second pass): decisions, evidence, negated reads, formats', () => {
  it.each([
    ["I'd like to deny PO-1128 please, we already have enough pallets in stock", true],
    ['could you turn down PO-1122? the quantity is way too high', true],
    ['why did they deny PO-1122?', false],
  ])('%s → leading refusal: %s', (text, leading) => {
    expect(findRejection(text)?.leading ?? false).toBe(leading);
  });

  it.each(["don't reject PO-1115, approve it", 'do not decline PO-1102', 'never refuse a PO from Acme'])('%s → a negated refusal is no refusal', (text) => {
    expect(findRejection(text)).toBeUndefined();
  });

  it.each([
    ['PO-1117 is rejected, price is 20% above the contract', true],
    ['Denied - too pricey', false],
  ])('%s → verdict on a named order: %s', (text, onOrder) => {
    expect(findVerdict(text)?.onOrder).toBe(onOrder);
  });

  it.each([
    ['ok approving PO-1109 - thx', true],
    ["don't reject PO-1115, approve it", true],
    ['who needs to approve PO-1102?', false],
    ['approval status of PO-1102', false],
  ])('%s → approval instruction: %s', (text, found) => {
    expect(findApproval(text) !== undefined).toBe(found);
  });

  it.each([
    ['heating in the office is off again, freezing here', false],
    ['sry wrong chat', false],
    ['get 3 solar inverters from Contoso', true],
    ['book it in', true],
    ['cxl 10452', true],
    ['authorize it', true],
  ])('%s → words of our write work: %s', (text, evidence) => {
    expect(hasWriteEvidence(text)).toBe(evidence);
  });

  it.each([
    ['storage.receive_goods', '15 x SKU-1001 arrived for PO-1101, pls book', true],
    ['storage.receive_goods', 'put 1,000 gloves from the receiving dock into bin A-02-04', false],
    ['procurement.create_order', 'order 5 gloves, they arrived broken last time', false],
  ])('%s: %s → names the action: %s', (intent, text, named) => {
    expect(namesTheAction(intent, text)).toBe(named);
  });

  it.each(['could you tell me what we pay per solar inverter', 'Is Globex cheaper than Northwind for A4 copy paper?'])('%s → price question', (text) => {
    expect(isPriceQuestion(text)).toBe(true);
  });

  it.each([
    ['export all my open orders to excel', 'export all my open orders'],
    ['download a spreadsheet of the stock in Dallas', 'download the stock in Dallas'],
  ])('%j → %j (the file format is not the request)', (text, request) => {
    expect(stripChatNoise(text)).toBe(request);
  });

  it('clauses split at commas too', () => {
    expect(splitClauses('not PO-1101 specifically, I want all my open orders').map((c) => c.text)).toEqual(['not PO-1101 specifically', 'I want all my open orders']);
  });

  const unsure = unsureOf;
  const sure = sureOf;
  const po = poEntities;
  const guard = (text: string, d: IntentDecision, options = {}) => guardWrite(text, d, po(text), options, 'out_of_scope');

  it.each([
    // [text, model decision, intent with the rules, intent with the one rule off, option turned off]
    ['ok approving PO-1109 - thx', unsure('procurement.order_status'), 'procurement.approve_order', 'out_of_scope', { decision: false }],
    ['PO-1117 is rejected, price is 20% above the contract', unsure('procurement.order_status'), 'procurement.approve_order', 'out_of_scope', { decision: false }],
    ["I'd like to deny PO-1128 please, we have enough in stock", sure('storage.stock_level'), 'procurement.approve_order', 'storage.stock_level', { decision: false }],
    ['dont file anything for SH-2004 yet pls, waiting on the broker', sure('customs.declaration_status'), 'out_of_scope', 'customs.declaration_status', { negation: false }],
    ['heating in the office is off again, freezing here', sure('storage.receive_goods'), 'out_of_scope', 'storage.receive_goods', { evidence: false }],
    [
      '15 x SKU-1001 arrived for PO-1101, pls book',
      sure('storage.receive_goods', 0.82),
      'storage.receive_goods',
      'out_of_scope',
      { actionEvidence: false },
    ],
  ] as [string, IntentDecision, string, string, object][])('%s → %s; with the rule off → %s', (text, d, on, off, disable) => {
    const thresholds = { writeThresholds: { 'storage.receive_goods': 0.88 } };
    expect(guard(text, d, thresholds).decision.intent).toBe(on);
    expect(guard(text, d, { ...thresholds, ...disable }).decision.intent).toBe(off);
  });

  it('a "transfer" with a supplier named and no move verb is not a stock transfer; with a move verb it is', () => {
    const supplier = (text: string): Entity[] => {
      const at = text.indexOf('Initech');
      return at < 0 ? [] : [{ type: 'supplier', value: 'Initech', text: 'Initech', start: at, end: at + 7 }];
    };
    const run = (text: string, options = {}) => guardWrite(text, sure('storage.transfer_stock'), supplier(text), options, 'out_of_scope').decision.intent;
    expect(run('18 solar inverters from Initech, ship to WH-B')).toBe('out_of_scope');
    expect(run('18 solar inverters from Initech, ship to WH-B', { evidence: false })).toBe('storage.transfer_stock');
    expect(run('move the Initech pallets from WH-A to WH-B')).toBe('storage.transfer_stock');
    expect(run('move 20 SKU-1001 from WH-A to WH-B')).toBe('storage.transfer_stock');
  });

  it('a question after the negation keeps the read', () => {
    expect(guard("don't cancel PO-1145, where is it?", sure('procurement.order_status')).decision.intent).toBe('procurement.order_status');
  });
});

const MODEL = 'models/intent-gpt2';
describe.skipIf(!existsSync(`${MODEL}/model.onnx`))('the shipped model with the nlu3 rules', () => {
  const pipelines: Record<string, NluPipeline> = {};
  const variants: Record<string, Partial<RuntimeGuards>> = {
    on: {},
    // nlu4: an unsure status read of the one record named is also kept (write.recordReads), off here to isolate the clause re-read
    noClauses: { clauses: false, write: { recordReads: false } },
    noChatNoiseNoClauses: { chatNoise: false, clauses: false },
    noLanguage: { language: false },
  };
  beforeAll(async () => {
    for (const [name, change] of Object.entries(variants)) {
      pipelines[name] = await loadNlu(MODEL, { guards: { ...DEFAULT_GUARDS, write: {}, ...change } });
    }
  });
  afterAll(async () => {
    await Promise.all(Object.values(pipelines).map((p) => p.close()));
  });
  const intent = async (variant: string, text: string): Promise<string> => (await pipelines[variant]!.recognize(text)).intent;

  it('a greeting and a signed-off request is read as the request; without the stripping it is not', async () => {
    const text = 'Hi team,\n\ncan someone pull up all open purchase orders for Globex?\n\nThanks,\nMark';
    expect(await intent('on', text)).toBe('procurement.list_orders');
    // the stripping alone does it (sentence re-reads off); with neither, the model reads a cancel
    expect(await intent('noClauses', text)).toBe('procurement.list_orders');
    expect(await intent('noChatNoiseNoClauses', text)).not.toBe('procurement.list_orders');
  });

  it('an unsure message is answered from its clear sentence (a read), not sent out of scope', async () => {
    const text = 'Any update on the paperwork for SH-2003? Broker said it was stuck';
    expect(await intent('on', text)).toBe('customs.declaration_status');
    expect(await intent('noClauses', text)).toBe('out_of_scope');
  });

  it('a negated write with a question after it answers the question', async () => {
    expect(await intent('on', "not cancelling PO-1102 after all, what's its status?")).toBe('procurement.order_status');
    expect(await intent('on', "we're not ordering more SKU-1001 this month, how many do we have?")).toBe('storage.stock_level');
    for (const text of ["we won't be ordering from Acme anymore", "don't bother filing the declaration for SH-2001", 'hold off on approving PO-1102']) {
      expect(WRITE_INTENTS, text).not.toContain(await intent('on', text));
    }
  });

  it('refusals and verdicts reach the decision intent with decision=reject', async () => {
    for (const text of ['not approving PO-1102, too pricey', "I'm going to pass on PO-1102", 'no go on PO-1102', 'PO-1102: not approved, over budget']) {
      const r = await pipelines.on!.recognize(text);
      expect(r.intent, text).toBe('procurement.approve_order');
      expect(r.entities.find((e) => e.type === 'decision')?.value, text).toBe('reject');
    }
  });

  it('a message partly in another language never starts a write', async () => {
    const text = 'bitte cancel PO-1115 asap';
    expect(await intent('on', text)).toBe(NON_ENGLISH);
    expect(await intent('noLanguage', text)).toBe('procurement.cancel_order');
    expect(await intent('on', 'cancel PO-1102, the Las Vegas site closed')).toBe('procurement.cancel_order');
  });
});
