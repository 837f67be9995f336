/**
 * Issue 14, fifth round (docs/notes/nlu5.md): typo correction to the words the model learned (one
 * pass per message, shared by entities, model input and the write guard), ids in their canonical
 * form, other departments' records and money, questions that are not a move or ask an order's state,
 * stock-and-price questions, warehouse/customs paraphrases, and the confidence of rule-decided
 * intents. All examples written for these tests (not rows of any eval set).
 */
import { existsSync } from 'node:fs';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { extractIds } from '../../src/nlu/entities/idExtractor.js';
import { asksStockAndPrice, findOtherDepartment } from '../../src/nlu/guards/cues.js';
import { asksStateOnly, paraphraseForModel } from '../../src/nlu/guards/questions.js';
import { RULE_CONFIDENCE } from '../../src/nlu/guards/ruleConfidence.js';
import * as spelling from '../../src/nlu/guards/spelling.js';
import { adjacentKeys, correctionOf, correctSpelling, slipLikelihood } from '../../src/nlu/guards/spelling.js';
import { guardWrite } from '../../src/nlu/guards/writeGuard.js';
import { bareIdEdits, quantityEdits, rewriteSpans } from '../../src/nlu/normalize.js';
import { DEFAULT_GUARDS, loadNlu } from '../../src/nlu/NluPipeline.js';
import { INTENT_LABELS, type Entity } from '../../src/nlu/types.js';
import type { LogitsRunner } from '../../src/inference/onnxSession.js';
import { GptTokenizer } from '../../src/inference/tokenizer.js';
import { sureOf, unsureOf } from './helpers/decisions.js';

vi.mock('../../src/nlu/guards/spelling.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../src/nlu/guards/spelling.js')>();
  return { ...m, correctSpelling: vi.fn(m.correctSpelling) };
});

const OOS = 'out_of_scope';
const STATUS = 'procurement.order_status';
const APPROVE = 'procurement.approve_order';
const CANCEL = 'procurement.cancel_order';
const TRANSFER = 'storage.transfer_stock';
const STOCK = 'storage.stock_level';
const CLASSIFY = 'customs.classify_goods';
const MODEL_DIR = 'models/intent-gpt2';

const ids = (text: string): Entity[] => extractIds(text).map((c) => c.entity);
const guard = (text: string, d: Parameters<typeof guardWrite>[1], entities: Entity[] = ids(text)) => guardWrite(text, d, entities, {}, OOS);
const sku = (text: string, name: string, value = 'SKU-1001'): Entity => {
  const at = text.indexOf(name);
  return { type: 'sku', value, text: name, start: at, end: at + name.length };
};

describe('typo correction to the words the model learned (guards/spelling.ts)', () => {
  it.each([
    // a dropped letter, two letters swapped, a doubled letter, a neighbouring key
    ['warehuose', 'warehouse'],
    ['declaraton', 'declaration'],
    ['pallest', 'pallets'],
    ['shipemnt', 'shipment'],
    ['suplier', 'supplier'],
    ['trnsfer', 'transfer'],
    ['recieved', 'received'],
    ['clered', 'cleared'],
    ['cusotms', 'customs'],
    ['hlep', 'help'],
    ['jbos', 'jobs'],
    ['lsit', 'list'],
    // between two readings the likelier slip wins: a dropped "c" over a "k" for "p"; a dropped "r" over "d" for "v"
    ['stok', 'stock'],
    ['oder', 'order'],
    ['josb', 'jobs'],
    // 3 letters: a short command's dropped letter, or a swap
    ['fle', 'file'],
    ['bto', 'bot'],
  ])('%s → %s', (typed, word) => {
    expect(correctionOf(typed)).toBe(word);
  });

  it.each([
    // English words and the training data's own words
    'older', 'border', 'prize', 'custom', 'define',
    // our words no dictionary has, chat spellings without the apostrophe
    'approver', 'checkin', 'dont', 'theyre',
    // 3 letters that are not a short command's slip
    'inv', 'sto', 'sry', 'tnx',
    // two readings as likely: no guess
    'jast',
    // a name typed as a name
    'Oder',
  ])('%s stays as typed', (word) => {
    expect(correctionOf(word)).toBeUndefined();
  });

  it.each([
    ['e', 'r', true],
    ['d', 'c', true],
    ['a', 'q', true],
    ['p', 'l', true],
    ['d', 'v', false],
    ['q', 'p', false],
  ])('neighbouring keys %s/%s: %s', (a, b, near) => {
    expect(adjacentKeys(a, b)).toBe(near);
  });

  it.each([
    ['stok', 'stock', 1],
    ['stok', 'stop', 0.05],
    ['jbos', 'jobs', 1],
    ['recieve', 'receive', 1],
    ['ordwr', 'order', 0.3],
  ])('slip likelihood %s ← %s: %s', (typed, target, p) => {
    expect(slipLikelihood(typed, target)).toBe(p);
  });

  it.each([
    ['re-fiel SH-2003', 're-file SH-2003'],
    ['bin-ordr ACME-7', 'bin-ordr ACME-7'],
    ['pls trnsfer 20 pallest to WH-B', 'pls transfer 20 pallets to WH-B'],
    // a name typed as a name stays; in a Title Case message the capital says nothing
    ['ship it via the Oder river', 'ship it via the Oder river'],
    ['New Purchase Oder For Acme', 'New Purchase order For Acme'],
  ])('whole words, a word prefix but no glued code: %s → %s', (typed, text) => {
    expect(correctSpelling(typed).text).toBe(text);
  });
});

