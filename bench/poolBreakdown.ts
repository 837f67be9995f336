/**
 * Where the pool loses against the engine: the same utterances through (a) bare session.run loops
 * (the bound: bench/lib/engineBound.ts) and (b) the pool at 64 concurrent requests in several
 * variants, interleaved in rounds, with each batch's stages timed (BatchEvent) and the main
 * thread's load (event-loop utilisation) and the process CPU measured.
 *
 *   npm run bench:pool-breakdown [-- --rounds N] [--seconds S] [--batch B] [--sessions N]
 *
 * Writes bench/results/pool-breakdown.md and .json (or under --out DIR).
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readModelDir } from '../src/inference/modelDir.js';
import { GptTokenizer } from '../src/inference/tokenizer.js';
import { InferencePool, type BatchEvent } from '../src/inference/pool/index.js';
import { measureEngineBound } from './lib/engineBound.js';
import { closedLoop, loadUtterances, round } from './lib/load.js';
import { describeMachine, machineAtEnd, machineAtStart, spread } from './lib/machine.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CONCURRENCY = 64;

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '3' },
    batch: { type: 'string', default: '8' },
    sessions: { type: 'string', default: '2' },
    out: { type: 'string' },
  },
});
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const maxBatch = Number(values.batch);
const sessions = Number(values.sessions);
const outDir = path.resolve(values.out ?? path.join(ROOT, 'bench/results'));
mkdirSync(outDir, { recursive: true });

const modelDir = path.join(ROOT, 'models/intent-gpt2');
const info = await readModelDir(modelDir);
const padTokenId = info.padTokenId ?? 50256;
const maxLength = Math.min(info.maxLength ?? info.nPositions ?? 64, info.nPositions ?? Infinity);
const tok = await GptTokenizer.fromDir(modelDir, { maxLength, padTokenId });
const texts = loadUtterances(ROOT).filter((t) => tok.encode(t).length > 0);
const seqs = texts.map((t) => tok.encode(t));
const machine = machineAtStart();

// Tokenizing the way the tokenizer did before its word cache: one whole Tokenizer.encode per message.
const encodeWhole = (t: string): number[] => tok.encodeFull(t).slice(0, maxLength);

interface Variant {
  name: string;
  sessions: number;
  depth: number;
  tokenize: 'whole' | 'cached' | 'none';
}
const variants: Variant[] = [
  { name: `before: ${sessions} workers, depth 1, whole-text tokenizer`, sessions, depth: 1, tokenize: 'whole' },
  { name: `before, best topology: ${sessions + 1} workers, depth 1, whole-text tokenizer`, sessions: sessions + 1, depth: 1, tokenize: 'whole' },
  { name: `${sessions} workers, depth 1, word-cache tokenizer`, sessions, depth: 1, tokenize: 'cached' },
  { name: `after: ${sessions} workers, depth 2, word-cache tokenizer`, sessions, depth: 2, tokenize: 'cached' },
  { name: `after, ids given (no tokenizer in the loop): ${sessions} workers, depth 2`, sessions, depth: 2, tokenize: 'none' },
];

/** Tokenizer cost per message on this thread (µs of CPU), both ways. */
function tokenizerCost(): { wholeUs: number; cachedUs: number } {
  const n = texts.length;
  const cpu = (f: (t: string) => unknown) => {
    const c0 = process.cpuUsage();
    for (const t of texts) f(t);
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / n;
  };
  cpu((t) => tok.encode(t)); // warm both
  cpu(encodeWhole);
  return { wholeUs: cpu(encodeWhole), cachedUs: cpu((t) => tok.encode(t)) };
}

interface PoolRun {
  variant: string;
  rps: number;
  p50: number;
  p99: number;
  meanBatch: number;
  cpuPct: number;
  mainElu: number;
  stages: Record<string, number>;
  workerBusyPct: number;
  workerIdleGapMs: number;
}

