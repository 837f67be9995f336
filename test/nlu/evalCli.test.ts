/**
 * `nlu eval --robustness --json` and `--plain`: the transformed sets are scored like the original
 * (numbers recomputed here from single-utterance predictions), tags and decisions are reported.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNlu, type NluPipeline } from '../../src/nlu/NluPipeline.js';
import { upper } from '../../src/nlu/robustness.js';

const FIXTURE = 'test/fixtures/tiny-gpt2';
const ROWS = [
  { text: 'raise a PO for 200 steel bearings from Globex', intent: 'procurement.create_order', tags: ['plain'] },
  { text: 'what is the status of PO-10452', intent: 'procurement.order_status', tags: ['plain'] },
  { text: 'reject PO-10452, too expensive', intent: 'procurement.approve_order', tags: ['plain'], decision: 'reject' },
  { text: 'Hallo, wie viele SKU-1001 haben wir im Lager WH-A?', intent: 'non_english', tags: ['non_english'] },
  { text: 'bill our client Tyrell Corp for 120 SKU-1004', intent: 'out_of_scope', tags: ['trap'] },
  { text: 'hello there', intent: 'assistant.greet', tags: ['plain'] },
];

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/nlu.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('nlu eval --robustness', () => {
  let dir: string;
  let file: string;
  let nlu: NluPipeline;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'nlu-eval-'));
    file = path.join(dir, 'set.jsonl');
    await writeFile(file, ROWS.map((r) => JSON.stringify(r)).join('\n'));
    nlu = await loadNlu(FIXTURE);
  });
  afterAll(async () => {
    await nlu?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('scores every variant, per tag and the decision', async () => {
    const r = await cli(['eval', file, '--model', FIXTURE, '--json', '--robustness']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as {
      accuracy: number;
      wrong_write_rate: number;
      per_tag: Record<string, { n: number }>;
      decision: { n: number };
      robustness: Record<string, { accuracy: number; changed_rows: number; delta_accuracy: number; wrong_write_rate: number }>;
    };
    expect(Object.keys(report.robustness)).toEqual(['upper', 'title', 'lower', 'typo', 'entity_swap']);
    expect(report.per_tag.plain!.n).toBe(4);
    expect(report.per_tag.trap!.n).toBe(1);
    expect(report.decision.n).toBe(1);
    // The UPPER variant's accuracy, recomputed from single predictions of the upper-cased rows.
    let correct = 0;
    for (const [i, row] of ROWS.entries()) {
      const intent = (await nlu.recognize(upper(row.text, i))).intent;
      if (intent === (row.intent === 'non_english' ? 'assistant.non_english' : row.intent)) correct++;
    }
    expect(report.robustness.upper!.accuracy).toBeCloseTo(correct / ROWS.length, 12);
    expect(report.robustness.upper!.changed_rows).toBe(ROWS.length);
    expect(report.robustness.upper!.delta_accuracy).toBeCloseTo(report.robustness.upper!.accuracy - report.accuracy, 12);
    // The language check is on: the German row is right whatever the tiny model thinks.
    expect(report.per_tag.non_english).toMatchObject({ n: 1, accuracy: 1 });
  });

  it('--plain turns the runtime rules off (the German row is then the model’s guess, never non_english)', async () => {
    const r = await cli(['eval', file, '--model', FIXTURE, '--json', '--plain']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { per_tag: Record<string, { accuracy: number }> };
    expect(report.per_tag.non_english!.accuracy).toBe(0);
  });

  it('prints a readable robustness table', async () => {
    const r = await cli(['eval', file, '--model', FIXTURE, '--robustness']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/wrong write rate: +\d+\.\d\d%/);
    expect(r.stdout).toMatch(/^robustness \(same rows, transformed\)$/m);
    for (const v of ['original', 'upper', 'title', 'lower', 'typo', 'entity_swap']) expect(r.stdout).toMatch(new RegExp(`^${v} `, 'm'));
  });
});
