/**
 * What one inference request costs the main thread: the pool in this process under a closed loop
 * (the bench:inference child's loop: tokenize, pool.run, argmax), with the main thread's CPU time
 * (/proc/thread-self/schedstat, ns) and the whole process's (process.cpuUsage) sampled around
 * each measurement; workers = process − main thread. Each round also measures the bound (bare
 * session.run loops at the pool's batch size: bench/lib/engineBound.ts) right after the pool,
 * so the share is from the same round.
 *
 *   npx tsx bench/inferenceCost.ts [--concurrency 1,4,64] [--seconds 2] [--rounds 3] [--sessions 2]
 *                                  [--maxBatch 8] [--passOver N] [--cache 0] [--repeat N] [--bound] [--json]
 *
 * --passOver N sets the pool's maxPassOver (batches of like lengths from a deep queue; default: the pool's, 0).
 * --cache N turns the pool's prediction cache on (N entries); --repeat N cycles over the first N
 * utterances only (chat that repeats itself), so with N ≤ the cache size every request after the
 * warm-up is a hit. The cache's hits and misses are printed with each line.
 * Linux only (schedstat). Prints one line per (round, concurrency); --json one object at the end.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readModelDir } from '../src/inference/modelDir.js';
import { GptTokenizer } from '../src/inference/tokenizer.js';
import { InferencePool } from '../src/inference/pool/index.js';
import { measureEngineBound } from './lib/engineBound.js';
import { loadUtterances, round } from './lib/load.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const { values } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '1,4,64' },
    seconds: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '3' },
    sessions: { type: 'string', default: '2' },
    maxBatch: { type: 'string', default: '8' },
    passOver: { type: 'string' },
    cache: { type: 'string' },
    repeat: { type: 'string' },
    bound: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});

/** CPU ns of the calling thread so far. */
const threadNs = (): number => Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
const processNs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
};

const modelDir = path.join(ROOT, 'models/intent-gpt2');
const info = await readModelDir(modelDir);
const padTokenId = info.padTokenId ?? 50256;
const maxLength = Math.min(info.maxLength ?? info.nPositions ?? 64, info.nPositions ?? Infinity);
const tok = await GptTokenizer.fromDir(modelDir, { maxLength, padTokenId });
const texts = loadUtterances(ROOT)
  .filter((t) => tok.encode(t).length > 0)
  .slice(0, values.repeat !== undefined ? Number(values.repeat) : undefined);
const seqs = texts.map((t) => tok.encode(t));
const concurrency = values.concurrency.split(',').map(Number);
const seconds = Number(values.seconds);
const sessions = Number(values.sessions);
const maxBatch = Number(values.maxBatch);

const poolOptions: Record<string, unknown> = {
  modelPath: info.modelPath,
  padTokenId,
  sessions,
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  maxBatchSize: maxBatch,
  queueMax: 100_000,
  timeoutMs: 60_000,
  warmup: { seqLens: [Math.min(12, maxLength), maxLength] },
};
// Only a tree whose pool knows the option gets it (the same script runs against HEAD for A/B).
if (values.cache !== undefined) poolOptions.predictionCacheSize = Number(values.cache);
if (values.passOver !== undefined) poolOptions.maxPassOver = Number(values.passOver);
const pool = await InferencePool.create(poolOptions as unknown as Parameters<typeof InferencePool.create>[0]);
const argmax = (row: Float32Array): number => {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
};

interface Row {
  round: number;
  concurrency: number;
  rps: number;
  mainUsPerReq: number;
  workersUsPerReq: number;
  mainBusyPct: number;
  meanBatch: number;
  paddingPct: number;
  enginePaddingPct?: number;
  boundRps?: number;
  share?: number;
  engineCpuUsPerRow?: number;
  loadavg: number;
}
const rows: Row[] = [];
const tokens = { padded: 0, real: 0 };
pool.addObserver({
  batch(e) {
    tokens.padded += e.size * e.seqLen;
    tokens.real += e.realTokens;
  },
});
let next = 0;
const call = async (): Promise<void> => {
  const text = texts[next++ % texts.length]!;
  argmax((await pool.run([tok.encode(text)])).logits[0]!);
};

for (let r = 1; r <= Number(values.rounds); r++) {
  for (const c of concurrency) {
    // warm-up at this load, not counted
    const warmEnd = performance.now() + 300;
    await Promise.all(Array.from({ length: c }, async () => { while (performance.now() < warmEnd) await call(); }));
    const s0 = pool.stats() as ReturnType<typeof pool.stats> & { cache?: { hits: number; misses: number } };
    const k0 = { ...tokens };
    const m0 = threadNs();
    const p0 = processNs();
    const t0 = performance.now();
    const end = t0 + seconds * 1000;
    let done = 0;
    await Promise.all(
      Array.from({ length: c }, async () => {
        while (performance.now() < end) {
          await call();
          done++;
        }
      }),
    );
    const wall = performance.now() - t0;
    const mainNs = threadNs() - m0;
    const procNs = processNs() - p0;
    const s1 = pool.stats();
    const row: Row = {
      round: r,
      concurrency: c,
      rps: (done * 1000) / wall,
      mainUsPerReq: mainNs / 1000 / done,
      workersUsPerReq: (procNs - mainNs) / 1000 / done,
      mainBusyPct: (mainNs / 1e6 / wall) * 100,
      meanBatch: (s1.meanBatchSize * s1.batches - s0.meanBatchSize * s0.batches) / Math.max(1, s1.batches - s0.batches),
      paddingPct: (1 - (tokens.real - k0.real) / (tokens.padded - k0.padded)) * 100,
      loadavg: round(os.loadavg()[0] ?? NaN, 2),
    };
    if (values.bound && c >= 64) {
      const engine = await measureEngineBound({ modelPath: info.modelPath, padTokenId, seqs, sessions, intra: 1, batch: row.meanBatch, seconds });
      row.boundRps = engine.rowsPerSecond;
      row.share = row.rps / engine.rowsPerSecond;
      row.engineCpuUsPerRow = engine.cpuUsPerRow;
      row.enginePaddingPct = engine.paddingPct;
    }
    rows.push(row);
    const line =
      `round ${r} c=${c}: ${Math.round(row.rps)} req/s, main thread ${round(row.mainUsPerReq, 1)} µs/req (busy ${round(row.mainBusyPct, 1)}%), ` +
      `workers ${round(row.workersUsPerReq, 1)} µs/req, batch ${round(row.meanBatch, 2)}, padding ${round(row.paddingPct, 1)}%` +
      (row.share !== undefined ? `, bound ${Math.round(row.boundRps!)} → ${round(row.share * 100, 1)}% (engine ${round(row.engineCpuUsPerRow!, 1)} µs CPU/row, padding ${round(row.enginePaddingPct!, 1)}%)` : '') +
      `, load ${row.loadavg}` +
      (s0.cache && (s1 as typeof s0).cache!.hits + (s1 as typeof s0).cache!.misses > 0
        ? `, cache hits ${(s1 as typeof s0).cache!.hits - s0.cache.hits} misses ${(s1 as typeof s0).cache!.misses - s0.cache.misses}`
        : '');
    (values.json ? process.stderr : process.stdout).write(`${line}\n`);
  }
}
const stats = pool.stats() as unknown as { cache?: unknown };
await pool.close();
if (values.json) process.stdout.write(`${JSON.stringify({ date: new Date().toISOString(), rows, cache: stats.cache ?? null })}\n`);
