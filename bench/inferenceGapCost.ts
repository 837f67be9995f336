/**
 * What one batch-1 model run costs when runs come one at a time with pauses between them, as in a
 * server at a moderate rate, against the same runs back to back (the engine-bound loops of
 * bench:inference and bench/quantCost.ts). Each model directory gets one session (1 intra-op
 * thread, on this thread: process CPU time is the run's), alternating models and pauses per round.
 *
 *   npx tsx bench/inferenceGapCost.ts models/intent-gpt2 models/intent-gpt2-int8 [--gaps 0,10] [--runs 300] [--rounds 2] [--json]
 *
 * Found 2026-12-07: back to back the int8 model costs ~0.65× fp32's CPU per run, but with 10 ms
 * pauses both cost about the same (the weights come back from memory each run), which is why the
 * int8 model did not show in a whole turn (docs/performance.md).
 */
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { OnnxClassifierSession } from '../src/inference/onnxSession.js';
import { readModelDir } from '../src/inference/modelDir.js';
import { GptTokenizer } from '../src/inference/tokenizer.js';
import { loadUtterances, round } from './lib/load.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    gaps: { type: 'string', default: '0,10' },
    runs: { type: 'string', default: '300' },
    rounds: { type: 'string', default: '2' },
    json: { type: 'boolean', default: false },
  },
});
if (positionals.length === 0) throw new Error('usage: npx tsx bench/inferenceGapCost.ts MODEL_DIR [MODEL_DIR …] [--gaps 0,10]');
const gaps = values.gaps.split(',').map(Number);
const runs = Number(values.runs);

const models = [];
for (const dir of positionals) {
  const md = await readModelDir(path.resolve(dir));
  const padTokenId = md.padTokenId ?? 0;
  const session = await OnnxClassifierSession.load(md.modelPath, { provider: 'cpu', padTokenId, intraOpNumThreads: 1, interOpNumThreads: 1 });
  const tokenizer = await GptTokenizer.fromDir(md.dir, { maxLength: md.maxLength ?? 64, padTokenId });
  models.push({ dir, session, tokenizer });
}
const texts = loadUtterances(path.resolve(path.dirname(new URL(import.meta.url).pathname), '..'));
const rows: { model: string; gap_ms: number; round: number; cpu_us_per_run: number; wall_us_per_run: number }[] = [];
const start = { at: new Date().toISOString(), loadavg: os.loadavg().map((x) => round(x, 2)) };

for (let r = 0; r < Number(values.rounds); r++) {
  // A B, then B A: neither model nor pause always runs first.
  const order = models.flatMap((m) => gaps.map((gap) => ({ m, gap })));
  for (const { m, gap } of r % 2 === 0 ? order : [...order].reverse()) {
    const ids = texts.slice(0, runs).map((t) => m.tokenizer.encode(t));
    await m.session.run([ids[0]!]); // warm this shape path
    const c0 = process.cpuUsage();
    let wall = 0;
    for (const seq of ids) {
      const t0 = performance.now();
      await m.session.run([seq]);
      wall += performance.now() - t0;
      if (gap > 0) await sleep(gap);
    }
    const c = process.cpuUsage(c0);
    rows.push({ model: m.dir, gap_ms: gap, round: r, cpu_us_per_run: round((c.user + c.system) / ids.length, 0), wall_us_per_run: round((wall * 1000) / ids.length, 0) });
  }
}
for (const m of models) await m.session.close();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const summary = models.flatMap((m) =>
  gaps.map((gap) => {
    const mine = rows.filter((x) => x.model === m.dir && x.gap_ms === gap);
    return { model: m.dir, gap_ms: gap, cpu_us_per_run: median(mine.map((x) => x.cpu_us_per_run)), wall_us_per_run: median(mine.map((x) => x.wall_us_per_run)), rounds: mine.map((x) => x.cpu_us_per_run) };
  }),
);
const end = { at: new Date().toISOString(), loadavg: os.loadavg().map((x) => round(x, 2)) };
if (values.json) console.log(JSON.stringify({ start, end, runs, summary, rows }));
else {
  console.log(`${start.at} (load ${start.loadavg.join(' ')}) → ${end.at} (load ${end.loadavg.join(' ')}); ${runs} batch-1 runs per round, 1 intra-op thread`);
  for (const s of summary) console.log(`${s.model.padEnd(28)} pause ${String(s.gap_ms).padStart(3)} ms: CPU ${s.cpu_us_per_run} µs/run (rounds ${s.rounds.join(', ')}), wall ${s.wall_us_per_run} µs/run`);
}
