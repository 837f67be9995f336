import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';

/** The GPT-2 pre-tokenizer pattern (same as tokenizer.json's ByteLevel `use_regex`). */
const GPT2_PRETOKENIZE = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;
/** Texts up to this many UTF-16 units (less for small windows) are encoded in one call. */
const DIRECT_ENCODE_CHARS = 4096;
/** Longer texts are encoded in segments of whole pre-tokenizer chunks of about this size. */
const SEGMENT_CHARS = 1024;
/** Pre-tokenizer chunks (words) up to this length are remembered with their ids... */
const CACHED_CHUNK_CHARS = 48;
/** ...up to this many of them (then the cache starts over: bounded memory whatever users type). */
const CHUNK_CACHE_ENTRIES = 50_000;

function safeCut(text: string, index: number): number {
  const code = text.charCodeAt(index - 1);
  return code >= 0xd800 && code <= 0xdbff ? index - 1 : index;
}

/** Model inputs for one batch: row-major [batchSize, seqLen], right-padded. */
export interface EncodedBatch {
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  batchSize: number;
  seqLen: number;
  /** Unpadded length of each row. */
  lengths: number[];
}

export interface GptTokenizerOptions {
  /** Longest sequence fed to the model; longer inputs keep their first `maxLength` ids. */
  maxLength: number;
  /** Id used for right padding (GPT-2: 50256, `<|endoftext|>`). */
  padTokenId: number;
}

/**
 * Right-pads id sequences into int64 tensors data. Rows must be non-empty (the caller decides
 * what an empty message means; a row of only padding has no token to classify on).
 */
export function padBatch(sequences: readonly (readonly number[])[], padTokenId: number): EncodedBatch {
  if (sequences.length === 0) throw new Error('padBatch: empty batch');
  const lengths = sequences.map((s) => s.length);
  const seqLen = Math.max(...lengths);
  if (Math.min(...lengths) === 0) throw new Error('padBatch: every sequence needs at least one token');
  const batchSize = sequences.length;
  const inputIds = new BigInt64Array(batchSize * seqLen).fill(BigInt(padTokenId));
  const attentionMask = new BigInt64Array(batchSize * seqLen);
  sequences.forEach((seq, row) => {
    const base = row * seqLen;
    for (let i = 0; i < seq.length; i++) {
      inputIds[base + i] = BigInt(seq[i]!);
      attentionMask[base + i] = 1n;
    }
  });
  return { inputIds, attentionMask, batchSize, seqLen, lengths };
}

/**
 * GPT-2 byte-level BPE from a local tokenizer.json (no network). User text is always encoded as
 * ordinary text: a message containing "<|endoftext|>" does not produce the special id (which is
 * also the padding id the model uses to find the end of the sequence).
 */
export class GptTokenizer {
  private readonly tokenizer: Tokenizer;
  readonly maxLength: number;
  readonly padTokenId: number;
  /**
   * Ids of pre-tokenizer chunks seen before. Byte-level BPE encodes each chunk on its own, so the
   * ids of a text are its chunks' ids end to end; chat messages reuse few words, and a whole
   * `Tokenizer.encode` call (an Encoding with offsets, masks, …) costs ~10× a lookup per word.
   */
  private readonly chunkIds = new Map<string, readonly number[]>();

  constructor(tokenizerJson: Record<string, unknown>, options: GptTokenizerOptions) {
    if (!Number.isInteger(options.maxLength) || options.maxLength < 1) {
      throw new Error(`GptTokenizer: maxLength must be a positive integer, got ${options.maxLength}`);
    }
    const model = tokenizerJson.model as { type?: string } | undefined;
    if (!model || model.type !== 'BPE') {
      throw new Error(`GptTokenizer: expected a BPE tokenizer.json, got model type ${String(model?.type)}`);
    }
    // Without added tokens the special-token splitter never runs, so "<|endoftext|>" typed by a
    // user is split by the byte-level BPE like any other text (as tiktoken's gpt2 encoding does).
    const plain = { ...tokenizerJson, added_tokens: [], truncation: null, padding: null };
    this.tokenizer = new Tokenizer(plain, { add_prefix_space: false });
    this.maxLength = options.maxLength;
    this.padTokenId = options.padTokenId;
  }

