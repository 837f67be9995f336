/**
 * NLU command line. Stdout carries only results (JSON lines / one report); logs go to stderr.
 *
 *   nlu classify [--model DIR]            stdin lines → one JSON object per line on stdout:
 *                                         {"text","intent","confidence","ranking":[...],"entities":[...]}
 *   nlu eval FILE.jsonl [--model DIR] [--json] [--robustness] [--plain]
 *                                         FILE lines {"text": "...", "intent": "...", "tags"?: [...],
 *                                         "decision"?: "approve"|"reject"} → metrics report; with --json
 *                                         exactly one JSON object: accuracy, macro_f1, oos_recall,
 *                                         false_trigger_rate, false_write_rate, wrong_write_rate,
 *                                         per_intent, confusion (+ per_tag, decision, robustness when
 *                                         present). --robustness: the same rows also in UPPER, Title and
 *                                         lower case, with a typo and with other numbers, each scored.
 *                                         --plain: the model and its global rule only (no casing
 *                                         normalisation, language check or write guard), to compare.
 *   nlu info [--model DIR]                model name, labels, provider, thresholds (JSON)
 *
 * Options: --model DIR (default $MODEL_DIR or models/intent-gpt2), --provider cpu|cuda|webgpu|auto,
 * --threshold X, --margin X (override the model card), --batch-size N (eval).
 *
 * Note: `npm run nlu -- classify` makes npm print a "> rpa-assistant@… nlu" header on stdout before
 * this program runs. Callers that parse stdout use `npm run --silent nlu -- …` (or `npx tsx src/cli/nlu.ts …`).
 */
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../config/config.js';
import { isProviderRequest, type ProviderRequest } from '../inference/executionProvider.js';
import { evaluate, formatReport, parseEvalFile, type EvalReport } from '../nlu/evaluation.js';
import { ROBUSTNESS_TRANSFORMS } from '../nlu/robustness.js';
import type { NluPipeline } from '../nlu/NluPipeline.js';
import { NON_ENGLISH, type NluResult } from '../nlu/types.js';

const USAGE = `usage:
  nlu classify [--model DIR]                   read lines on stdin, write one JSON result per line
  nlu eval FILE.jsonl [--model DIR] [--json] [--robustness] [--plain]
                                               metrics over {"text","intent"[,"tags","decision"]} lines
  nlu info [--model DIR]                       describe the model
options: --provider cpu|cuda|webgpu|auto  --threshold X  --margin X  --batch-size N`;

class UsageError extends Error {}

interface Args {
  command: string;
  positional: string[];
  model?: string;
  json: boolean;
  provider: ProviderRequest;
  threshold?: number;
  margin?: number;
  batchSize: number;
  robustness: boolean;
  plain: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    command: '',
    positional: [],
    json: false,
    provider: 'cpu',
    batchSize: 32,
    robustness: false,
    plain: false,
  };
  const value = (i: number, flag: string): string => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    return v;
  };
  const unitValue = (s: string, flag: string): number => {
    const n = Number(s);
    if (!(n >= 0 && n <= 1)) throw new UsageError(`${flag} must be a number in [0, 1]`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const take = (): string => {
      if (inline !== undefined) return inline;
      const v = value(i, flag);
      i++;
      return v;
    };
    switch (flag) {
      case '--model':
        args.model = take();
        break;
      case '--json':
        args.json = true;
        break;
      case '--robustness':
        args.robustness = true;
        break;
      case '--plain':
        args.plain = true;
        break;
      case '--provider': {
        const p = take();
        if (!isProviderRequest(p)) throw new UsageError(`--provider must be cpu, cuda, webgpu or auto`);
        args.provider = p;
        break;
      }
      case '--threshold':
        args.threshold = unitValue(take(), '--threshold');
        break;
      case '--margin':
        args.margin = unitValue(take(), '--margin');
        break;
      case '--batch-size': {
        const n = Number(take());
        if (!Number.isInteger(n) || n < 1) throw new UsageError('--batch-size must be a positive integer');
        args.batchSize = n;
        break;
      }
      case '-h':
      case '--help':
        args.command = 'help';
        break;
      default:
        if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
        if (!args.command) args.command = a;
        else args.positional.push(a);
    }
  }
  return args;
}

