/**
 * Training curves (`npm run bench:training`): accuracy, training time and peak memory against
 * training-data size and model size.
 *
 *   nice -n 15 npm run bench:training -- [--fractions 10,25,50,100] [--layers 2,4,6] [--base-layers 4]
 *       [--pretrain-steps N] [--epochs N] [--out DIR] [--runs DIR] [--quick] [--eval-only RUNS] [--nlu-root DIR]
 *
 * Each point runs training/train_subset.py (training/train.py unchanged, on a seeded, nested
 * subsample of each label's train source lines and train-only paraphrase lines; validation and
 * test are the fixed seed-13 splits) with a fixed short schedule: `--no-refit` (the model selected
 * on validation, not refit on train+val), `--skip-parity`, `--pretrain-steps` and `--epochs` as
 * given (defaults below, shorter than `npm run train`'s 400 steps / 10 epochs + refit). The model
 * goes to a git-ignored run directory (training/runs/curves-<time>/…); then
 * `npx tsx src/cli/nlu.ts eval FILE --model DIR --json` scores it on training/eval/dev_chat.jsonl
 * and the blind sets (report only: the rows are never read here, only the reported accuracy).
 *
 * Writes <out>/training-curves.csv, .json, .md and SVG charts (accuracy vs data %, accuracy vs
 * layers, training time and peak RSS vs each). `--quick`: one tiny point (train.py --smoke, 25% of
 * its lines, 2 layers, dev_chat only) into /tmp/training-curves-quick — a check that the pipe works.
 * `--eval-only RUNS`: no training; re-score the models of an earlier run directory (same grid and
 * schedule options) — all points then see one state of the runtime NLU code. `--nlu-root DIR`: the
 * checkout whose src/cli/nlu.ts scores (e.g. a `git worktree` of a commit, with node_modules linked).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeLineChart } from './lib/charts.js';
import { describeMachine, machineAtEnd, machineAtStart } from './lib/machine.js';
import {
  chartRows,
  curveGrid,
  noisePt,
  parseFractions,
  parseLayers,
  steps,
  stopsPayingAt,
  toCsv,
  type CurvePoint,
  type CurveRow,
} from './lib/trainingCurves.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';
/** Defaults of the curve schedule (the full `npm run train` is 400 steps, 10 epochs, refit). */
const DEFAULT_PRETRAIN_STEPS = 100;
const DEFAULT_EPOCHS = 2;

interface Options {
  fractions: number[];
  layers: number[];
  baseLayers: number;
  pretrainSteps: number;
  epochs: number;
  out: string;
  runs: string;
  quick: boolean;
  sets: string[];
  /** Score the models already in `runs` (no training): e.g. all points with one state of src/nlu. */
  evalOnly: boolean;
  /** Checkout whose src/cli/nlu.ts scores the models (default this one). */
  nluRoot: string;
}