  /** Loads `<dir>/tokenizer.json`. */
  static async fromDir(dir: string, options: GptTokenizerOptions): Promise<GptTokenizer> {
    const file = path.join(dir, 'tokenizer.json');
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new Error(`Cannot read tokenizer ${file}: ${err instanceof Error ? err.message : String(err)}`, {
        cause: err,
      });
    }
    return new GptTokenizer(json, options);
  }

  /** All ids of `text`, no truncation (for tests and diagnostics). */
  encodeFull(text: string): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids;
  }

  /**
   * Ids of `text`, truncated to the first `maxLength` (the start of a message carries the request).
   * Long texts are encoded piecewise, only as far as needed, so a huge message costs about as much
   * as a short one: the byte-level pre-tokenizer splits text into chunks that BPE encodes
   * independently, so encoding consecutive whole chunks gives exactly the ids of the full text.
   */
  encode(text: string): number[] {
    const direct = Math.min(DIRECT_ENCODE_CHARS, Math.max(256, this.maxLength * 8));
    if (text.length <= direct) return this.encodeByChunks(text);
    const ids: number[] = [];
    let segStart = 0;
    const flush = (end: number): void => {
      if (end > segStart) ids.push(...this.encodeFull(text.slice(segStart, end)));
      segStart = end;
    };
    for (const m of text.matchAll(GPT2_PRETOKENIZE)) {
      const start = m.index;
      const end = start + m[0].length;
      if (m[0].length > direct) {
        // One absurdly long "word": BPE cost grows faster than linearly and only its start can fit
        // in the window, so encode growing prefixes of it until they give enough ids.
        flush(start);
        for (let cut = direct; ; cut *= 2) {
          const stop = cut >= m[0].length ? end : safeCut(text, start + cut);
          const part = this.encodeFull(text.slice(start, stop));
          if (stop === end || ids.length + part.length > this.maxLength) {
            ids.push(...part);
            break;
          }
        }
        segStart = end;
        if (ids.length >= this.maxLength) break;
        continue;
      }
      if (end - segStart >= SEGMENT_CHARS) {
        flush(end);
        if (ids.length >= this.maxLength) break;
      }
    }
    if (ids.length < this.maxLength) flush(text.length);
    return this.truncate(ids);
  }

  /** Short text, chunk by chunk through the word cache, stopping once the window is full. */
  private encodeByChunks(text: string): number[] {
    const ids: number[] = [];
    for (const m of text.matchAll(GPT2_PRETOKENIZE)) {
      const chunk = m[0];
      let part = chunk.length <= CACHED_CHUNK_CHARS ? this.chunkIds.get(chunk) : undefined;
      if (part === undefined) {
        part = this.encodeFull(chunk);
        if (chunk.length <= CACHED_CHUNK_CHARS) {
          if (this.chunkIds.size >= CHUNK_CACHE_ENTRIES) this.chunkIds.clear();
          this.chunkIds.set(chunk, part);
        }
      }
      for (const id of part) ids.push(id);
      if (ids.length >= this.maxLength) break;
    }
    return this.truncate(ids);
  }

  private truncate(ids: number[]): number[] {
    return ids.length > this.maxLength ? ids.slice(0, this.maxLength) : ids;
  }

  /** Encodes and right-pads several texts. Every text must produce at least one token. */
  encodeBatch(texts: readonly string[]): EncodedBatch {
    return padBatch(
      texts.map((t) => this.encode(t)),
      this.padTokenId,
    );
  }

  decode(ids: readonly number[]): string {
    return this.tokenizer.decode([...ids], { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  }
}
