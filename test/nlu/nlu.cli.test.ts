import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNlu, type NluPipeline } from '../../src/nlu/NluPipeline.js';
import { WRITE_INTENTS } from '../../src/nlu/types.js';

const FIXTURE = 'test/fixtures/tiny-gpt2';
const EVAL_FILE = 'test/fixtures/nlu/eval-small.jsonl';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], input = '', env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

const cli = (args: string[], input = '', env: NodeJS.ProcessEnv = {}): Promise<Run> =>
  run(process.execPath, ['--import', 'tsx', 'src/cli/nlu.ts', ...args], input, env);

const LINES = [
  'raise a PO for 200 steel bearings from Globex',
  'what is the status of PO-10452',
  '',
  'hello there',
  '日本語 😀 "quotes" and \\ backslash',
  'move 3 pallets from WH-A to Dallas',
];

describe('nlu classify', () => {
  it('writes exactly one JSON object per input line, in order, and nothing else', async () => {
    // CRLF on one line, no newline after the last; the model comes from MODEL_DIR.
    const input = `${LINES.slice(0, 2).join('\r\n')}\n${LINES.slice(2).join('\n')}`;
    const r = await cli(['classify'], input, { MODEL_DIR: FIXTURE });
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout.split('\n');
    expect(out.pop()).toBe(''); // every object ends with a newline
    expect(out).toHaveLength(LINES.length);
    out.forEach((line, i) => {
      const obj = JSON.parse(line) as Record<string, unknown>;
      expect(Object.keys(obj)).toEqual(['text', 'intent', 'confidence', 'ranking', 'entities']);
      expect(obj.text).toBe(LINES[i]);
      const ranking = obj.ranking as { intent: string; confidence: number }[];
      expect(ranking).toHaveLength(16);
      for (const x of ranking) expect(Object.keys(x)).toEqual(['intent', 'confidence']);
      for (const e of obj.entities as Record<string, unknown>[]) {
        expect(Object.keys(e)).toEqual(['type', 'value', 'text', 'start', 'end']);
        expect(LINES[i]!.slice(e.start as number, e.end as number)).toBe(e.text);
      }
    });
    expect(JSON.parse(out[1]!).entities).toEqual([
      { type: 'purchase_order', value: 'PO-10452', text: 'PO-10452', start: 22, end: 30 },
    ]);
    expect(JSON.parse(out[2]!).intent).toBe('out_of_scope');
    expect(r.stderr).toContain('classified 6 line(s)');
  });

  it('`npm run --silent nlu -- classify` keeps stdout pure JSON (plain `npm run` prepends a header)', async () => {
    const r = await run('npm', ['run', '--silent', 'nlu', '--', 'classify', '--model', FIXTURE], 'hello\n');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(r.stdout).text).toBe('hello');
  });
});

describe('nlu eval', () => {
  let nlu: NluPipeline;
  beforeAll(async () => {
    nlu = await loadNlu(FIXTURE);
  });
  afterAll(async () => {
    await nlu?.close();
  });

  it('--json prints one object whose numbers match single-utterance predictions', async () => {
    const rows = readFileSync(EVAL_FILE, 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as { text: string; intent: string });
    // Expected values computed here, independently of the CLI's batching and of evaluation.ts.
    const predicted: string[] = [];
    for (const row of rows) predicted.push((await nlu.recognize(row.text)).intent);
    const correct = rows.filter((r, i) => predicted[i] === r.intent).length;
    const oosIdx = rows.map((r, i) => (r.intent === 'out_of_scope' ? i : -1)).filter((i) => i >= 0);
    const oosHit = oosIdx.filter((i) => predicted[i] === 'out_of_scope').length;
    const triggers = oosIdx.filter((i) => WRITE_INTENTS.includes(predicted[i]!)).length;

    const r = await cli(['eval', EVAL_FILE, '--model', FIXTURE, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const report = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(Object.keys(report).sort()).toEqual(
      ['accuracy', 'confusion', 'false_trigger_rate', 'false_write_rate', 'macro_f1', 'oos_recall', 'per_intent', 'wrong_write_rate'].sort(),
    );
    expect(report.accuracy).toBeCloseTo(correct / rows.length, 12);
    expect(report.oos_recall).toBeCloseTo(oosHit / oosIdx.length, 12);
    expect(report.false_trigger_rate).toBeCloseTo(triggers / oosIdx.length, 12);
    expect(report.false_write_rate).toBe(report.false_trigger_rate);
    const wrongWrites = rows.filter((r, i) => WRITE_INTENTS.includes(predicted[i]!) && predicted[i] !== r.intent).length;
    expect(report.wrong_write_rate).toBeCloseTo(wrongWrites / rows.length, 12);
    const confusion = report.confusion as Record<string, Record<string, number>>;
    rows.forEach((row, i) => expect(confusion[row.intent]![predicted[i]!]).toBeGreaterThan(0));
    const total = Object.values(confusion).reduce((a, rowc) => a + Object.values(rowc).reduce((x, y) => x + y, 0), 0);
    expect(total).toBe(rows.length);
    const perIntent = report.per_intent as Record<string, { support: number; recall: number }>;
    expect(perIntent.out_of_scope!.support).toBe(oosIdx.length);
    expect(perIntent.out_of_scope!.recall).toBeCloseTo(oosHit / oosIdx.length, 12);
    expect(typeof report.macro_f1).toBe('number');
  });

  it('fails cleanly: usage errors exit 2, runtime errors exit 1, stdout stays empty', async () => {
    const [usage, missing] = await Promise.all([
      cli(['frobnicate']),
      cli(['eval', 'test/fixtures/nlu/nope.jsonl', '--model', FIXTURE, '--json']),
    ]);
    expect(usage.code).toBe(2);
    expect(usage.stdout).toBe('');
    expect(usage.stderr).toMatch(/unknown command/);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toMatch(/cannot read/);
  });
});