function parseArgs(argv: string[]): Options {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').slice(0, 15);
  const o: Options = {
    fractions: parseFractions('10,25,50,100'),
    layers: parseLayers('2,4,6'),
    baseLayers: 4,
    pretrainSteps: DEFAULT_PRETRAIN_STEPS,
    epochs: DEFAULT_EPOCHS,
    out: path.join(ROOT, 'bench/results'),
    runs: path.join(ROOT, 'training/runs', `curves-${stamp}`),
    quick: false,
    sets: [],
    evalOnly: false,
    nluRoot: ROOT,
  };
  let outGiven = false;
  let runsGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = () => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${a} needs a value`);
      return x;
    };
    if (a === '--fractions') o.fractions = parseFractions(v());
    else if (a === '--layers') o.layers = parseLayers(v());
    else if (a === '--base-layers') o.baseLayers = parseLayers(v())[0]!;
    else if (a === '--pretrain-steps') o.pretrainSteps = Number(v());
    else if (a === '--epochs') o.epochs = Number(v());
    else if (a === '--out') {
      o.out = path.resolve(v());
      outGiven = true;
    } else if (a === '--runs') {
      o.runs = path.resolve(v());
      runsGiven = true;
    } else if (a === '--sets') o.sets = v().split(',').filter(Boolean);
    else if (a === '--quick') o.quick = true;
    else if (a === '--eval-only') {
      o.runs = path.resolve(v());
      o.evalOnly = true;
      runsGiven = true;
    } else if (a === '--nlu-root') o.nluRoot = path.resolve(v());
    else throw new Error(`unknown option ${a} (see the header of bench/training.ts)`);
  }
  if (o.quick) {
    o.fractions = [0.25];
    o.layers = [2];
    o.baseLayers = 2;
    o.pretrainSteps = Math.min(o.pretrainSteps, 10);
    o.epochs = 1;
    if (!outGiven) o.out = path.join(os.tmpdir(), 'training-curves-quick');
    if (!runsGiven) o.runs = path.join(os.tmpdir(), 'training-curves-quick', 'runs');
    if (o.sets.length === 0) o.sets = ['training/eval/dev_chat.jsonl'];
  }
  if (o.sets.length === 0) {
    // dev_chat plus every blind set present: evaluated by the CLI, never read here
    const blind = readdirSync(path.join(ROOT, 'training/eval'))
      .filter((f) => /^blind_chat\d*\.jsonl$/.test(f))
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    o.sets = ['training/eval/dev_chat.jsonl', ...blind.map((f) => `training/eval/${f}`)];
  }
  return o;
}

function gitHead(dir: string): string {
  const r = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: dir, encoding: 'utf8' });
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'src'], { cwd: dir, encoding: 'utf8' }).stdout.trim() !== '';
  return `${r.stdout.trim()}${dirty ? ' (src/ has uncommitted changes)' : ''}`;
}

const setName = (file: string) => path.basename(file, '.jsonl');

function run(cmd: string, args: string[], cwd: string, logFile?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (logFile) writeFileSync(logFile, stdout + stderr);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

interface ModelCard {
  architecture: { parameters: number; n_layer: number };
  onnx: { bytes: number };
  metrics: { val: { accuracy: number; n: number }; test: { accuracy: number; n: number } };
  pretraining: { final_loss?: number } | null;
  fine_tuning: { selected: { epoch: number } };
}

const pointName = (p: CurvePoint) => `f${Math.round(p.fraction * 100)}-l${p.layers}`;

async function trainPoint(o: Options, p: CurvePoint): Promise<void> {
  const name = pointName(p);
  const runDir = path.join(o.runs, name);
  const modelDir = path.join(runDir, 'model');
  mkdirSync(runDir, { recursive: true });
  const trainArgs = [
    '--out', modelDir, '--run-dir', runDir, '--splits-out', path.join(runDir, 'splits'),
    '--no-refit', '--skip-parity', '--pretrain-steps', String(o.pretrainSteps), '--epochs', String(o.epochs),
    '--layers', String(p.layers), ...(o.quick ? ['--smoke'] : []),
  ];
  console.log(`[${new Date().toISOString().slice(11, 19)}] ${name}: training (${o.pretrainSteps} LM steps, ≤${o.epochs} epochs) → ${path.relative(ROOT, runDir)}`);
  const resultFile = path.join(runDir, 'point.json');
  const tr = await run(PYTHON, ['training/train_subset.py', '--fraction', String(p.fraction), '--result', resultFile, '--', ...trainArgs], ROOT, path.join(runDir, 'train.log'));
  if (tr.code !== 0) throw new Error(`${name}: training failed (exit ${tr.code}); see ${path.join(runDir, 'train.log')}\n${tr.stderr.slice(-2000)}`);
}

/** Reads a trained point (point.json + model card) and scores its model on the eval sets with `nlu eval`. */
async function scorePoint(o: Options, p: CurvePoint): Promise<{ row: CurveRow; valN: number; testN: number }> {
  const name = pointName(p);
  const runDir = path.join(o.runs, name);
  const modelDir = path.join(runDir, 'model');
  const point = JSON.parse(readFileSync(path.join(runDir, 'point.json'), 'utf8')) as {
    train_lines: number; paraphrase_lines: number; train_seconds: number; peak_rss_mb: number; peak_rss_children_mb: number;
    train_argv: string[];
  };
  const argOf = (flag: string) => point.train_argv[point.train_argv.indexOf(flag) + 1];
  if (argOf('--pretrain-steps') !== String(o.pretrainSteps) || argOf('--epochs') !== String(o.epochs)) {
    throw new Error(`${name}: trained with ${point.train_argv.join(' ')}, not --pretrain-steps ${o.pretrainSteps} --epochs ${o.epochs}`);
  }
  const card = JSON.parse(readFileSync(path.join(modelDir, 'model_card.json'), 'utf8')) as ModelCard;
  const sets: Record<string, number> = {};
  for (const file of o.sets) {
    const ev = await run('npx', ['tsx', 'src/cli/nlu.ts', 'eval', path.resolve(ROOT, file), '--model', modelDir, '--json'], o.nluRoot);
    if (ev.code !== 0) throw new Error(`${name}: nlu eval ${file} failed (exit ${ev.code})\n${ev.stderr.slice(-2000)}`);
    const lastLine = ev.stdout.trim().split('\n').pop() ?? '{}';
    sets[setName(file)] = (JSON.parse(lastLine) as { accuracy: number }).accuracy;
  }
  const row: CurveRow = {
    fraction: p.fraction,
    layers: p.layers,
    curves: p.curves.join('+'),
    train_lines: point.train_lines,
    paraphrase_lines: point.paraphrase_lines,
    parameters: card.architecture.parameters,
    onnx_mb: card.onnx.bytes / 1e6,
    train_seconds: point.train_seconds,
    peak_rss_mb: Math.max(point.peak_rss_mb, point.peak_rss_children_mb),
    best_epoch: card.fine_tuning.selected.epoch,
    pretrain_loss: card.pretraining?.final_loss ?? null,
    val_accuracy: card.metrics.val.accuracy,
    test_accuracy: card.metrics.test.accuracy,
    sets,
  };
  console.log(
    `  ${name}: ${row.train_seconds.toFixed(0)} s, peak RSS ${row.peak_rss_mb.toFixed(0)} MB, val ${(row.val_accuracy * 100).toFixed(2)}%, test ${(row.test_accuracy * 100).toFixed(2)}%, ` +
      Object.entries(sets).map(([k, v]) => `${k} ${(v * 100).toFixed(2)}%`).join(', '),
  );
  return { row, valN: card.metrics.val.n, testN: card.metrics.test.n };
}

const pct = (x: number | undefined) => (x === undefined ? 'n/a' : `${(x * 100).toFixed(1)}%`);

function markdown(o: Options, rows: CurveRow[], setNames: string[], summary: Record<string, unknown>, header: string): string {
  const L = [
    '# Training curves',
    '',
    header,
    '',
    `Schedule (shortened; \`npm run train\` is 400 LM steps, ≤10 epochs and a refit on train+val): ${o.pretrainSteps} causal-LM pretraining steps, ` +
      `≤${o.epochs} fine-tuning epochs (early stopping on validation, patience 3), no refit, one seed (13), lr 5e-4, dropout 0.1, width 256, 4 heads. ` +
      'Validation/test: the fixed seed-13 splits. Blind and dev sets: `nlu eval` (model + runtime guards, no write_guard.json calibrated for these models).',
    '',
    `| data % | layers | train lines | params | minutes | peak RSS MB | val | test | ${setNames.join(' | ')} |`,
    `|---|---|---|---|---|---|---|---|${setNames.map(() => '---').join('|')}|`,
    ...rows.map(
      (r) =>
        `| ${(r.fraction * 100).toFixed(0)} | ${r.layers} | ${r.train_lines} | ${(r.parameters / 1e6).toFixed(2)}M | ${(r.train_seconds / 60).toFixed(1)} | ` +
        `${r.peak_rss_mb.toFixed(0)} | ${pct(r.val_accuracy)} | ${pct(r.test_accuracy)} | ${setNames.map((s) => pct(r.sets[s])).join(' | ')} |`,
    ),
    '',
    '```json',
    JSON.stringify(summary, null, 2),
    '```',
    '',
  ];
  return L.join('\n');
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  for (const f of o.sets) if (!existsSync(path.join(ROOT, f))) throw new Error(`eval set ${f} not found`);
  mkdirSync(o.out, { recursive: true });
  mkdirSync(o.runs, { recursive: true });
  const grid = curveGrid(o.fractions, o.layers, o.baseLayers);
  const machine0 = machineAtStart();
  const command = `npm run bench:training${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  console.log(`training curves: ${grid.length} points, runs in ${path.relative(ROOT, o.runs) || o.runs}, loadavg ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const rows: CurveRow[] = [];
  let valN = 0;
  let testN = 0;
  for (const p of grid) {
    if (!o.evalOnly) await trainPoint(o, p);
    const r = await scorePoint(o, p);
    rows.push(r.row);
    valN = r.valN;
    testN = r.testN;
    await writeResults(o, rows, { valN, testN }, machine0, command, false); // partial results survive an interrupted run
  }
  await writeResults(o, rows, { valN, testN }, machine0, command, true);
}