async function runPool(v: Variant): Promise<PoolRun> {
  const pool = await InferencePool.create({
    modelPath: info.modelPath,
    padTokenId,
    sessions: v.sessions,
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    maxBatchSize: maxBatch,
    pipelineDepth: v.depth,
    queueMax: 100_000,
    timeoutMs: 60_000,
    warmup: { seqLens: [Math.min(12, maxLength), maxLength] },
  });
  const events: BatchEvent[] = [];
  let recording = false;
  pool.addObserver({ batch: (e) => void (recording && events.push(e)) });
  let k = 0;
  const call =
    v.tokenize === 'none'
      ? async () => pool.run([seqs[k++ % seqs.length]!])
      : v.tokenize === 'cached'
        ? async (t: string) => pool.run([tok.encode(t)])
        : async (t: string) => pool.run([encodeWhole(t)]);
  // warm-up at the same load, then the measured window
  await closedLoop(CONCURRENCY, texts, call, { seconds: 0.5 });
  recording = true;
  const elu0 = performance.eventLoopUtilization();
  const r = await closedLoop(CONCURRENCY, texts, call, { seconds });
  const elu = performance.eventLoopUtilization(elu0);
  recording = false;
  await pool.close();

  const mean = (f: (e: BatchEvent) => number | undefined) => {
    const xs = events.map(f).filter((x): x is number => x !== undefined && Number.isFinite(x));
    return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
  };
  // Per session: busy = sum of (endedAt − startedAt); idle gaps between its consecutive batches.
  const bySession = new Map<number, BatchEvent[]>();
  for (const e of events) bySession.set(e.session ?? 0, [...(bySession.get(e.session ?? 0) ?? []), e]);
  let busy = 0;
  let span = 0;
  let gaps = 0;
  let gapCount = 0;
  for (const list of bySession.values()) {
    list.sort((a, b) => a.startedAt! - b.startedAt!);
    span += list[list.length - 1]!.endedAt! - list[0]!.startedAt!;
    for (let i = 0; i < list.length; i++) {
      busy += list[i]!.endedAt! - list[i]!.startedAt!;
      if (i > 0) {
        gaps += Math.max(0, list[i]!.startedAt! - list[i - 1]!.endedAt!);
        gapCount++;
      }
    }
  }
  return {
    variant: v.name,
    rps: r.rps,
    p50: r.p50,
    p99: r.p99,
    meanBatch: events.reduce((a, e) => a + e.size, 0) / Math.max(1, events.length),
    cpuPct: r.cpuPct,
    mainElu: elu.utilization,
    stages: {
      queue_oldest_ms: mean((e) => e.oldestQueueMs),
      form_ms: mean((e) => e.formMs),
      to_worker_ms: mean((e) => (e.receivedAt !== undefined ? e.receivedAt - e.sentAt! : undefined)),
      wait_behind_ms: mean((e) => (e.receivedAt !== undefined ? e.startedAt! - e.receivedAt : undefined)),
      pad_ms: mean((e) => e.padMs),
      run_ms: mean((e) => e.inferenceMs),
      from_worker_ms: mean((e) => e.resultAt! - e.endedAt!),
      deliver_ms: mean((e) => e.deliverMs),
    },
    workerBusyPct: (busy / Math.max(1, span)) * 100,
    workerIdleGapMs: gaps / Math.max(1, gapCount),
  };
}

const log = (s = ''): void => void process.stdout.write(`${s}\n`);
log(`# Pool breakdown — ${describeMachine(machine)}`);
const tokCost = tokenizerCost();
log(`tokenizer, CPU per message on the main thread: whole-text ${round(tokCost.wholeUs, 1)} µs, word cache ${round(tokCost.cachedUs, 1)} µs`);

const perRound: { round: number; bound: number; boundMsPerRow: number; pools: PoolRun[]; loadavg: number }[] = [];
for (let i = 1; i <= rounds; i++) {
  const bound = await measureEngineBound({ modelPath: info.modelPath, padTokenId, seqs, sessions, intra: 1, batch: maxBatch, seconds });
  log(`round ${i}: engine ${sessions} × bare session.run, batch ${maxBatch}: ${Math.round(bound.rowsPerSecond)} rows/s (${round(bound.msPerRow, 4)} ms/row per session)`);
  const pools: PoolRun[] = [];
  for (const v of variants) {
    const p = await runPool(v);
    pools.push(p);
    log(
      `  ${v.name}: ${Math.round(p.rps)} req/s = ${round((p.rps / bound.rowsPerSecond) * 100, 1)}% of the engine; batch ${round(p.meanBatch, 1)}, ` +
        `p99 ${round(p.p99, 1)} ms, worker busy ${round(p.workerBusyPct, 1)}%, idle gap ${round(p.workerIdleGapMs, 3)} ms, main thread ${round(p.mainElu * 100, 1)}%`,
    );
  }
  perRound.push({ round: i, bound: bound.rowsPerSecond, boundMsPerRow: bound.msPerRow, pools, loadavg: round((await import('node:os')).loadavg()[0] ?? NaN, 2) });
}
const end = machineAtEnd(machine);

