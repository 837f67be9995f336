import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnnxClassifierSession, type LogitsRunner } from '../../src/inference/onnxSession.js';
import { chooseProvider } from '../../src/inference/executionProvider.js';
import { findKey, readModelDir } from '../../src/inference/modelDir.js';
import { loadNlu, type NluPipeline } from '../../src/nlu/NluPipeline.js';
import { INTENT_LABELS } from '../../src/nlu/types.js';
import { TurnTrace, runWithTrace } from '../../src/tracing/turnTrace.js';

const FIXTURE = 'test/fixtures/tiny-gpt2';
const REAL = 'models/intent-gpt2';

const TEXTS = [
  'raise a PO for 200 steel bearings from Globex',
  'what is the status of PO-10452',
  'hi',
  'move 40 boxes of gloves from WH-A to Rotterdam tomorrow',
  'what is the weather in paris',
  '日本語のテキスト 😀',
  `please order ${'lots of gloves and '.repeat(40)}from Acme`, // longer than the 32-token window
  '   leading and trailing spaces   ',
];

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

describe('fixture model (tiny-gpt2)', () => {
  let nlu: NluPipeline;
  beforeAll(async () => {
    // The model and its out_of_scope rule only: the runtime guards (language check, write guard,
    // casing) are tested in test/nlu/ and would override the rule checked below (e.g. Japanese text).
    nlu = await loadNlu(FIXTURE, { now: () => new Date(2025, 4, 7, 10), guards: 'plain' });
  });
  afterAll(async () => {
    await nlu?.close();
  });

  it('loads with the card’s settings', () => {
    const info = nlu.info();
    expect(nlu.ready).toBe(true);
    expect(info.labels).toEqual([...INTENT_LABELS]);
    expect(info.provider).toBe('cpu');
    expect(info.padTokenId).toBe(50256);
    // the window comes from the model card and never exceeds n_positions
    const card = info.card!;
    const nPositions = findKey(card, 'n_positions') as number;
    expect(info.maxLength).toBe(Math.min((findKey(card, 'max_length') as number | undefined) ?? nPositions, nPositions));
    expect(info.thresholds).toEqual(card.thresholds);
    expect(info.name).toBe(card.name);
  });

  it('session: logits are [batch, labels] float32', async () => {
    const session = await OnnxClassifierSession.load(path.join(FIXTURE, 'model.onnx'), { padTokenId: 50256 });
    try {
      const out = await session.run([[15496], [15496, 995, 11, 703], [40, 1101]]);
      expect(out.batchSize).toBe(3);
      expect(out.seqLen).toBe(4);
      expect(out.numLabels).toBe(16);
      expect(out.logits).toHaveLength(3);
      for (const row of out.logits) {
        expect(row).toBeInstanceOf(Float32Array);
        expect(row).toHaveLength(16);
        expect([...row].every(Number.isFinite)).toBe(true);
      }
      expect(out.timings.inferenceMs).toBeGreaterThan(0);
      // padding must not change a row's logits
      const alone = await session.run([[15496]]);
      [...alone.logits[0]!].forEach((v, i) => expect(out.logits[0]![i]).toBeCloseTo(v, 4));
    } finally {
      await session.close();
    }
    await expect(session.run([[1]])).rejects.toThrow(/closed/);
  });

  it('probabilities sum to 1 and the ranking covers every label, best first', async () => {
    for (const text of TEXTS) {
      const r = await nlu.recognize(text);
      expect(r.text).toBe(text);
      expect(r.ranking).toHaveLength(16);
      expect(new Set(r.ranking.map((x) => x.intent))).toEqual(new Set(INTENT_LABELS));
      expect(sum(r.ranking.map((x) => x.confidence))).toBeCloseTo(1, 5);
      for (let i = 1; i < r.ranking.length; i++) {
        expect(r.ranking[i]!.confidence).toBeLessThanOrEqual(r.ranking[i - 1]!.confidence);
      }
      expect(r.confidence).toBe(r.ranking.find((x) => x.intent === r.intent)!.confidence);
      // the out_of_scope rule, with the card's thresholds
      const [top, second] = r.ranking;
      const { confidence, margin } = nlu.info().thresholds;
      const unsure = top!.confidence < confidence || top!.confidence - second!.confidence < margin;
      expect(r.intent).toBe(unsure ? 'out_of_scope' : top!.intent);
    }
  });

  it('batch results equal single results (padding does not leak)', async () => {
    const batch = await nlu.recognizeBatch(TEXTS, { batchSize: 5 });
    for (let i = 0; i < TEXTS.length; i++) {
      const single = await nlu.recognize(TEXTS[i]!);
      expect(batch[i]!.text).toBe(TEXTS[i]);
      expect(batch[i]!.intent).toBe(single.intent);
      expect(batch[i]!.entities).toEqual(single.entities);
      const byIntent = new Map(single.ranking.map((x) => [x.intent, x.confidence]));
      for (const x of batch[i]!.ranking) expect(x.confidence).toBeCloseTo(byIntent.get(x.intent)!, 5);
    }
  });

  it('a long message is truncated (start kept), not rejected', async () => {
    const long = `cancel PO-10452 ${'because it is no longer needed '.repeat(500)}`;
    const r = await nlu.recognize(long);
    expect(r.ranking).toHaveLength(16);
    const prefix = await nlu.recognize(long.slice(0, 400));
    // both see the same first 32 tokens
    expect(r.ranking[0]).toEqual(prefix.ranking[0]);
    expect(r.entities[0]).toMatchObject({ type: 'purchase_order', value: 'PO-10452', start: 7 });
  });

  it('empty input is out_of_scope without a model call', async () => {
    for (const text of ['', '   ', '\n']) {
      const r = await nlu.recognize(text);
      expect(r.intent).toBe('out_of_scope');
      expect(r.fallback?.reason).toBe('empty_input');
      expect(r.entities).toEqual([]);
    }
  });

  it('entities come with the result', async () => {
    const r = await nlu.recognize('move 40 boxes of gloves from WH-A to Rotterdam tomorrow');
    expect(r.entities.map((e) => [e.type, e.value])).toEqual([
      ['quantity', { amount: 40, unit: 'box' }],
      ['sku', 'SKU-1003'],
      ['warehouse', 'WH-A'],
      ['warehouse', 'WH-C'],
      ['date', '2025-05-08'],
    ]);
  });

  it('records tokenize / inference timings and the intent in the current turn trace', async () => {
    const trace = new TurnTrace({ conversationId: 'c1' });
    const r = await runWithTrace(trace, () => nlu.recognize('what is the status of PO-10452'));
    const rec = trace.end();
    expect(rec.stages.tokenize).toBeGreaterThanOrEqual(0);
    expect(rec.stages.inference).toBeGreaterThan(0);
    expect(rec.intent).toBe(r.intent);
    expect(rec.confidence).toBe(r.confidence);
    // outside a turn nothing breaks
    await expect(nlu.recognize('hello')).resolves.toMatchObject({ text: 'hello' });
  });

  it('config overrides the card’s thresholds', async () => {
    const strict = await loadNlu(FIXTURE, { confidenceThreshold: 0.999, margin: 0.5 });
    try {
      expect(strict.info().thresholds).toEqual({ confidence: 0.999, margin: 0.5 });
      const r = await strict.recognize('raise a PO for 200 steel bearings from Globex');
      expect(r.intent).toBe('out_of_scope');
      if (r.ranking[0]!.intent !== 'out_of_scope') expect(r.fallback?.intent).toBe(r.ranking[0]!.intent);
    } finally {
      await strict.close();
    }
  });
});

