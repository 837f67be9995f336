import type { EncodedBatch } from '../tokenizer.js';
import type { BatchInput } from './protocol.js';

/** Packs sequences into the wire form: ids back to back, lengths, padded length. */
export function packBatch(sequences: readonly (readonly number[])[]): BatchInput {
  let total = 0;
  let seqLen = 0;
  for (const s of sequences) {
    total += s.length;
    if (s.length > seqLen) seqLen = s.length;
  }
  const ids = new Int32Array(total);
  const lengths = new Int32Array(sequences.length);
  let o = 0;
  sequences.forEach((s, r) => {
    lengths[r] = s.length;
    for (let i = 0; i < s.length; i++) ids[o++] = s[i]!;
  });
  return { ids, lengths, seqLen };
}

/** Right-pads a packed batch into int64 model inputs (same layout as `padBatch`). */
export function padPacked(input: BatchInput, padTokenId: number): EncodedBatch {
  const { ids, lengths, seqLen } = input;
  const batchSize = lengths.length;
  if (batchSize === 0) throw new Error('empty batch');
  const inputIds = new BigInt64Array(batchSize * seqLen).fill(BigInt(padTokenId));
  const attentionMask = new BigInt64Array(batchSize * seqLen);
  const lens: number[] = [];
  let o = 0;
  for (let r = 0; r < batchSize; r++) {
    const len = lengths[r]!;
    if (len < 1 || len > seqLen) throw new Error(`row ${r}: length ${len} outside 1..${seqLen}`);
    lens.push(len);
    const base = r * seqLen;
    for (let i = 0; i < len; i++) {
      inputIds[base + i] = BigInt(ids[o++]!);
      attentionMask[base + i] = 1n;
    }
  }
  return { inputIds, attentionMask, batchSize, seqLen, lengths: lens };
}

/** Flattens per-row logits (as OnnxClassifierSession returns them) into one row-major array. */
export function flattenRows(rows: readonly Float32Array[], cols: number): Float32Array {
  const out = new Float32Array(rows.length * cols);
  rows.forEach((row, r) => out.set(row, r * cols));
  return out;
}