const log = (msg: string): void => {
  process.stderr.write(`[nlu] ${msg}\n`);
};

/** Model dir and threshold overrides from the environment (via the app config), CLI flags win. */
function settings(args: Args): { modelDir: string; threshold?: number; margin?: number } {
  let modelDir = 'models/intent-gpt2';
  let threshold: number | undefined;
  let margin: number | undefined;
  try {
    const cfg = loadConfig();
    modelDir = cfg.nlu.modelDir;
    threshold = cfg.nlu.confidenceThreshold;
    margin = cfg.nlu.margin;
  } catch (err) {
    log(`ignoring the environment's app configuration: ${err instanceof Error ? err.message : String(err)}`);
  }
  return { modelDir: args.model ?? modelDir, threshold: args.threshold ?? threshold, margin: args.margin ?? margin };
}

async function open(args: Args): Promise<NluPipeline> {
  const s = settings(args);
  const t0 = performance.now();
  // Loaded lazily: usage errors and --help answer without loading onnxruntime.
  const { loadNlu } = await import('../nlu/NluPipeline.js');
  const nlu = await loadNlu(s.modelDir, {
    provider: args.provider,
    confidenceThreshold: s.threshold,
    margin: s.margin,
    ...(args.plain ? { guards: 'plain' as const } : {}),
  });
  const info = nlu.info();
  log(
    `model ${info.name} (${info.labels.length} labels, ${info.provider}, max_length ${info.maxLength}, ` +
      `thresholds confidence ${info.thresholds.confidence} margin ${info.thresholds.margin}) loaded in ${Math.round(performance.now() - t0)} ms`,
  );
  return nlu;
}

/** The wire format: exactly these keys, in this order. */
function toJsonLine(r: NluResult): string {
  return JSON.stringify({
    text: r.text,
    intent: r.intent,
    confidence: r.confidence,
    ranking: r.ranking.map((x) => ({ intent: x.intent, confidence: x.confidence })),
    entities: r.entities.map((e) => ({ type: e.type, value: e.value, text: e.text, start: e.start, end: e.end })),
  });
}

function write(chunk: string): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(chunk, (err) => (err ? reject(err) : resolve()));
  });
}

async function classify(args: Args): Promise<void> {
  const nlu = await open(args);
  try {
    const rl = createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
    let n = 0;
    for await (const line of rl) {
      await write(`${toJsonLine(await nlu.recognize(line))}\n`);
      n++;
    }
    log(`classified ${n} line(s)`);
  } finally {
    await nlu.close();
  }
}