describe('loading errors', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(tmpdir(), 'nlu-model-'));
    for (const f of ['model.onnx', 'tokenizer.json', 'model_card.json']) await copyFile(path.join(FIXTURE, f), path.join(tmp, f));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('a missing directory names the missing file', async () => {
    await expect(loadNlu('test/fixtures/does-not-exist')).rejects.toThrow(/labels\.json/);
  });

  it('labels.json that does not match the model output is refused', async () => {
    await writeFile(path.join(tmp, 'labels.json'), JSON.stringify(INTENT_LABELS.slice(1)));
    await expect(loadNlu(tmp)).rejects.toThrow(/outputs 16 logits but labels\.json has 15/);
  });

  it('labels.json without out_of_scope is refused', async () => {
    await writeFile(path.join(tmp, 'labels.json'), JSON.stringify(INTENT_LABELS.map((l) => (l === 'out_of_scope' ? 'other' : l))));
    await expect(loadNlu(tmp)).rejects.toThrow(/out_of_scope/);
  });

  it('an unavailable execution provider is an error, not a silent CPU fallback', () => {
    expect(() => chooseProvider('cuda', { backends: [{ name: 'cpu', bundled: true }] })).toThrow(/not available/);
    expect(chooseProvider('auto', { backends: [{ name: 'cpu', bundled: true }, { name: 'cuda', bundled: false }] }).name).toBe(
      'cpu',
    );
    expect(
      chooseProvider('auto', { backends: [{ name: 'cpu', bundled: true }, { name: 'cuda', bundled: false }], cudaInstalled: true })
        .name,
    ).toBe('cuda');
  });

  it('reads the model card defensively', async () => {
    const info = await readModelDir(FIXTURE);
    expect(info.labels).toHaveLength(16);
    expect(info.nPositions).toBeGreaterThan(0);
    expect(findKey({ a: { b: { max_length: 7 } }, max_length: 9 }, 'max_length')).toBe(9);
    expect(findKey({ a: { b: { max_length: 7 } } }, 'max_length')).toBe(7);
  });
});