async function writeResults(
  o: Options,
  rows: CurveRow[],
  n: { valN: number; testN: number },
  machine0: ReturnType<typeof machineAtStart>,
  command: string,
  final: boolean,
): Promise<void> {
  const setNames = o.sets.map(setName);
  const machine = machineAtEnd(machine0);
  const dataRows = rows.filter((r) => r.curves.includes('data'));
  const layerRows = rows.filter((r) => r.curves.includes('layers'));
  // the noise a step must clear: 95% half-width of the best validation accuracy on the validation rows
  const bestAcc = rows.length ? Math.max(...rows.map((r) => r.val_accuracy)) : 0;
  const noise = noisePt(bestAcc, n.valN);
  const val = (r: CurveRow) => r.val_accuracy;
  const blindMean = (r: CurveRow) => {
    const xs = setNames.filter((s) => s.startsWith('blind')).map((s) => r.sets[s]!).filter((x) => x !== undefined);
    return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
  };
  const summary = {
    validation_noise_pt_95: Number(noise.toFixed(2)),
    data: {
      steps_val: steps(dataRows, 'fraction', val),
      steps_blind_mean: steps(dataRows, 'fraction', blindMean),
      stops_paying_val: stopsPayingAt(steps(dataRows, 'fraction', val), noise),
      stops_paying_blind_mean: stopsPayingAt(steps(dataRows, 'fraction', blindMean), noise),
    },
    layers: {
      steps_val: steps(layerRows, 'layers', val),
      steps_blind_mean: steps(layerRows, 'layers', blindMean),
      stops_paying_val: stopsPayingAt(steps(layerRows, 'layers', val), noise),
      stops_paying_blind_mean: stopsPayingAt(steps(layerRows, 'layers', blindMean), noise),
    },
  };
  const base = o.quick ? 'training-curves-quick' : 'training-curves';
  // The training run's command and machine, kept in the run directory so an --eval-only pass can report them.
  const runFile = path.join(o.runs, 'curve-run.json');
  if (final && !o.evalOnly) writeFileSync(runFile, `${JSON.stringify({ command, machine, machine_line: describeMachine(machine) }, null, 2)}\n`);
  const trainingRun = existsSync(runFile) ? (JSON.parse(readFileSync(runFile, 'utf8')) as { command: string; machine_line: string }) : null;
  const json = {
    command,
    machine,
    machine_line: describeMachine(machine),
    training_run: o.evalOnly ? trainingRun : null,
    complete: final,
    schedule: {
      pretrain_steps: o.pretrainSteps,
      max_epochs: o.epochs,
      refit: false,
      parity_check: false,
      seed: 13,
      smoke: o.quick,
      note: 'shortened: npm run train uses 400 LM steps, up to 10 epochs and a refit on train+val',
    },
    subsampling: 'training/train_subset.py: per label, seeded (data.seeded(13, "subsample", ...)), nested prefixes of one shuffle; val/test fixed',
    eval_sets: o.sets,
    nlu_root: path.relative(ROOT, o.nluRoot) || '.',
    nlu_commit: gitHead(o.nluRoot),
    validation_rows: n.valN,
    test_rows: n.testN,
    runs: path.relative(ROOT, o.runs),
    points: rows,
    summary,
  };
  writeFileSync(path.join(o.out, `${base}.json`), `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(path.join(o.out, `${base}.csv`), toCsv(rows, setNames));
  const trainedBy = o.evalOnly && trainingRun ? `Trained by \`${trainingRun.command}\` — ${trainingRun.machine_line}. Scored by ` : '';
  const header = `${trainedBy}\`${command}\` — ${describeMachine(machine)}; \`nlu eval\` of ${json.nlu_root} at ${json.nlu_commit}.`;
  writeFileSync(path.join(o.out, `${base}.md`), markdown(o, rows, setNames, summary, header));
  if (!final) return;
  const sched = `${o.pretrainSteps} LM steps, ≤${o.epochs} epochs, no refit`;
  if (dataRows.length > 0) {
    await writeLineChart(path.join(o.out, `${base}_accuracy_vs_data.svg`), {
      title: `Accuracy vs training data (${o.baseLayers} layers; ${sched})`,
      rows: chartRows(dataRows, 'fraction', setNames),
      x: 'x',
      y: 'accuracy',
      series: 'series',
      xTitle: '% of train source lines (and paraphrase lines) kept',
      yTitle: 'accuracy (%)',
      xLog: true,
    });
    await writeLineChart(path.join(o.out, `${base}_cost_vs_data.svg`), {
      title: `Training time and peak memory vs training data (${o.baseLayers} layers; nice 15 on a shared 2-core box)`,
      rows: dataRows.flatMap((r) => [
        { x: r.fraction * 100, v: r.train_seconds / 60, series: 'training wall time (min)' },
        { x: r.fraction * 100, v: r.peak_rss_mb / 1024, series: 'peak RSS (GiB)' },
      ]),
      x: 'x',
      y: 'v',
      series: 'series',
      xTitle: '% of train source lines kept',
      yTitle: 'minutes / GiB',
      xLog: true,
    });
  }
  if (layerRows.length > 0) {
    await writeLineChart(path.join(o.out, `${base}_accuracy_vs_layers.svg`), {
      title: `Accuracy vs model size (${(Math.max(...o.fractions) * 100).toFixed(0)}% of the data; width 256; ${sched})`,
      rows: chartRows(layerRows, 'layers', setNames),
      x: 'x',
      y: 'accuracy',
      series: 'series',
      xTitle: 'transformer layers',
      yTitle: 'accuracy (%)',
    });
    await writeLineChart(path.join(o.out, `${base}_cost_vs_layers.svg`), {
      title: 'Training time and peak memory vs model size (nice 15 on a shared 2-core box)',
      rows: layerRows.flatMap((r) => [
        { x: r.layers, v: r.train_seconds / 60, series: 'training wall time (min)' },
        { x: r.layers, v: r.peak_rss_mb / 1024, series: 'peak RSS (GiB)' },
      ]),
      x: 'x',
      y: 'v',
      series: 'series',
      xTitle: 'transformer layers',
      yTitle: 'minutes / GiB',
    });
  }
  console.log(`wrote ${path.join(o.out, base)}.{csv,json,md} and charts; ${describeMachine(machine)}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
