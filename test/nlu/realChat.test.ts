/**
 * The shipped model with the runtime rules (src/nlu/guards, casing and quantity masking) on the
 * classes of real-chat errors of issue 14. Where the plain model is wrong on a case, the test also
 * runs it plain (`guards: 'plain'`) to show the rule is what fixes it.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNlu, type NluPipeline } from '../../src/nlu/NluPipeline.js';
import { NON_ENGLISH, WRITE_INTENTS, type NluResult } from '../../src/nlu/types.js';
import { lower, title, upper } from '../../src/nlu/robustness.js';

const MODEL = 'models/intent-gpt2';
const present = existsSync(`${MODEL}/model.onnx`);
// Wednesday 2 December 2026, 09:00 local time.
const NOW = new Date(2026, 11, 2, 9, 0, 0);

describe.skipIf(!present)('NLU on real workplace chat (shipped model)', () => {
  let nlu: NluPipeline;
  let plain: NluPipeline;
  beforeAll(async () => {
    nlu = await loadNlu(MODEL, { now: () => NOW });
    plain = await loadNlu(MODEL, { now: () => NOW, guards: 'plain' });
  });
  afterAll(async () => {
    await nlu?.close();
    await plain?.close();
  });
  const isWrite = (r: NluResult) => WRITE_INTENTS.includes(r.intent);
  const entity = (r: NluResult, type: string) => r.entities.filter((e) => e.type === type).map((e) => e.value);

  it('casing: UPPER, Title and lower case give the intent of the original', async () => {
    const texts = [
      'help',
      'status of PO-1203',
      'order 40 boxes of A4 paper from Globex',
      'cancel PO-1150',
      'how many SKU-1001 do we have in WH-B',
      'has SH-2001 cleared customs yet',
      'move 20 pallets from WH-A to WH-C',
      'thanks a lot',
    ];
    const base = await nlu.recognizeBatch(texts);
    for (const f of [upper, title, lower]) {
      const variant = await nlu.recognizeBatch(texts.map((t, i) => f(t, i)));
      variant.forEach((r, i) => expect(r.intent, r.text).toBe(base[i]!.intent));
    }
    expect((await nlu.recognize('HELP')).intent).toBe('assistant.help');
    // The plain model does not hold up on Title Case (measured: 77% on validation): the normalisation is what fixes it.
    const plainTitle = await plain.recognizeBatch(texts.map((t, i) => title(t, i)));
    const plainBase = await plain.recognizeBatch(texts);
    expect(plainTitle.some((r, i) => r.intent !== plainBase[i]!.intent)).toBe(true);
  });

  it('rejections reach the decision intent with decision=reject', async () => {
    for (const text of ['reject PO-1102', 'reject PO-1102, too expensive', 'decline PO-1102', 'Deny PO-1102 please']) {
      const r = await nlu.recognize(text);
      expect(r.intent, text).toBe('procurement.approve_order');
      expect(entity(r, 'decision'), text).toEqual(['reject']);
      expect(entity(r, 'purchase_order'), text).toEqual(['PO-1102']);
    }
    const approve = await nlu.recognize('approve PO-1102');
    expect(approve.intent).toBe('procurement.approve_order');
    expect(entity(approve, 'decision')).toEqual([]);
    // Plain, the model reads "reject" as cancel (issue 14).
    expect((await plain.recognize('reject PO-1102')).intent).not.toBe('procurement.approve_order');
  });

  it('negation never starts a write', async () => {
    for (const text of [
      "don't order 100 SKU-1001 from Acme",
      "I don't want to order anything, just checking what SKU-1001 costs",
      'do not cancel PO-1145',
      'no need to file a declaration for SH-2001',
      "don't approve PO-1102 yet",
    ]) {
      const r = await nlu.recognize(text);
      expect(isWrite(r), `${text} → ${r.intent}`).toBe(false);
    }
    const rest = await nlu.recognize("don't cancel PO-1145, just tell me where it is");
    expect(rest.intent).toBe('procurement.order_status');
    expect((await plain.recognize("don't order 100 SKU-1001 from Acme")).intent).toBe('procurement.cancel_order');
  });

  it("other departments' requests are not our writes", async () => {
    for (const text of [
      'bill our client Tyrell Corp for 120 SKU-1004',
      'send an invoice to our customer Umbrella Ltd for 50 units of SKU-1002',
      'please submit my expense report for the Dallas trip',
    ]) {
      const r = await nlu.recognize(text);
      expect(r.intent, text).toBe('out_of_scope');
    }
  });

  it('digits: 300, 301 and 302 units are the same request', async () => {
    const rs = await nlu.recognizeBatch([300, 301, 302, 47, 1250].map((n) => `order ${n} units of SKU-1001 from Acme Corp`));
    for (const r of rs) expect(r.intent, r.text).toBe('procurement.create_order');
    expect(rs.map((r) => (entity(r, 'quantity')[0] as { amount: number }).amount)).toEqual([300, 301, 302, 47, 1250]);
    // Plain, 301 is read as an HS-code search (issue 14).
    expect((await plain.recognize('order 301 units of SKU-1001 from Acme Corp')).intent).not.toBe('procurement.create_order');
  });

  it('German and Chinese get the English-only answer, never a write', async () => {
    for (const text of ['Hallo, wie viele SKU-1001 haben wir im Lager WH-A?', '帮我订购100个SKU-1001', 'Bitte PO-1150 stornieren']) {
      const r = await nlu.recognize(text);
      expect(r.intent, text).toBe(NON_ENGLISH);
      expect(r.fallback?.reason).toBe('non_english');
    }
  });

  it('a greeting does not move the need-by date: "by next Tuesday" stays Tuesday', async () => {
    const with_ = await nlu.recognize('Good morning, can we get 40 boxes of A4 paper from Globex by next Tuesday?');
    const without = await nlu.recognize('can we get 40 boxes of A4 paper from Globex by next Tuesday?');
    expect(with_.intent).toBe('procurement.create_order');
    expect(entity(with_, 'date')).toEqual(['2026-12-08']);
    expect(entity(with_, 'date')).toEqual(entity(without, 'date'));
  });

  it('"200 more bearings" is a quantity of bearings', async () => {
    const r = await nlu.recognize('I need 200 more bearings by friday for Dallas');
    expect(entity(r, 'quantity')).toEqual([{ amount: 200, unit: null }]);
    expect(entity(r, 'sku')).toEqual(['SKU-1001']);
    expect(entity(r, 'warehouse')).toEqual(['WH-B']);
    expect(entity(r, 'date')).toEqual(['2026-12-04']);
  });

  it('"what does SKU-1001 cost?" is a price question, not an HS-code search', async () => {
    const r = await nlu.recognize('what does SKU-1001 cost?');
    expect(r.intent).toBe('out_of_scope');
    expect(r.fallback?.reason).toBe('price_question');
    expect((await plain.recognize('what does SKU-1001 cost?')).intent).toBe('customs.classify_goods');
  });
});
