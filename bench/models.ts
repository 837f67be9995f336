/**
 * Side-by-side cost of intent models (e.g. the shipped model against a candidate):
 *
 *   npm run bench:models -- DIR_A DIR_B [...] [--seconds S] [--threads N] [--out bench/results]
 *
 * For each model directory: file size, session load time, single-utterance latency (p50/p99) and
 * batch-16 throughput on the same realistic utterances (training/splits), one in-thread session
 * with N intra-op threads. Models are measured in alternating rounds so machine noise hits them
 * alike; the report gives each model's ratio to the first. Writes models.json / models.csv.
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { findKey, readModelDir } from '../src/inference/modelDir.js';
import { OnnxClassifierSession } from '../src/inference/onnxSession.js';
import { GptTokenizer } from '../src/inference/tokenizer.js';
import { loadUtterances, quantile, round } from './lib/load.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

interface Candidate {
  dir: string;
  /** Ensemble members in the graph (model card `ensemble_members`; 1 when absent). */
  members: number;
  bytes: number;
  loadMs: number;
  session: OnnxClassifierSession;
  seqs: number[][];
  single: number[];
  batchRows: number;
  batchMs: number;
}

async function prepare(dir: string, texts: string[], threads: number): Promise<Candidate> {
  const info = await readModelDir(dir);
  const padTokenId = info.padTokenId ?? 50256;
  const maxLength = Math.min(info.maxLength ?? 64, info.nPositions ?? 64);
  const tok = await GptTokenizer.fromDir(dir, { maxLength, padTokenId });
  const t0 = performance.now();
  const session = await OnnxClassifierSession.load(path.join(dir, 'model.onnx'), {
    padTokenId,
    intraOpNumThreads: threads,
  });
  const loadMs = performance.now() - t0;
  const bytes = ['model.onnx', 'tokenizer.json'].reduce((s, f) => s + statSync(path.join(dir, f)).size, 0);
  const seqs = texts.map((t) => tok.encode(t)).filter((s) => s.length > 0);
  await session.run(seqs.slice(0, 16)); // warm-up
  const members = findKey(info.card, 'ensemble_members');
  return {
    dir,
    members: typeof members === 'number' ? members : 1,
    bytes,
    loadMs,
    session,
    seqs,
    single: [],
    batchRows: 0,
    batchMs: 0,
  };
}

async function measureRound(c: Candidate, seconds: number): Promise<void> {
  const end = performance.now() + seconds * 500;
  let i = 0;
  while (performance.now() < end) {
    const t = performance.now();
    await c.session.run([c.seqs[i++ % c.seqs.length]!]);
    c.single.push(performance.now() - t);
  }
  const endB = performance.now() + seconds * 500;
  while (performance.now() < endB) {
    const batch = Array.from({ length: 16 }, () => c.seqs[i++ % c.seqs.length]!);
    const t = performance.now();
    await c.session.run(batch);
    c.batchMs += performance.now() - t;
    c.batchRows += 16;
  }
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      seconds: { type: 'string' },
      threads: { type: 'string' },
      out: { type: 'string' },
    },
  });
  if (positionals.length === 0) throw new Error('usage: npm run bench:models -- DIR_A [DIR_B ...]');
  const seconds = Number(values.seconds ?? 2);
  const threads = Number(values.threads ?? 1);
  const texts = loadUtterances(ROOT, 2000);
  const cands: Candidate[] = [];
  for (const dir of positionals) cands.push(await prepare(path.resolve(dir), texts, threads));
  for (let r = 0; r < 5; r++) for (const c of cands) await measureRound(c, seconds / 5);
  const rows = cands.map((c) => {
    const s = [...c.single].sort((a, b) => a - b);
    return {
      model: path.relative(ROOT, c.dir) || c.dir,
      members: c.members,
      mb: round(c.bytes / 1e6, 2),
      load_ms: round(c.loadMs, 0),
      single_p50_ms: round(quantile(s, 0.5), 2),
      single_p99_ms: round(quantile(s, 0.99), 2),
      batch16_rows_per_s: round((c.batchRows / c.batchMs) * 1000, 0),
    };
  });
  const base = rows[0]!;
  console.log(`threads ${threads}, ${seconds} s per model, ${texts.length} utterances`);
  console.log(
    '| model | members | MB | load ms | single p50 ms | single p99 ms | batch-16 rows/s | p50 × first | rows/s × first |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(
      `| ${r.model} | ${r.members} | ${r.mb} | ${r.load_ms} | ${r.single_p50_ms} | ${r.single_p99_ms} | ${r.batch16_rows_per_s} | ` +
        `${round(r.single_p50_ms / base.single_p50_ms, 2)} | ${round(r.batch16_rows_per_s / base.batch16_rows_per_s, 2)} |`,
    );
  }
  const outDir = path.resolve(values.out ?? path.join(ROOT, 'bench/results'));
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, 'models.json'), `${JSON.stringify({ threads, seconds, rows }, null, 2)}\n`);
  const keys = Object.keys(base) as (keyof typeof base)[];
  writeFileSync(
    path.join(outDir, 'models.csv'),
    [keys.join(','), ...rows.map((r) => keys.map((k) => r[k]).join(','))].join('\n') + '\n',
  );
  for (const c of cands) await c.session.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
