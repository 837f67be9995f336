/**
 * Diagnostic preload for the server child (plain JavaScript, main thread only): how long the main
 * thread spends inside `Worker#postMessage`, for the inference pool's batches (an Int32Array, see
 * src/inference/pool/protocol.ts) and for every call. On a busy machine the call that wakes an idle
 * worker can leave the main thread descheduled for milliseconds, and a CPU profile charges that
 * run-queue time to `postMessage` (docs/notes/turntail.md). Writes cumulative counts to
 * `$POST_MESSAGE_TIMING_FILE` every second:
 *
 *   POST_MESSAGE_TIMING_FILE=/tmp/pm.json npx tsx bench/e2e.ts --rate 100 --seconds 30 --pg \
 *     --node-arg=--import=./bench/lib/postMessageTiming.mjs
 *
 * Cumulative since start (start-up included: under tsx the module loader's thread gets thousands of
 * messages at start, hence the separate `batches`).
 */
import { writeFileSync } from 'node:fs';
import process from 'node:process';
import { setInterval } from 'node:timers';
import { Worker, isMainThread } from 'node:worker_threads';

/** @returns {{ calls: number, wall_ms: number, over_100us: number, over_1ms: number, max_ms: number }} */
export function emptyTimes() {
  return { calls: 0, wall_ms: 0, over_100us: 0, over_1ms: 0, max_ms: 0 };
}

/** Adds one call of `ms` wall time. */
export function addTime(t, ms) {
  t.calls += 1;
  t.wall_ms += ms;
  if (ms > 0.1) t.over_100us += 1;
  if (ms > 1) t.over_1ms += 1;
  if (ms > t.max_ms) t.max_ms = ms;
}

/** Wraps `proto.postMessage` so every call is timed into `stats` (batches: calls whose message is an Int32Array). */
export function instrument(proto, stats) {
  const original = proto.postMessage;
  proto.postMessage = function timedPostMessage(...args) {
    const t0 = process.hrtime.bigint();
    try {
      return original.apply(this, args);
    } finally {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      addTime(stats.all, ms);
      if (args[0] instanceof Int32Array) addTime(stats.batches, ms);
    }
  };
  return () => {
    proto.postMessage = original;
  };
}

const out = process.env.POST_MESSAGE_TIMING_FILE;
if (isMainThread && out) {
  const stats = { batches: emptyTimes(), all: emptyTimes() };
  instrument(Worker.prototype, stats);
  setInterval(() => {
    try {
      writeFileSync(out, JSON.stringify(stats));
    } catch {
      // the directory may be gone at shutdown
    }
  }, 1000).unref();
}
