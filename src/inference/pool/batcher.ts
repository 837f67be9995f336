/** Limits on one batch. Padding is paid per batch: rows are padded to the longest row in it. */
export interface BatchLimits {
  maxBatchSize: number;
  /** Upper bound on rows × padded length. */
  maxBatchTokens: number;
  /** Least share of real (non-padding) tokens in a batch, 0…1. */
  minFill: number;
}

export interface Sized {
  readonly len: number;
}

/**
 * Takes the next batch out of `pending` (arrival order) and returns it in arrival order. The
 * oldest request is always in it (no starvation); the others are chosen closest in length first,
 * as long as the batch stays within the size and token budget and its padding stays below
 * 1 − minFill, so a burst of short messages does not pay for one long one.
 */
export function takeBatch<T extends Sized>(pending: T[], limits: BatchLimits): T[] {
  const anchor = pending[0];
  if (anchor === undefined) return [];
  if (pending.length === 1 || limits.maxBatchSize <= 1) return pending.splice(0, 1);

  const candidates: number[] = [];
  for (let i = 1; i < pending.length; i++) candidates.push(i);
  candidates.sort((a, b) => {
    const da = Math.abs(pending[a]!.len - anchor.len);
    const db = Math.abs(pending[b]!.len - anchor.len);
    return da - db || a - b;
  });

  const chosen = new Set<number>([0]);
  let maxLen = anchor.len;
  let real = anchor.len;
  for (const i of candidates) {
    if (chosen.size >= limits.maxBatchSize) break;
    const len = pending[i]!.len;
    const newMax = Math.max(maxLen, len);
    const padded = (chosen.size + 1) * newMax;
    if (padded > limits.maxBatchTokens) continue;
    if ((real + len) / padded < limits.minFill) continue;
    chosen.add(i);
    maxLen = newMax;
    real += len;
  }

  const batch: T[] = [];
  const rest: T[] = [];
  pending.forEach((item, i) => (chosen.has(i) ? batch : rest).push(item));
  pending.length = 0;
  pending.push(...rest);
  return batch;
}