describe('a swapped-in runner (what a batching pool would plug into)', () => {
  it('is used instead of an ONNX session', async () => {
    const calls: number[][][] = [];
    const runner: LogitsRunner = {
      provider: 'fake',
      async run(seqs) {
        calls.push(seqs.map((s) => [...s]));
        const logits = seqs.map(() => {
          const row = new Float32Array(16);
          row[INTENT_LABELS.indexOf('assistant.greet')] = 10;
          return row;
        });
        return { logits, numLabels: 16, batchSize: seqs.length, seqLen: Math.max(...seqs.map((s) => s.length)), timings: { padMs: 0, inferenceMs: 1 } };
      },
      async close() {},
    };
    const nlu = await loadNlu(FIXTURE, { runner });
    const r = await nlu.recognize('hello');
    expect(r.intent).toBe('assistant.greet');
    expect(nlu.info().provider).toBe('fake');
    expect(calls.length).toBe(2); // warm-up + the request
    await nlu.close();
  });
});

describe.skipIf(!existsSync(path.join(REAL, 'model.onnx')))('real model (models/intent-gpt2)', () => {
  let nlu: NluPipeline;
  beforeAll(async () => {
    nlu = await loadNlu(REAL);
  });
  afterAll(async () => {
    await nlu?.close();
  });

  it.each([
    ['please raise a purchase order for 500 boxes of nitrile gloves from Acme', 'procurement.create_order'],
    ['what is the status of PO-10452?', 'procurement.order_status'],
    ['cancel purchase order 10391', 'procurement.cancel_order'],
    ['show me all open purchase orders', 'procurement.list_orders'],
    ['approve PO-10502', 'procurement.approve_order'],
    ['file a customs declaration for shipment SH-20931', 'customs.file_declaration'],
    ['what is the status of declaration CD-1188?', 'customs.declaration_status'],
    ['which HS code do lithium-ion battery packs fall under?', 'customs.classify_goods'],
    ['we just received 3 pallets of copy paper at the Dallas warehouse', 'storage.receive_goods'],
    ['how many nitrile gloves do we have in stock in WH-A?', 'storage.stock_level'],
    ['move 40 boxes of gloves from WH-A to Rotterdam', 'storage.transfer_stock'],
    ['which automations are running right now?', 'automation.list_jobs'],
    ['what can you do?', 'assistant.help'],
    ['good morning!', 'assistant.greet'],
    ['thanks a lot, that helped', 'assistant.thanks'],
    ['what is the weather like in Paris tomorrow?', 'out_of_scope'],
    ['tell me a joke about penguins', 'out_of_scope'],
  ])('%j → %s', async (text, intent) => {
    expect((await nlu.recognize(text)).intent).toBe(intent);
  });
});