describe('ids in the form the model learned (normalize.ts bareIdEdits)', () => {
  const skuOf = (text: string): Entity[] => {
    const m = /\bsku\W*(\d+)/i.exec(text);
    return m ? [{ type: 'sku', value: `SKU-${m[1]}`, text: m[0], start: m.index, end: m.index + m[0].length }] : [];
  };
  it.each([
    ['where is PO 1502 at', 'where is PO-1502 at'],
    ['po# 1502 status', 'PO-1502 status'],
    ['has sh3301 cleared', 'has SH-3301 cleared'],
    ['cd4410 filed?', 'CD-4410 filed?'],
    ['how many SKU 1042 left', 'how many SKU-1042 left'],
    ['status of PO-1502', 'status of PO-1502'],
    ['status of order 1502', 'status of order PO-1502'],
  ])('%s → %s', (text, input) => {
    const entities = [...ids(text), ...skuOf(text)];
    expect(rewriteSpans(text, bareIdEdits(text, entities))).toBe(input);
  });

  it('a product read as a SKU keeps its name', () => {
    const text = 'how many bearings left';
    expect(rewriteSpans(text, bareIdEdits(text, [sku(text, 'bearings')]))).toBe(text);
  });
});

describe("other departments' records, money, budgets and hiring (cues.ts)", () => {
  it.each([
    'cancel the customer order SO-7781',
    'please cancel customer order 7781 for Umbrella',
    'void INV-5521 please',
    'we received the payment from Globex yesterday',
    'has finance paid the Initech invoices from March?',
    'please approve the 2027 travel budget',
    'can you sign off on our marketing budget',
    'where do I post the job opening for pickers at WH-B?',
    'my nephew is looking for work, any openings?',
  ])('%s → another department', (text) => {
    expect(findOtherDepartment(text), text).toBeDefined();
  });

  it.each([
    'approve PO-1502, it is within budget',
    'reject PO-1502, way over budget',
    'receive 40 boxes against PO-1502',
    'show me the failed jobs',
  ])('%s → ours', (text) => {
    expect(findOtherDepartment(text), text).toBeUndefined();
  });

  it('a write on another department\'s record is withheld; an approval within budget stands', () => {
    expect(guard('cancel the customer order SO-7781', sureOf(CANCEL)).decision.intent).toBe(OOS);
    expect(guard('approve PO-1502, it is within budget', sureOf(APPROVE)).decision.intent).toBe(APPROVE);
  });
});

describe('spans from the corrected text point into the typed text', () => {
  it("a replacement clause comes back as typed (the caller finds it in the message)", () => {
    const text = "don't order from Acme this time, get 200 SKU-1003 from Nrthwind insted";
    const g = guard(text, sureOf('procurement.cancel_order'));
    expect(g.replacement).toBeDefined();
    expect(text.includes(g.replacement!), g.replacement).toBe(true);
  });

  it('quantities are masked number by number, so a word in the span stays free for the spelling fix', () => {
    expect(quantityEdits('order 301 unitz', [{ start: 6, end: 15 }])).toEqual([{ start: 6, end: 9, text: '100' }]);
  });
});

