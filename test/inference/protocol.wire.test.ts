import { describe, expect, it } from 'vitest';
import { packBatch } from '../../src/inference/pool/batchInput.js';
import { decodeResult, decodeRun, encodeResult, encodeRun, type BatchOutput } from '../../src/inference/pool/protocol.js';

describe('worker wire format (one typed array per batch each way)', () => {
  it('a run message carries the id, the padded length, every row length and every id', () => {
    const input = packBatch([[5, 6, 7], [8], [9, 10]]);
    const wire = encodeRun(42, input);
    const back = decodeRun(structuredClone(wire, { transfer: [wire.buffer as ArrayBuffer] }));
    expect(back.id).toBe(42);
    expect(back.input.seqLen).toBe(3);
    expect(Array.from(back.input.lengths)).toEqual([3, 1, 2]);
    expect(Array.from(back.input.ids)).toEqual([5, 6, 7, 8, 9, 10]);
  });

  it('a result carries the id, the shape, the timings and the logits bit for bit', () => {
    const logits = new Float32Array([0.1, -2.5, Number.MIN_VALUE, 3e38, -0, 7]);
    const out: BatchOutput = { logits, rows: 2, cols: 3, padMs: 0.25, inferenceMs: 1.5, startedAt: 1.7e12 + 0.125, endedAt: 1.7e12 + 2, receivedAt: 1.7e12 - 0.5 };
    const wire = encodeResult(7, out);
    const back = decodeResult(structuredClone(wire, { transfer: [wire] }));
    expect(back.id).toBe(7);
    expect(back.output).toEqual({ ...out, logits: back.output.logits });
    expect(Array.from(back.output.logits).map((v) => Object.is(v, -0) ? '-0' : v)).toEqual(Array.from(logits).map((v) => (Object.is(v, -0) ? '-0' : v)));
  });

  it('a result without receivedAt comes back without it', () => {
    const out: BatchOutput = { logits: new Float32Array([1]), rows: 1, cols: 1, padMs: 0, inferenceMs: 0, startedAt: 1, endedAt: 2 };
    expect('receivedAt' in decodeResult(encodeResult(1, out)).output).toBe(false);
  });

  it('only the rows × cols logits travel (a session buffer may be longer)', () => {
    const out: BatchOutput = { logits: new Float32Array([1, 2, 3, 99, 99]), rows: 1, cols: 3, padMs: 0, inferenceMs: 0, startedAt: 1, endedAt: 2 };
    expect(Array.from(decodeResult(encodeResult(1, out)).output.logits)).toEqual([1, 2, 3]);
  });
});
