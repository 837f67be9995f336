/**
 * NLU command line. Stdout carries only results (JSON lines / one report); logs go to stderr.
 *
 *   nlu classify [--model DIR]            stdin lines → one JSON object per line on stdout:
 *                                         {"text","intent","confidence","ranking":[...],"entities":[...]}
 *   nlu eval FILE.jsonl [--model DIR] [--json]
 *                                         FILE lines {"text": "...", "intent": "..."} → metrics report;
 *                                         with --json exactly one JSON object: accuracy, macro_f1,
 *                                         oos_recall, false_trigger_rate, per_intent, confusion
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
import { evaluate, formatReport, parseEvalFile } from '../nlu/evaluation.js';
import type { NluPipeline } from '../nlu/NluPipeline.js';
import type { NluResult } from '../nlu/types.js';

const USAGE = `usage:
  nlu classify [--model DIR]                   read lines on stdin, write one JSON result per line
  nlu eval FILE.jsonl [--model DIR] [--json]   metrics over {"text","intent"} lines
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
}

function parseArgs(argv: string[]): Args {
  const args: Args = { command: '', positional: [], json: false, provider: 'cpu', batchSize: 32 };
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
  const nlu = await loadNlu(s.modelDir, { provider: args.provider, confidenceThreshold: s.threshold, margin: s.margin });
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
    const unknown = [...new Set(rows.map((r) => r.intent).filter((l) => !labels.includes(l)))];
    if (unknown.length > 0) log(`warning: gold labels the model does not know: ${unknown.join(', ')}`);
    const t0 = performance.now();
    const results = await nlu.recognizeBatch(
      rows.map((r) => r.text),
      { batchSize: args.batchSize },
    );
    const ms = performance.now() - t0;
    log(`evaluated ${rows.length} rows in ${Math.round(ms)} ms (${(ms / rows.length).toFixed(2)} ms/row)`);
    const report = evaluate(
      rows.map((r) => r.intent),
      results.map((r) => r.intent),
      { labels },
    );
    if (args.json) {
      const { accuracy, macro_f1, oos_recall, false_trigger_rate, per_intent, confusion } = report;
      await write(`${JSON.stringify({ accuracy, macro_f1, oos_recall, false_trigger_rate, per_intent, confusion })}\n`);
    } else {
      await write(`${formatReport(report)}\n`);
    }
  } finally {
    await nlu.close();
  }
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
