import { describe, expect, it } from 'vitest';
import {
  chartRows,
  curveGrid,
  noisePt,
  parseFractions,
  parseLayers,
  steps,
  stopsPayingAt,
  toCsv,
  type CurveRow,
} from '../../bench/lib/trainingCurves.js';

const row = (fraction: number, layers: number, val: number, seconds: number, sets: Record<string, number> = {}): CurveRow => ({
  fraction,
  layers,
  curves: 'data',
  train_lines: Math.round(3960 * fraction),
  paraphrase_lines: Math.round(16600 * fraction),
  parameters: 1_000_000 * layers,
  onnx_mb: 4 * layers,
  train_seconds: seconds,
  peak_rss_mb: 1000,
  best_epoch: 3,
  pretrain_loss: 5.5,
  val_accuracy: val,
  test_accuracy: val - 0.01,
  sets,
});

describe('training curves: arguments and grid', () => {
  it('reads fractions as percent or as shares, sorted and de-duplicated', () => {
    expect(parseFractions('100,10,25,50')).toEqual([0.1, 0.25, 0.5, 1]);
    expect(parseFractions('0.5,0.1,0.5')).toEqual([0.1, 0.5]);
    expect(() => parseFractions('0,50')).toThrow(/out of/);
    expect(() => parseFractions('150')).toThrow(/out of/);
    expect(parseLayers('6,2,4')).toEqual([2, 4, 6]);
    expect(() => parseLayers('2.5')).toThrow(/positive integers/);
  });

  it('trains the point shared by both curves once', () => {
    const g = curveGrid([0.1, 0.25, 0.5, 1], [2, 4, 6], 4);
    expect(g.map((p) => `${p.fraction}@${p.layers}`)).toEqual(['0.1@4', '0.25@4', '0.5@4', '1@4', '1@2', '1@6']);
    expect(g.find((p) => p.fraction === 1 && p.layers === 4)!.curves).toEqual(['data', 'layers']);
    expect(g.find((p) => p.layers === 2)!.curves).toEqual(['layers']);
  });
});

describe('training curves: CSV and chart rows', () => {
  it('writes one line per point with a column per eval set, empty where a set is missing', () => {
    const csv = toCsv([row(0.1, 4, 0.9, 61.23, { dev_chat: 0.8 }), row(1, 4, 0.95, 300, { dev_chat: 0.9, blind_chat: 0.85 })], ['dev_chat', 'blind_chat']);
    const lines = csv.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    const head = lines[0]!.split(',');
    expect(head.slice(-4)).toEqual(['val_accuracy', 'test_accuracy', 'dev_chat_accuracy', 'blind_chat_accuracy']);
    const first = lines[1]!.split(',');
    expect(first).toHaveLength(head.length);
    expect(first[head.indexOf('train_seconds')]).toBe('61.2');
    expect(first[head.indexOf('val_accuracy')]).toBe('0.9000');
    expect(first[head.indexOf('blind_chat_accuracy')]).toBe('');
    expect(lines[2]!.split(',')[head.indexOf('blind_chat_accuracy')]).toBe('0.8500');
  });

  it('chart rows are percent on both axes, one series per split and set', () => {
    const rows = chartRows([row(0.25, 4, 0.9, 60, { dev_chat: 0.8 })], 'fraction', ['dev_chat', 'blind_chat']);
    expect(rows).toEqual([
      { x: 25, accuracy: 90, series: 'validation' },
      { x: 25, accuracy: 89, series: 'test' },
      { x: 25, accuracy: 80, series: 'dev_chat' },
    ]);
    expect(chartRows([row(1, 6, 0.9, 60)], 'layers', [])[0]!.x).toBe(6);
  });
});

describe('training curves: where more stops paying', () => {
  const val = (r: CurveRow) => r.val_accuracy;

  it('steps carry the gain in points and the time ratio, in x order', () => {
    const s = steps([row(1, 4, 0.95, 400), row(0.1, 4, 0.85, 100)], 'fraction', val);
    expect(s).toHaveLength(1);
    expect(s[0]!.from).toBe(0.1);
    expect(s[0]!.to).toBe(1);
    expect(s[0]!.gain_pt).toBeCloseTo(10, 9);
    expect(s[0]!.time_ratio).toBe(4);
  });

  it('is the first x after which no step gains the noise', () => {
    const rows = [row(0.1, 4, 0.8, 1), row(0.25, 4, 0.9, 2), row(0.5, 4, 0.905, 3), row(1, 4, 0.915, 4)];
    // steps: +10, +0.5, +1.0 points
    expect(stopsPayingAt(steps(rows, 'fraction', val), 2)).toEqual({ at: 0.25, flattened: true });
    // a later step that still pays moves the answer past it
    expect(stopsPayingAt(steps(rows, 'fraction', val), 0.8)).toEqual({ at: 1, flattened: false });
    // a loss counts as not paying
    const down = [row(0.1, 2, 0.9, 1), row(0.1, 4, 0.88, 2), row(0.1, 6, 0.87, 3)];
    expect(stopsPayingAt(steps(down, 'layers', val), 0.5)).toEqual({ at: 2, flattened: true });
    expect(stopsPayingAt([], 1)).toBeNull();
  });

  it('noise is the 95% half-width of an accuracy on n rows, in points', () => {
    expect(noisePt(0.95, 849)).toBeCloseTo(196 * Math.sqrt((0.95 * 0.05) / 849), 9);
    expect(noisePt(0.95, 849)).toBeGreaterThan(1.4);
    expect(noisePt(0.95, 849)).toBeLessThan(1.5);
    expect(noisePt(0.9, 0)).toBeNaN();
  });
});
