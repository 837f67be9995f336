/**
 * bench:e2e --gc-stats: the server child's preload (bench/lib/gcStats.mjs) counts its main
 * thread's collections by kind and reports the young generation's size; the bench turns two
 * snapshots into a window (bench/lib/gcWindow.ts). Also the postMessage timing preload
 * (bench/lib/postMessageTiming.mjs).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { constants } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript preload without type declarations
import { addEntry, emptyStats } from '../../bench/lib/gcStats.mjs';
import { describeGc, gcWindow, type GcSnapshot } from '../../bench/lib/gcWindow.js';
// @ts-expect-error plain JavaScript preload without type declarations
import { addTime, emptyTimes, instrument } from '../../bench/lib/postMessageTiming.mjs';
import { benchServerEnv, SERVER_NODE_OPTIONS, serverNodeOptions } from '../../bench/lib/serverChild.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PRELOAD = path.join(ROOT, 'bench/lib/gcStats.mjs');
const dir = mkdtempSync(path.join(os.tmpdir(), 'gcstats-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a node child with the preload that allocates short-lived garbage for a while, and returns its last snapshot. */
function childSnapshot(nodeArgs: string[], nodeOptions = ''): GcSnapshot {
  const file = path.join(dir, `gc-${Math.random().toString(36).slice(2)}.json`);
  const script = `
    let keep = [];
    for (let i = 0; i < 3e6; i++) { keep.push({ a: i, b: [i, i] }); if (keep.length > 200000) keep = []; }
    setTimeout(() => {}, 450);`;
  const r = spawnSync(process.execPath, [...nodeArgs, '--import', PRELOAD, '-e', script], {
    env: { ...process.env, GC_STATS_FILE: file, NODE_OPTIONS: nodeOptions },
    encoding: 'utf8',
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(readFileSync(file, 'utf8')) as GcSnapshot;
}

describe('GC counts of the server child (bench:e2e --gc-stats)', () => {
  it('names each gc kind and adds up count, pause time and the longest pause', () => {
    const s = emptyStats();
    addEntry(s, { duration: 2, detail: { kind: constants.NODE_PERFORMANCE_GC_MINOR } });
    addEntry(s, { duration: 3, detail: { kind: constants.NODE_PERFORMANCE_GC_MINOR } });
    addEntry(s, { duration: 10, detail: { kind: constants.NODE_PERFORMANCE_GC_MAJOR } });
    expect(s.kinds.scavenge).toEqual({ count: 2, ms: 5, max_ms: 3 });
    expect(s.kinds.mark_sweep).toEqual({ count: 1, ms: 10, max_ms: 10 });
    expect(s.kinds.incremental.count).toBe(0);
  });

  it('turns two cumulative snapshots into the window between them, per turn', () => {
    const before: GcSnapshot = {
      kinds: { scavenge: { count: 10, ms: 20, max_ms: 4 }, mark_sweep: { count: 1, ms: 30, max_ms: 30 } },
      new_space_bytes: 16 * 2 ** 20,
      new_space_max_bytes: 16 * 2 ** 20,
    };
    const after: GcSnapshot = {
      kinds: { scavenge: { count: 30, ms: 60, max_ms: 5 }, mark_sweep: { count: 2, ms: 70, max_ms: 40 } },
      new_space_bytes: 32 * 2 ** 20,
      new_space_max_bytes: 64 * 2 ** 20,
    };
    const w = gcWindow(before, after, 100);
    expect(w.kinds.scavenge).toEqual({ count: 20, ms: 40 });
    expect(w.kinds.mark_sweep).toEqual({ count: 1, ms: 40 });
    expect(w.scavenges_per_turn).toBe(0.2);
    expect(w.gc_ms_per_turn).toBe(0.8);
    expect(w.new_space_mb).toBe(32);
    expect(w.new_space_max_mb).toBe(64);
    expect(describeGc(w)).toContain('scavenge 20 (40 ms)');
  });

  it('counts a real process: its scavenges, and a young generation as large as --max-semi-space-size lets it grow', () => {
    const plain = childSnapshot([]);
    const big = childSnapshot(['--max-semi-space-size=64']);
    expect(plain.kinds.scavenge!.count).toBeGreaterThan(0);
    expect(big.kinds.scavenge!.count).toBeGreaterThan(0);
    // new_space counts both semi-spaces: V8's default (16 MiB each on 64-bit) stays at or below 32 MiB.
    expect(plain.new_space_max_bytes).toBeLessThanOrEqual(32 * 2 ** 20);
    expect(big.new_space_max_bytes).toBeGreaterThan(32 * 2 ** 20);
  });
});

describe('the young generation the server runs with (Dockerfile NODE_OPTIONS, mirrored by the benches)', () => {
  const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  const imageOptions = /^ENV NODE_OPTIONS="([^"]*)"$/m.exec(dockerfile)?.[1];

  it('the image sets a semi-space size, and the benches start their server with the same options', () => {
    expect(imageOptions).toMatch(/^--max-semi-space-size=\d+$/);
    expect(SERVER_NODE_OPTIONS).toBe(imageOptions);
    const env = benchServerEnv({ dataDir: dir, modelDir: dir, adminToken: 'x' });
    expect(env.NODE_OPTIONS?.split(' ')).toContain(imageOptions);
  });

  it("the benches keep the caller's NODE_OPTIONS, and the caller's own semi-space size wins", () => {
    expect(serverNodeOptions(undefined)).toBe(SERVER_NODE_OPTIONS);
    expect(serverNodeOptions('  ')).toBe(SERVER_NODE_OPTIONS);
    expect(serverNodeOptions('--enable-source-maps')).toBe(`${SERVER_NODE_OPTIONS} --enable-source-maps`);
    expect(serverNodeOptions('--max-semi-space-size=8 --enable-source-maps')).toBe('--max-semi-space-size=8 --enable-source-maps');
  });

  it('takes effect: a process started with those options grows its young generation past V8\'s default; a user override shrinks it back', () => {
    const image = childSnapshot([], imageOptions);
    const semiMb = Number(/=(\d+)/.exec(imageOptions!)![1]);
    // new_space counts both semi-spaces; V8's default on 64-bit is 16 MiB each (32 MiB).
    expect(image.new_space_max_bytes).toBeGreaterThan(32 * 2 ** 20);
    expect(image.new_space_max_bytes).toBeLessThanOrEqual(2 * semiMb * 2 ** 20);
    const overridden = childSnapshot([], '--max-semi-space-size=16');
    expect(overridden.new_space_max_bytes).toBeLessThanOrEqual(32 * 2 ** 20);
  });
});

describe('postMessage timing preload (bench/lib/postMessageTiming.mjs)', () => {
  it('times every Worker#postMessage and counts the Int32Array batches apart', async () => {
    const { Worker } = await import('node:worker_threads');
    const stats = { batches: emptyTimes(), all: emptyTimes() };
    const restore = instrument(Worker.prototype, stats);
    const w = new Worker('require("node:worker_threads").parentPort.on("message", () => {})', { eval: true });
    try {
      for (let i = 0; i < 5; i++) {
        const batch = new Int32Array(8);
        w.postMessage(batch, [batch.buffer]);
      }
      w.postMessage({ type: 'debug' });
    } finally {
      restore();
      await w.terminate();
    }
    expect(stats.batches.calls).toBe(5);
    expect(stats.all.calls).toBe(6);
    expect(stats.all.wall_ms).toBeGreaterThan(0);
    expect(stats.all.max_ms).toBeGreaterThan(0);
  });

  it('buckets calls over 100 µs and over 1 ms', () => {
    const t = emptyTimes();
    for (const ms of [0.05, 0.5, 2]) addTime(t, ms);
    expect(t).toEqual({ calls: 3, wall_ms: 2.55, over_100us: 2, over_1ms: 1, max_ms: 2 });
  });
});
