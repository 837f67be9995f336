/**
 * Training curves (`npm run bench:training`, bench/training.ts): the grid of points, the
 * result rows, their CSV and the "where does more stop paying" reading. Pure functions, no I/O.
 */

export interface CurvePoint {
  /** Share of each label's train source lines (and train-only paraphrase lines) kept, (0, 1]. */
  fraction: number;
  layers: number;
  /** Which curve the point belongs to ("data", "layers" or both when it is the shared point). */
  curves: ('data' | 'layers')[];
}

/** Fractions as given on the command line: "10,25,50,100" (percent) or "0.1,0.25,0.5,1". */
export function parseFractions(s: string): number[] {
  const xs = s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)
    .map(Number);
  const asShare = xs.some((x) => x > 1) ? xs.map((x) => x / 100) : xs;
  for (const f of asShare) if (!(f > 0 && f <= 1)) throw new Error(`fraction out of (0, 100%]: ${s}`);
  return [...new Set(asShare)].sort((a, b) => a - b);
}

export function parseLayers(s: string): number[] {
  const xs = s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)
    .map(Number);
  for (const l of xs) if (!(Number.isInteger(l) && l >= 1)) throw new Error(`layers must be positive integers: ${s}`);
  return [...new Set(xs)].sort((a, b) => a - b);
}

/**
 * The grid: every fraction at `baseLayers` (the data curve), every layer count at the largest
 * fraction (the size curve); the point on both is trained once.
 */
export function curveGrid(fractions: number[], layers: number[], baseLayers: number): CurvePoint[] {
  const full = Math.max(...fractions);
  const points = new Map<string, CurvePoint>();
  const add = (fraction: number, l: number, curve: 'data' | 'layers') => {
    const key = `${fraction}@${l}`;
    const p = points.get(key) ?? { fraction, layers: l, curves: [] };
    if (!p.curves.includes(curve)) p.curves.push(curve);
    points.set(key, p);
  };
  for (const f of fractions) add(f, baseLayers, 'data');
  for (const l of layers) add(full, l, 'layers');
  return [...points.values()];
}

export interface CurveRow {
  fraction: number;
  layers: number;
  curves: string;
  train_lines: number;
  paraphrase_lines: number;
  parameters: number;
  onnx_mb: number;
  train_seconds: number;
  peak_rss_mb: number;
  best_epoch: number;
  pretrain_loss: number | null;
  val_accuracy: number;
  test_accuracy: number;
  /** `nlu eval FILE --json` accuracy per eval set (dev_chat, blind_chat, …), by set name. */
  sets: Record<string, number>;
}

const num = (x: number | null, digits: number): string => (x === null || !Number.isFinite(x) ? '' : x.toFixed(digits));

/** One CSV line per point; the eval sets become columns in the given order. */
export function toCsv(rows: CurveRow[], setNames: string[]): string {
  const head = [
    'fraction',
    'layers',
    'curves',
    'train_lines',
    'paraphrase_lines',
    'parameters',
    'onnx_mb',
    'train_seconds',
    'peak_rss_mb',
    'best_epoch',
    'pretrain_loss',
    'val_accuracy',
    'test_accuracy',
    ...setNames.map((s) => `${s}_accuracy`),
  ];
  const lines = rows.map((r) =>
    [
      r.fraction,
      r.layers,
      r.curves,
      r.train_lines,
      r.paraphrase_lines,
      r.parameters,
      num(r.onnx_mb, 2),
      num(r.train_seconds, 1),
      num(r.peak_rss_mb, 1),
      r.best_epoch,
      num(r.pretrain_loss, 3),
      num(r.val_accuracy, 4),
      num(r.test_accuracy, 4),
      ...setNames.map((s) => num(r.sets[s] ?? NaN, 4)),
    ].join(','),
  );
  return `${head.join(',')}\n${lines.join('\n')}\n`;
}

/** Long-format rows for a line chart: one row per (point, accuracy series). */
export function chartRows(rows: CurveRow[], x: 'fraction' | 'layers', setNames: string[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const r of rows) {
    const xv = x === 'fraction' ? r.fraction * 100 : r.layers;
    out.push({ x: xv, accuracy: r.val_accuracy * 100, series: 'validation' });
    out.push({ x: xv, accuracy: r.test_accuracy * 100, series: 'test' });
    for (const s of setNames) if (r.sets[s] !== undefined) out.push({ x: xv, accuracy: r.sets[s]! * 100, series: s });
  }
  return out;
}

export interface Step {
  from: number;
  to: number;
  /** Accuracy change in percentage points. */
  gain_pt: number;
  /** Training-time ratio to/from. */
  time_ratio: number;
}

/** The steps along a curve (rows sorted by `key`) for one metric. */
export function steps(rows: CurveRow[], key: 'fraction' | 'layers', metric: (r: CurveRow) => number): Step[] {
  const s = [...rows].sort((a, b) => a[key] - b[key]);
  const out: Step[] = [];
  for (let i = 1; i < s.length; i++) {
    out.push({
      from: s[i - 1]![key],
      to: s[i]![key],
      gain_pt: (metric(s[i]!) - metric(s[i - 1]!)) * 100,
      time_ratio: s[i]!.train_seconds / s[i - 1]!.train_seconds,
    });
  }
  return out;
}

/**
 * Where more stops paying: the x of the first point after which no later step gains at least
 * `minGainPt` points (every later step is within noise or worse). Returns the largest x when
 * even the last step still pays (the curve has not flattened inside the grid), and null for
 * fewer than two points.
 */
export function stopsPayingAt(stepList: Step[], minGainPt: number): { at: number; flattened: boolean } | null {
  if (stepList.length === 0) return null;
  for (let i = 0; i < stepList.length; i++) {
    if (stepList.slice(i).every((st) => st.gain_pt < minGainPt)) return { at: stepList[i]!.from, flattened: true };
  }
  return { at: stepList[stepList.length - 1]!.to, flattened: false };
}

/**
 * Half-width (percentage points) of a 95% normal interval of an accuracy near `acc` measured on
 * `n` rows: the noise a difference between two points must clear to mean anything.
 */
export function noisePt(acc: number, n: number): number {
  return n > 0 ? 196 * Math.sqrt((acc * (1 - acc)) / n) : NaN;
}
