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

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Right-pads a packed batch into int64 model inputs (same layout as `padBatch`). Ids and the mask
 * are non-negative 32-bit values, so on little-endian machines they are written as the low half of
 * each int64 through an Int32Array view: no BigInt per token.
 */
export function padPacked(input: BatchInput, padTokenId: number): EncodedBatch {
  const { ids, lengths, seqLen } = input;
  const batchSize = lengths.length;
  if (batchSize === 0) throw new Error('empty batch');
  const inputIds = new BigInt64Array(batchSize * seqLen).fill(BigInt(padTokenId));
  const attentionMask = new BigInt64Array(batchSize * seqLen);
  // The padding's high halves must be 0 for the low-half writes to make the right int64s.
  const halves = LITTLE_ENDIAN && padTokenId >= 0 && padTokenId <= 0x7fffffff;
  const ids32 = halves ? new Int32Array(inputIds.buffer) : undefined;
  const mask32 = halves ? new Int32Array(attentionMask.buffer) : undefined;
  const lens: number[] = [];
  let o = 0;
  for (let r = 0; r < batchSize; r++) {
    const len = lengths[r]!;
    if (len < 1 || len > seqLen) throw new Error(`row ${r}: length ${len} outside 1..${seqLen}`);
    lens.push(len);
    const base = r * seqLen;
    if (ids32 && mask32) {
      for (let i = 0; i < len; i++) {
        const id = ids[o++]!;
        if (id < 0) throw new Error(`row ${r}: negative token id ${id}`);
        ids32[(base + i) * 2] = id; // the high half stays 0 (the pad id's is 0 too)
        mask32[(base + i) * 2] = 1;
      }
    } else {
      for (let i = 0; i < len; i++) {
        inputIds[base + i] = BigInt(ids[o++]!);
        attentionMask[base + i] = 1n;
      }
    }
  }
  return { inputIds, attentionMask, batchSize, seqLen, lengths: lens };
}
