/**
 * Preload for the server child under the benches (`--gc-stats` of bench:e2e; plain JavaScript, so
 * it loads without the tsx loader): counts the main thread's garbage collections by kind
 * (scavenge = young generation, mark-sweep-compact = full, incremental marking, weak callbacks)
 * with their pause time, and records the young generation's size (new_space, from
 * v8.getHeapSpaceStatistics), so a run shows how often the young generation filled up and how big
 * V8 let it grow (`--max-semi-space-size`).
 *
 * It rewrites `$GC_STATS_FILE` (JSON, cumulative since start) every 200 ms; the bench reads it at
 * each end of its measured window and subtracts. Inference worker threads (which inherit the
 * preload) are left alone: the numbers are the main thread's.
 */
import { writeFileSync, renameSync } from 'node:fs';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import process from 'node:process';
import { setInterval } from 'node:timers';
import v8 from 'node:v8';
import { isMainThread } from 'node:worker_threads';

const out = process.env.GC_STATS_FILE;

/** perf_hooks gc kinds → names (a GC entry's detail.kind). */
export const GC_KINDS = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'mark_sweep',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak_callbacks',
};

/** @returns {{ kinds: Record<string, { count: number, ms: number, max_ms: number }>, new_space_max_bytes: number, new_space_bytes: number }} */
export function emptyStats() {
  const kinds = {};
  for (const name of Object.values(GC_KINDS)) kinds[name] = { count: 0, ms: 0, max_ms: 0 };
  return { kinds, new_space_max_bytes: 0, new_space_bytes: 0 };
}

/** Adds one gc performance entry to `stats`. */
export function addEntry(stats, entry) {
  const kind = entry.detail?.kind ?? entry.kind;
  const name = GC_KINDS[kind] ?? `kind_${kind}`;
  const k = (stats.kinds[name] ??= { count: 0, ms: 0, max_ms: 0 });
  k.count += 1;
  k.ms += entry.duration;
  if (entry.duration > k.max_ms) k.max_ms = entry.duration;
}

function newSpaceBytes() {
  const s = v8.getHeapSpaceStatistics().find((x) => x.space_name === 'new_space');
  return s ? s.space_size : 0;
}

if (isMainThread && out) {
  const stats = emptyStats();
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) addEntry(stats, e);
  }).observe({ entryTypes: ['gc'] });
  const write = () => {
    stats.new_space_bytes = newSpaceBytes();
    if (stats.new_space_bytes > stats.new_space_max_bytes) stats.new_space_max_bytes = stats.new_space_bytes;
    try {
      writeFileSync(`${out}.tmp`, JSON.stringify(stats));
      renameSync(`${out}.tmp`, out);
    } catch {
      // the bench's temp dir may be gone at shutdown
    }
  };
  write();
  setInterval(write, 200).unref();
}