describe('a question about two warehouses is not a move', () => {
  it.each([
    'how far is WH-A from WH-C?',
    "what's the quickest route from WH-B to WH-A",
    'is there a shuttle between WH-A and WH-B?',
  ])('%s → out of scope', (text) => {
    const g = guard(text, sureOf(TRANSFER));
    expect(g.decision.intent, text).toBe(OOS);
    expect(g.decision.fallback?.reason).toBe('write_guard');
  });

  it.each([
    'swap the contents of bins A-02-01 and A-02-07',
    'can you shift things around between WH-A and WH-B?',
    'how do I move the forklift batteries from WH-A to WH-B?',
  ])('%s stays a transfer (an instruction, or the move is named)', (text) => {
    expect(guard(text, sureOf(TRANSFER)).decision.intent, text).toBe(TRANSFER);
  });
});

describe("a question about an order's state that never names the write", () => {
  it.each([
    ['I sent PO-1502 to Globex last week and nothing came back, is it lost?', CANCEL],
    ['PO-1502 has been sitting there for days, what is going on?', APPROVE],
    ['we raised PO-1502 ages ago, why is nothing happening??', CANCEL],
  ])('%s (%s) → order status', (text, top) => {
    const g = guard(text, sureOf(top));
    expect(g.decision.intent, text).toBe(STATUS);
    expect(g.decision.fallback?.reason).toBe('write_question');
  });

  it.each([
    ['PO-1502 is stuck, is it possible to cancel it?', CANCEL],
    ['PO-1502 is stuck, cancel it', CANCEL],
    ['PO-1502 looks fine, ok to approve?', APPROVE],
  ])('%s keeps %s (the verb is there, or no question)', (text, top) => {
    expect(asksStateOnly(text, top), text).toBe(false);
    expect(guard(text, sureOf(top)).decision.intent, text).toBe(top);
  });
});

describe('a stock question that also asks the price', () => {
  it.each([
    'how many SKU-1001 are in stock and what do they cost?',
    'what does SKU-1001 cost and how many do we have on hand',
  ])('%s, model unsure → stock level', (text) => {
    expect(asksStockAndPrice(text)).toBe(true);
    const g = guard(text, unsureOf(CLASSIFY), [sku(text, 'SKU-1001')]);
    expect(g.decision.intent).toBe(STOCK);
    expect(g.decision.rule).toBe('stock_and_price');
  });

  it('a price question alone stays the price answer; without a product nothing is decided', () => {
    const price = 'what does SKU-1001 cost?';
    expect(guard(price, unsureOf(CLASSIFY), [sku(price, 'SKU-1001')]).decision.fallback?.reason).toBe('price_question');
    const vague = 'how much stock do we have and what does it cost?';
    expect(guard(vague, unsureOf(CLASSIFY), []).decision.intent).toBe(OOS);
  });
});

describe("warehouse and customs words the model never learned (model input)", () => {
  it.each([
    ['goods receipt for SH-3301 please', 'receive SH-3301 please'],
    ['post a goods receipt on PO-1502', 'receive PO-1502'],
    ['SH-3301 is on the dock, pls GR it', 'SH-3301 is on the dock, pls receive it'],
    ['SH-3301 IS ON THE DOCK, PLS GR IT', 'SH-3301 IS ON THE DOCK, PLS receive IT'],
    ['Pls Gr Them Today', 'Pls receive Them Today'],
    ['lodge the entry for SH-3301', 'file the declaration for SH-3301'],
    ['can you get the customs entry lodged today', 'can you file the declaration today'],
    ['fix the journal entry for March', 'fix the journal entry for March'],
    ['500 gr of glue', '500 gr of glue'],
  ])('%s → %s', (text, input) => {
    expect(paraphraseForModel(text, false)).toBe(input);
  });
});