// Medians over the rounds, each share against the bound of its own round.
const summary = variants.map((v, j) => {
  const runs = perRound.map((r) => ({ ...r.pools[j]!, share: r.pools[j]!.rps / r.bound }));
  const med = (f: (p: (typeof runs)[number]) => number) => spread(runs.map(f)).median;
  const stageNames = Object.keys(runs[0]!.stages);
  return {
    variant: v.name,
    share: spread(runs.map((p) => p.share)),
    rps: med((p) => p.rps),
    p99: med((p) => p.p99),
    meanBatch: med((p) => p.meanBatch),
    cpuPct: med((p) => p.cpuPct),
    mainElu: med((p) => p.mainElu),
    workerBusyPct: med((p) => p.workerBusyPct),
    workerIdleGapMs: med((p) => p.workerIdleGapMs),
    stages: Object.fromEntries(stageNames.map((s) => [s, med((p) => p.stages[s]!)])),
  };
});
const boundMedian = spread(perRound.map((r) => r.bound)).median;
const boundMsPerRow = spread(perRound.map((r) => r.boundMsPerRow)).median;
writeFileSync(
  path.join(outDir, 'pool-breakdown.json'),
  `${JSON.stringify({ machine: end, concurrency: CONCURRENCY, maxBatch, sessions, seconds, rounds, tokenizer: tokCost, bound_rows_per_s: boundMedian, summary, perRound }, null, 2)}\n`,
);

const f = (x: number, d = 2) => (Number.isFinite(x) ? String(round(x, d)) : '–');
const md = [
  '# Pool breakdown: where the pool loses against the engine',
  '',
  `Command: \`npm run bench:pool-breakdown -- --rounds ${rounds} --seconds ${seconds} --batch ${maxBatch} --sessions ${sessions}\``,
  `Run: ${describeMachine(end)}.`,
  '',
  `Model \`models/intent-gpt2\`, ${texts.length} training utterances, ${CONCURRENCY} concurrent requests (closed loop in the pool's own process),`,
  `batch ≤ ${maxBatch}, 1 ORT thread per session. Rounds interleave the engine and every pool variant; medians over ${rounds} rounds,`,
  'each share against the engine measured in its own round.',
  '',
  `**Engine (the bound):** ${sessions} bare \`session.run\` loops at once, one per worker thread, batches of ${maxBatch} utterances grouped`,
  `by length within each window of 64 (each padded to its own longest row): **${Math.round(boundMedian)} rows/s** (${f(boundMsPerRow, 4)} ms per row per session).`,
  '',
  `**Tokenizer on the main thread:** whole-text \`Tokenizer.encode\` ${f(tokCost.wholeUs, 1)} µs CPU per message; with the word cache ${f(tokCost.cachedUs, 1)} µs.`,
  '',
  '| pool variant | req/s | share of engine (min–max) | mean batch | p99 ms | main thread busy | process CPU % | worker busy | worker idle gap ms |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...summary.map(
    (s) =>
      `| ${s.variant} | ${Math.round(s.rps)} | **${f(s.share.median * 100, 1)}%** (${f(s.share.min * 100, 1)}–${f(s.share.max * 100, 1)}) | ${f(s.meanBatch, 1)} | ${f(s.p99, 1)} | ${f(s.mainElu * 100, 1)}% | ${Math.round(s.cpuPct)} | ${f(s.workerBusyPct, 1)}% | ${f(s.workerIdleGapMs, 3)} |`,
  ),
  '',
  'Per batch (means, ms): oldest request queued → sent; forming it (choose rows + pack, main thread); sent → the worker took',
  "it off its port (the hand-over; pipelined, also the rest of the batch before it: the thread reads its port only between batches); then waiting behind that batch; padding into",
  "int64 tensors (worker); `session.run`; the worker's answer → the main thread took it; handing results to the callers.",
  '',
  '| pool variant | queued | form | to worker | waits behind | pad | session.run | from worker | deliver |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...summary.map(
    (s) =>
      `| ${s.variant} | ${f(s.stages.queue_oldest_ms!)} | ${f(s.stages.form_ms!, 3)} | ${f(s.stages.to_worker_ms!, 3)} | ${f(s.stages.wait_behind_ms!, 3)} | ${f(s.stages.pad_ms!, 3)} | ${f(s.stages.run_ms!, 3)} | ${f(s.stages.from_worker_ms!, 3)} | ${f(s.stages.deliver_ms!, 3)} |`,
  ),
  '',
  `Rounds: ${perRound.map((r) => `${r.round}: engine ${Math.round(r.bound)} rows/s, load ${r.loadavg}`).join('; ')}.`,
  '',
].join('\n');
writeFileSync(path.join(outDir, 'pool-breakdown.md'), `${md}\n`);
log(`\nwrote ${path.relative(ROOT, path.join(outDir, 'pool-breakdown.md'))}`);
