/**
 * Engine CPU per request of two (or more) model directories, in alternating rounds
 * (A B B A A B …): one bare session.run loop (bench/lib/engineBound.ts, one session, `--intra`
 * threads) over batches of `--batch` real utterances grouped by length, as the pool forms them.
 * Prints per round and the median over rounds of CPU µs per row and wall ms per row, and each
 * model's ratio to the first.
 *
 *   npx tsx bench/quantCost.ts models/intent-gpt2 training/runs/intent-gpt2-int8 \
 *       [--batch 8] [--intra 1] [--seconds 2] [--rounds 6] [--json]
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readModelDir } from '../src/inference/modelDir.js';
import { GptTokenizer } from '../src/inference/tokenizer.js';
import { measureEngineBound } from './lib/engineBound.js';
import { loadUtterances, round } from './lib/load.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      batch: { type: 'string', default: '8' },
      intra: { type: 'string', default: '1' },
      seconds: { type: 'string', default: '2' },
      rounds: { type: 'string', default: '6' },
      json: { type: 'boolean', default: false },
    },
  });
  if (positionals.length === 0) throw new Error('usage: npx tsx bench/quantCost.ts DIR_A [DIR_B ...]');
  const batch = Number(values.batch);
  const intra = Number(values.intra);
  const seconds = Number(values.seconds);
  const rounds = Number(values.rounds);
  const texts = loadUtterances(ROOT, 2000);
  const models = [];
  for (const dir of positionals) {
    const info = await readModelDir(dir);
    const padTokenId = info.padTokenId ?? 50256;
    const maxLength = Math.min(info.maxLength ?? 64, info.nPositions ?? 64);
    const tok = await GptTokenizer.fromDir(dir, { maxLength, padTokenId });
    const seqs = texts.map((t) => tok.encode(t)).filter((s) => s.length > 0);
    models.push({ dir, padTokenId, seqs, cpuUs: [] as number[], msRow: [] as number[] });
  }
  for (let r = 0; r < rounds; r++) {
    // Alternate the order every round so drift in machine load hits each model alike.
    const order = r % 2 === 0 ? models : [...models].reverse();
    for (const m of order) {
      const b = await measureEngineBound({
        modelPath: path.join(m.dir, 'model.onnx'),
        padTokenId: m.padTokenId,
        seqs: m.seqs,
        sessions: 1,
        intra,
        batch,
        seconds,
      });
      m.cpuUs.push(b.cpuUsPerRow);
      m.msRow.push(b.msPerRow);
      if (!values.json) console.log(`round ${r} ${m.dir}: cpu ${round(b.cpuUsPerRow, 1)} µs/row, wall ${round(b.msPerRow, 4)} ms/row`);
    }
  }
  const base = models[0]!;
  const rows = models.map((m) => ({
    model: m.dir,
    batch,
    intra,
    cpu_us_per_row_median: round(median(m.cpuUs), 1),
    wall_ms_per_row_median: round(median(m.msRow), 4),
    cpu_ratio_to_first: round(median(m.cpuUs) / median(base.cpuUs), 3),
    cpu_us_per_row_rounds: m.cpuUs.map((x) => round(x, 1)),
  }));
  if (values.json) console.log(JSON.stringify({ batch, intra, seconds, rounds, rows }, null, 2));
  else for (const r of rows) console.log(`${r.model}: median cpu ${r.cpu_us_per_row_median} µs/row (× ${r.cpu_ratio_to_first}), wall ${r.wall_ms_per_row_median} ms/row`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