describe('a rule-decided intent carries the rule\'s confidence', () => {
  it.each([
    ['decline PO-1502, too pricey', sureOf(CANCEL, 0.8), APPROVE, 'rejection'],
    ['who still has to approve PO-1502?', sureOf(APPROVE, 0.9), STATUS, 'write_question'],
    ['I sent PO-1502 to Globex last week and nothing came back, is it lost?', sureOf(CANCEL, 0.9), STATUS, 'write_question'],
    ['which HS heading do LED strips fall under', unsureOf(OOS, 0.5), CLASSIFY, 'customs_code'],
  ] as const)('%s → %s by %s, at its confidence', (text, d, intent, rule) => {
    const g = guard(text, d);
    expect(g.decision.intent).toBe(intent);
    expect(g.decision.rule).toBe(rule);
    // the model's own probability of the chosen intent was low (the helpers spread 1 − top over the rest)
    expect(d.ranking.find((r) => r.intent === intent)!.confidence).toBeLessThan(0.5);
    expect(g.decision.confidence).toBe(RULE_CONFIDENCE[rule]);
    expect(g.decision.confidence).toBeGreaterThanOrEqual(0.5);
  });

  it('the model\'s probability stands where it is higher than the rule\'s', () => {
    const text = 'PO-1502 — how is it going';
    const d = unsureOf(STATUS, 0.59);
    const g = guard(text, d);
    expect(g.decision.rule).toBe('record_read');
    expect(g.decision.confidence).toBe(Math.max(0.59, RULE_CONFIDENCE.record_read));
    const d2 = { ...unsureOf(STATUS, 0.59), ranking: d.ranking.map((r) => (r.intent === STATUS ? { ...r, confidence: 0.97 } : r)) };
    expect(guard(text, d2).decision.confidence).toBe(0.97);
  });
});

describe('one spelling pass per message, shared by entities, model input and the write guard', () => {
  const present = existsSync(`${MODEL_DIR}/model.onnx`);
  /** A model that always says `top` at 0.9, and records what it was given. */
  const fake = (top: string): LogitsRunner & { seen: number[][] } => {
    const seen: number[][] = [];
    return {
      provider: 'fake',
      seen,
      async run(sequences) {
        seen.push(...sequences.map((s) => [...s]));
        const logits = sequences.map(() => Float32Array.from(INTENT_LABELS, (l) => (l === top ? 5 : 0)));
        return { logits, numLabels: INTENT_LABELS.length, batchSize: sequences.length, seqLen: 1, timings: { padMs: 0, inferenceMs: 0 } };
      },
      async close() {},
    };
  };
  beforeEach(() => {
    vi.mocked(spelling.correctSpelling).mockClear();
  });

  it.skipIf(!present)('a typo\'d write is corrected once; entities are read through the typos, spans on the typed text', async () => {
    const runner = fake(STATUS);
    const nlu = await loadNlu(MODEL_DIR, { runner, guards: { ...DEFAULT_GUARDS, write: {} }, warmup: false });
    try {
      const text = 'status of ordeer 1502 pls';
      const r = await nlu.recognize(text);
      expect(vi.mocked(spelling.correctSpelling)).toHaveBeenCalledTimes(1);
      expect(r.intent).toBe(STATUS);
      const po = r.entities.find((e) => e.type === 'purchase_order');
      expect(po?.value).toBe('PO-1502');
      expect(po && text.slice(po.start, po.end)).toBe(po?.text);
      expect(po?.text).toMatch(/^ordeer 1502$/);
      // the model read the corrected word and the id in its canonical form
      const tokenizer = await GptTokenizer.fromDir(MODEL_DIR, { maxLength: 64, padTokenId: 50256 });
      const inputs = runner.seen.map((seq) => tokenizer.decode(seq));
      expect(inputs).toEqual(['status of order PO-1502 pls']);

      // a misspelt name is the name matcher's to read as typed (the skill asks "did you mean…?"); the model reads the name
      runner.seen.length = 0;
      const named = await nlu.recognize('order 5 euro pallets from Acmee');
      expect(named.entities.filter((e) => e.type === 'supplier')).toEqual([]);
      expect(runner.seen.map((seq) => tokenizer.decode(seq))).toEqual(['order 5 euro pallets from acme']);

      const dated = await nlu.recognize('need 40 boxse of SKU-1001 by tomorow');
      expect(vi.mocked(spelling.correctSpelling)).toHaveBeenCalledTimes(3);
      const date = dated.entities.find((e) => e.type === 'date');
      expect(date?.text).toBe('tomorow');
    } finally {
      await nlu.close();
    }
  });
});
