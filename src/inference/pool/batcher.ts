/** Limits on one batch. Padding is paid per batch: rows are padded to the longest row in it. */
export interface BatchLimits {
  maxBatchSize: number;
  /** Upper bound on rows × padded length. */
  maxBatchTokens: number;
  /** Least share of real (non-padding) tokens in a batch, 0…1. */
  minFill: number;
  /**
   * How many batches may be formed past a waiting request before it must ride in the next one
   * (default 0: the oldest request is always in the next batch). Above 0, while more requests
   * wait than fit in a batch and the oldest has been passed over fewer times than this, the batch
   * is the full one that pads least among the waiting requests (closest lengths), so a deep queue
   * is cut into batches of like lengths instead of around whichever request came first.
   */
  maxPassOver?: number;
}

export interface Sized {
  readonly len: number;
  /** Batches formed while it waited without it (kept by takeBatch when `maxPassOver` is set). */
  passedOver?: number;
}

/** Most waiting requests the reordering looks at (the oldest ones): bounds its cost per batch. */
const REORDER_SCAN = 256;

/**
 * Takes the next batch out of `pending` (arrival order) and returns it in arrival order.
 *
 * By default the oldest request is always in it (no starvation); the others are chosen closest in
 * length first, as long as the batch stays within the size and token budget and its padding stays
 * below 1 − minFill, so a burst of short messages does not pay for one long one.
 *
 * With `maxPassOver` > 0 and more requests waiting than fit in one batch, the batch is instead the
 * full one that pads least (a run of like lengths), oldest first among equals — unless the oldest
 * request has already been passed over `maxPassOver` times, then it is built around that one as
 * above. So no request waits for more than `maxPassOver` batches after it became the oldest.
 */
export function takeBatch<T extends Sized>(pending: T[], limits: BatchLimits): T[] {
  const anchor = pending[0];
  if (anchor === undefined) return [];
  const passOver = limits.maxPassOver ?? 0;
  let batch: T[] | undefined;
  if (passOver > 0 && pending.length > limits.maxBatchSize && (anchor.passedOver ?? 0) < passOver) {
    batch = tightest(pending, limits);
  }
  batch ??= aroundOldest(pending, limits);
  // Counted for the oldest REORDER_SCAN only (the ones a reordered batch can take), so a deep
  // queue costs no more per batch; a request further back starts counting once it is among them,
  // and once it is the oldest it still rides within maxPassOver batches.
  if (passOver > 0) for (let i = 0; i < pending.length && i < REORDER_SCAN; i++) pending[i]!.passedOver = (pending[i]!.passedOver ?? 0) + 1;
  return batch;
}

/** The full batch of least padding among the oldest waiting requests, or undefined if none fits the limits. */
function tightest<T extends Sized>(pending: T[], limits: BatchLimits): T[] | undefined {
  const k = Math.floor(limits.maxBatchSize);
  const n = Math.min(pending.length, REORDER_SCAN);
  if (k < 2 || n <= k) return undefined;
  const order: number[] = new Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  // by length, then arrival: a window of equal lengths takes the oldest of them
  order.sort((a, b) => pending[a]!.len - pending[b]!.len || a - b);
  let sum = 0;
  for (let i = 0; i < k; i++) sum += pending[order[i]!]!.len;
  let best = -1;
  let bestWaste = Infinity;
  let bestOldest = Infinity;
  for (let s = 0; s + k <= n; s++) {
    if (s > 0) sum += pending[order[s + k - 1]!]!.len - pending[order[s - 1]!]!.len;
    const maxLen = pending[order[s + k - 1]!]!.len;
    const padded = k * maxLen;
    if (padded > limits.maxBatchTokens || sum / padded < limits.minFill) continue;
    const waste = padded - sum;
    if (waste > bestWaste) continue;
    let oldest = Infinity;
    for (let i = s; i < s + k; i++) oldest = Math.min(oldest, order[i]!);
    if (waste < bestWaste || oldest < bestOldest) [best, bestWaste, bestOldest] = [s, waste, oldest];
  }
  if (best < 0) return undefined;
  const chosen = new Set<number>();
  for (let i = best; i < best + k; i++) chosen.add(order[i]!);
  return split(pending, chosen);
}

/** The oldest request and the closest lengths to it, within the limits. */
function aroundOldest<T extends Sized>(pending: T[], limits: BatchLimits): T[] {
  const anchor = pending[0]!;
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
  return split(pending, chosen);
}

/** Removes the `chosen` indices from `pending` and returns them, both in arrival order. */
function split<T>(pending: T[], chosen: Set<number>): T[] {
  const batch: T[] = [];
  const rest: T[] = [];
  pending.forEach((item, i) => (chosen.has(i) ? batch : rest).push(item));
  pending.length = 0;
  pending.push(...rest);
  return batch;
}
