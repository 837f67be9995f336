/**
 * Single-message latency of the NLU with and without the runtime rules (same process, interleaved,
 * validation texts, or FILE's): `npx tsx training/eval/latency_guards.ts [N] [FILE]` (FILE: nlu7; never a blind set).
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseEvalFile } from '../../src/nlu/evaluation.js';
import { loadNlu } from '../../src/nlu/NluPipeline.js';

const n = Number(process.argv[2] ?? 300);
const file = process.argv[3] ?? 'training/splits/val.jsonl';
if (/blind_chat/.test(file)) throw new Error('not on a report-only blind set');
const texts = parseEvalFile(readFileSync(file, 'utf8')).map((r) => r.text).slice(0, n);
const plain = await loadNlu('models/intent-gpt2', { guards: 'plain', intraOpNumThreads: 1 });
const guarded = await loadNlu('models/intent-gpt2', { intraOpNumThreads: 1 });
const times = { plain: [] as number[], guarded: [] as number[] };
for (const t of texts) {
  for (const [name, nlu] of [['plain', plain], ['guarded', guarded]] as const) {
    const t0 = performance.now();
    await nlu.recognize(t);
    times[name].push(performance.now() - t0);
  }
}
const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor(p * (xs.length - 1))]!;
for (const [name, xs] of Object.entries(times)) {
  console.log(`${name}: n=${xs.length} p50 ${q(xs, 0.5).toFixed(2)} ms, p95 ${q(xs, 0.95).toFixed(2)} ms, mean ${(xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(2)} ms`);
}
await plain.close();
await guarded.close();