async function evalCommand(args: Args): Promise<void> {
  const file = args.positional[0];
  if (!file) throw new UsageError('eval needs a FILE.jsonl');
  let content: string;
  try {
    content = await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  const rows = parseEvalFile(content, file);
  if (rows.length === 0) throw new Error(`${file} has no rows`);
  const nlu = await open(args);
  try {
    const labels = nlu.info().labels;
    // assistant.non_english is the language check's verdict, not a model label.
    const unknown = [...new Set(rows.map((r) => r.intent).filter((l) => !labels.includes(l) && l !== NON_ENGLISH))];
    if (unknown.length > 0) log(`warning: gold labels the model does not know: ${unknown.join(', ')}`);
    const score = async (texts: string[]): Promise<EvalReport> => {
      const t0 = performance.now();
      const results = await nlu.recognizeBatch(texts, { batchSize: args.batchSize });
      const ms = performance.now() - t0;
      log(`evaluated ${texts.length} rows in ${Math.round(ms)} ms (${(ms / texts.length).toFixed(2)} ms/row)`);
      return evaluate(
        rows.map((r) => r.intent),
        results.map((r) => r.intent),
        {
          labels,
          tags: rows.some((r) => r.tags) ? rows.map((r) => r.tags) : undefined,
          decisions: rows.some((r) => r.decision)
            ? rows.map((r, i) => ({ gold: r.decision, predicted: decisionOf(results[i]!) }))
            : undefined,
        },
      );
    };
    const report = await score(rows.map((r) => r.text));
    const robustness: Record<string, RobustnessScore> = {};
    if (args.robustness) {
      for (const [name, transform] of Object.entries(ROBUSTNESS_TRANSFORMS)) {
        const texts = rows.map((r, i) => transform(r.text, i));
        const r = await score(texts);
        robustness[name] = {
          changed_rows: texts.filter((t, i) => t !== rows[i]!.text).length,
          accuracy: r.accuracy,
          delta_accuracy: r.accuracy - report.accuracy,
          false_write_rate: r.false_write_rate,
          wrong_write_rate: r.wrong_write_rate,
        };
      }
    }
    if (args.json) {
      const { accuracy, macro_f1, oos_recall, false_trigger_rate, false_write_rate, wrong_write_rate, per_intent, confusion } = report;
      const out: Record<string, unknown> = { accuracy, macro_f1, oos_recall, false_trigger_rate, false_write_rate, wrong_write_rate, per_intent, confusion };
      if (report.per_tag) out.per_tag = report.per_tag;
      if (report.decision) out.decision = report.decision;
      if (args.robustness) out.robustness = robustness;
      await write(`${JSON.stringify(out)}\n`);
    } else {
      await write(`${formatReport(report)}\n`);
      if (args.robustness) await write(`\n${formatRobustness(report, robustness)}\n`);
    }
  } finally {
    await nlu.close();
  }
}

interface RobustnessScore {
  /** Rows the transformation actually changed. */
  changed_rows: number;
  accuracy: number;
  /** Accuracy minus the original rows' accuracy. */
  delta_accuracy: number;
  false_write_rate: number | null;
  wrong_write_rate: number;
}

/** The decision slot the NLU read ("reject PO-1102" → reject); absent → undefined. */
function decisionOf(r: NluResult): string | undefined {
  const d = r.entities.find((e) => e.type === 'decision');
  return typeof d?.value === 'string' ? d.value : undefined;
}

function formatRobustness(base: EvalReport, scores: Record<string, RobustnessScore>): string {
  const pct = (x: number | null): string => (x === null ? 'n/a' : `${(x * 100).toFixed(2)}%`);
  const lines = ['robustness (same rows, transformed)', 'variant       changed  accuracy     delta  false-write  wrong-write'];
  lines.push(`${'original'.padEnd(13)} ${'-'.padStart(7)}  ${pct(base.accuracy).padStart(8)}  ${''.padStart(8)}  ${pct(base.false_write_rate).padStart(11)}  ${pct(base.wrong_write_rate).padStart(11)}`);
  for (const [name, s] of Object.entries(scores)) {
    const delta = `${s.delta_accuracy >= 0 ? '+' : ''}${(s.delta_accuracy * 100).toFixed(2)}`;
    lines.push(
      `${name.padEnd(13)} ${String(s.changed_rows).padStart(7)}  ${pct(s.accuracy).padStart(8)}  ${delta.padStart(8)}  ${pct(s.false_write_rate).padStart(11)}  ${pct(s.wrong_write_rate).padStart(11)}`,
    );
  }
  return lines.join('\n');
}

async function info(args: Args): Promise<void> {
  const nlu = await open(args);
  try {
    const { card: _card, ...info } = nlu.info();
    await write(`${JSON.stringify(info, null, 2)}\n`);
  } finally {
    await nlu.close();
  }
}

async function main(argv: string[]): Promise<number> {
  // A reader that goes away (e.g. `| head`) is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  try {
    const args = parseArgs(argv);
    switch (args.command) {
      case 'classify':
        await classify(args);
        return 0;
      case 'eval':
        await evalCommand(args);
        return 0;
      case 'info':
        await info(args);
        return 0;
      case 'help':
        process.stderr.write(`${USAGE}\n`);
        return 0;
      default:
        throw new UsageError(args.command ? `unknown command "${args.command}"` : 'missing command');
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`nlu: ${err.message}\n${USAGE}\n`);
      return 2;
    }
    process.stderr.write(`nlu: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
