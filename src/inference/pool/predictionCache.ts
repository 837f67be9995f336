/**
 * A bounded LRU of logits by model input. The model's logits are a pure function of the ids it
 * reads (each row is bit-identical whatever it is batched with: test/inference/pool.test.ts), and
 * chat repeats itself ("status", "help", "thanks"), so a repeated message needs no model run, no
 * message to a worker and no wake-up of one.
 */

export interface PredictionCacheStats {
  /** Most entries kept (0: the cache is off). */
  capacity: number;
  size: number;
  /** Sequences answered from the cache (no model run). */
  hits: number;
  /** Sequences looked up and not found (then run by the model). */
  misses: number;
}

/**
 * The key of a sequence: the ids exactly as the pool hands them to the model. The pool writes ids
 * into an Int32Array, so `id | 0` is what the model reads; every id and the length are in the key.
 * Ids of 0…65535 (GPT-2's vocabulary) are one UTF-16 code unit each; otherwise the decimal list.
 * The prefixes keep the two forms apart.
 */
export function predictionKey(seq: readonly number[]): string {
  let compact = true;
  for (let i = 0; i < seq.length; i++) {
    const v = seq[i]! | 0;
    if (v < 0 || v > 0xffff) {
      compact = false;
      break;
    }
  }
  if (!compact) return `b${seq.map((v) => v | 0).join(',')}`;
  let key = 'a';
  // String.fromCharCode with many arguments at once, in slices (no argument-count limit).
  for (let i = 0; i < seq.length; i += 256) {
    const part = seq.slice(i, i + 256).map((v) => v | 0);
    key += String.fromCharCode(...part);
  }
  return key;
}

export class PredictionCache {
  private readonly entries = new Map<string, Float32Array>();
  private hits = 0;
  private misses = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new Error(`PredictionCache: capacity must be a non-negative integer, got ${capacity}`);
  }

  get enabled(): boolean {
    return this.capacity > 0;
  }

  /** A copy of the cached logits (callers may keep or change it), or undefined; counts a hit or a miss. */
  get(key: string): Float32Array | undefined {
    const row = this.entries.get(key);
    if (row === undefined) {
      this.misses += 1;
      return undefined;
    }
    this.hits += 1;
    // Most recently used goes last: Map keeps insertion order, so the first entry is the oldest.
    this.entries.delete(key);
    this.entries.set(key, row);
    return row.slice();
  }

  /** Keeps a copy of `logits` under `key`, dropping the least recently used entry when full. */
  set(key: string, logits: Float32Array): void {
    if (!this.enabled) return;
    if (this.entries.has(key)) this.entries.delete(key);
    else if (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, logits.slice());
  }

  clear(): void {
    this.entries.clear();
  }

  stats(): PredictionCacheStats {
    return { capacity: this.capacity, size: this.entries.size, hits: this.hits, misses: this.misses };
  }
}
