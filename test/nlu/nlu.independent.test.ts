/**
 * The shipped model on training/eval/independent.jsonl: 260 messages written blind by a separate
 * author (see training/eval/README.md). A regression guard for the generalisation the held-out
 * test split cannot show; the floor sits below the measured 96.5% so noise-level changes of a
 * retrained model pass, but a model that misreads real phrasing or fires writes on traps fails.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNlu, type NluPipeline } from '../../src/nlu/NluPipeline.js';
import { evaluate, parseEvalFile } from '../../src/nlu/evaluation.js';

const REAL = 'models/intent-gpt2';
const FILE = path.join('training', 'eval', 'independent.jsonl');

describe.skipIf(!existsSync(path.join(REAL, 'model.onnx')))('shipped model on the independent set', () => {
  let nlu: NluPipeline;
  beforeAll(async () => {
    nlu = await loadNlu(REAL);
  });
  afterAll(async () => {
    await nlu?.close();
  });

  it('≥ 94% accuracy, ≥ 95% out-of-scope recall, no write intent fired on an out-of-scope message', async () => {
    const rows = parseEvalFile(readFileSync(FILE, 'utf8'), FILE);
    expect(rows).toHaveLength(260);
    const predicted = (
      await nlu.recognizeBatch(
        rows.map((r) => r.text),
        { batchSize: 32 },
      )
    ).map((r) => r.intent);
    const report = evaluate(
      rows.map((r) => r.intent),
      predicted,
    );
    expect(report.accuracy).toBeGreaterThanOrEqual(0.94);
    expect(report.oos_recall).toBeGreaterThanOrEqual(0.95);
    expect(report.false_trigger_rate).toBe(0);
  }, 60_000);
});
