import { describe, expect, it } from 'vitest';
import { evaluate, formatReport, parseEvalFile } from '../../src/nlu/evaluation.js';

const C = 'procurement.create_order';
const S = 'procurement.order_status';
const X = 'procurement.cancel_order';
const G = 'assistant.greet';
const O = 'out_of_scope';

//            0  1  2  3  4  5  6  7  8  9
const gold = [C, C, C, S, S, O, O, O, O, G];
const pred = [C, C, S, S, C, O, X, G, O, G];

describe('evaluate (hand-computed)', () => {
  const r = evaluate(gold, pred);

  it('accuracy: 6 of 10 right', () => {
    expect(r.n).toBe(10);
    expect(r.accuracy).toBeCloseTo(0.6, 12);
  });

  it('per-intent precision / recall / F1', () => {
    // create: tp 2, gold 3, predicted 3 (rows 0, 1, 4)
    expect(r.per_intent[C]).toEqual({ precision: 2 / 3, recall: 2 / 3, f1: expect.closeTo(2 / 3, 12), support: 3, predicted: 3 });
    // status: tp 1, gold 2, predicted 2 (rows 2, 3)
    expect(r.per_intent[S]).toMatchObject({ precision: 0.5, recall: 0.5, f1: 0.5, support: 2, predicted: 2 });
    // oos: tp 2, gold 4, predicted 2 → P 1, R 0.5, F1 2/3
    expect(r.per_intent[O]).toMatchObject({ precision: 1, recall: 0.5, support: 4, predicted: 2 });
    expect(r.per_intent[O]!.f1).toBeCloseTo(2 / 3, 12);
    // cancel: never in gold, predicted once → all zero (zero_division = 0)
    expect(r.per_intent[X]).toEqual({ precision: 0, recall: 0, f1: 0, support: 0, predicted: 1 });
    // greet: tp 1, gold 1, predicted 2 → P 0.5, R 1, F1 2/3
    expect(r.per_intent[G]).toMatchObject({ precision: 0.5, recall: 1, support: 1, predicted: 2 });
    expect(r.per_intent[G]!.f1).toBeCloseTo(2 / 3, 12);
  });

  it('macro-F1 averages the 5 labels seen: (2/3 + 1/2 + 2/3 + 0 + 2/3) / 5 = 0.5', () => {
    expect(r.macro_f1).toBeCloseTo(0.5, 12);
  });

  it('out-of-scope recall 2/4 and false-trigger rate 1/4 (row 6: oos → cancel_order)', () => {
    expect(r.oos_recall).toBeCloseTo(0.5, 12);
    // row 7 (oos → greet) is a miss but not a false *trigger*: greet writes nothing
    expect(r.false_trigger_rate).toBeCloseTo(0.25, 12);
  });

  it('confusion[gold][predicted]', () => {
    expect(r.confusion[C]![C]).toBe(2);
    expect(r.confusion[C]![S]).toBe(1);
    expect(r.confusion[S]![C]).toBe(1);
    expect(r.confusion[O]![X]).toBe(1);
    expect(r.confusion[O]![G]).toBe(1);
    expect(r.confusion[X]![X]).toBe(0);
    const total = Object.values(r.confusion).reduce((a, row) => a + Object.values(row).reduce((x, y) => x + y, 0), 0);
    expect(total).toBe(10);
    // every row has every column
    for (const row of Object.values(r.confusion)) expect(Object.keys(row).sort()).toEqual([...r.labels].sort());
  });

  it('labels given but absent from the data are reported with zeros and do not change macro-F1', () => {
    const withAll = evaluate(gold, pred, { labels: [C, S, X, G, O, 'storage.stock_level'] });
    expect(withAll.labels).toContain('storage.stock_level');
    expect(withAll.per_intent['storage.stock_level']).toEqual({ precision: 0, recall: 0, f1: 0, support: 0, predicted: 0 });
    expect(withAll.macro_f1).toBeCloseTo(0.5, 12);
  });

  it('without out_of_scope rows the OOS metrics are null', () => {
    const r2 = evaluate([C, S], [C, C]);
    expect(r2.oos_recall).toBeNull();
    expect(r2.false_trigger_rate).toBeNull();
    expect(r2.accuracy).toBe(0.5);
  });

  it('every write intent counts as a false trigger', () => {
    const writes = [
      'procurement.create_order',
      'procurement.cancel_order',
      'procurement.approve_order',
      'customs.file_declaration',
      'storage.receive_goods',
      'storage.transfer_stock',
    ];
    const reads = ['procurement.order_status', 'procurement.list_orders', 'customs.declaration_status', 'customs.classify_goods', 'storage.stock_level', 'automation.list_jobs', 'assistant.help', 'assistant.greet', 'assistant.thanks'];
    const predicted = [...writes, ...reads, O];
    const r3 = evaluate(predicted.map(() => O), predicted);
    expect(r3.false_trigger_rate).toBeCloseTo(6 / 16, 12);
    expect(r3.oos_recall).toBeCloseTo(1 / 16, 12);
  });

  it('rejects mismatched lengths', () => {
    expect(() => evaluate([C], [])).toThrow(/1 gold labels but 0 predictions/);
  });

  it('formats a readable report', () => {
    const text = formatReport(r);
    expect(text).toContain('accuracy:           60.00%');
    expect(text).toContain('false-trigger rate: 25.00%');
    expect(text).toContain(C);
  });
});

describe('parseEvalFile', () => {
  it('reads JSONL, skipping blank lines', () => {
    expect(parseEvalFile('{"text":"hi","intent":"assistant.greet"}\n\n{"text":"x","intent":"out_of_scope"}\r\n')).toEqual([
      { text: 'hi', intent: 'assistant.greet' },
      { text: 'x', intent: 'out_of_scope' },
    ]);
  });

  it('names the bad line', () => {
    expect(() => parseEvalFile('{"text":"hi","intent":"a"}\nnot json', 'f.jsonl')).toThrow('f.jsonl:2: not valid JSON');
    expect(() => parseEvalFile('{"text":"hi"}', 'f.jsonl')).toThrow('f.jsonl:1: expected');
  });
});
