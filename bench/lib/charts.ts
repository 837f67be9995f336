/** Line charts as SVG, rendered headless with vega-lite → vega (no browser, no canvas). */
import { writeFile } from 'node:fs/promises';
import * as vega from 'vega';
import * as vl from 'vega-lite';

export interface LineChart {
  title: string;
  rows: Record<string, unknown>[];
  x: string;
  y: string;
  series: string;
  xTitle: string;
  yTitle: string;
  xLog?: boolean;
  yLog?: boolean;
  /** Horizontal reference line (e.g. a latency target), with a label. */
  target?: { value: number; label: string };
}

export async function writeLineChart(file: string, c: LineChart): Promise<void> {
  const layers: Record<string, unknown>[] = [
    {
      data: { values: c.rows },
      mark: { type: 'line', point: true, strokeWidth: 1.5 },
      encoding: {
        x: { field: c.x, type: 'quantitative', title: c.xTitle, axis: { format: '~g' }, scale: c.xLog ? { type: 'log', base: 2 } : { zero: false } },
        y: { field: c.y, type: 'quantitative', title: c.yTitle, scale: c.yLog ? { type: 'log' } : { zero: true } },
        color: { field: c.series, type: 'nominal', title: null, legend: { orient: 'right', labelLimit: 320 } },
      },
    },
  ];
  if (c.target) {
    layers.push({
      data: { values: [{ v: c.target.value, label: c.target.label }] },
      layer: [
        { mark: { type: 'rule', strokeDash: [4, 4], color: '#b00' }, encoding: { y: { field: 'v', type: 'quantitative' } } },
        {
          mark: { type: 'text', align: 'left', dx: 4, dy: -6, color: '#b00', fontSize: 10 },
          encoding: { y: { field: 'v', type: 'quantitative' }, x: { value: 0 }, text: { field: 'label' } },
        },
      ],
    });
  }
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: c.title,
    width: 560,
    height: 320,
    background: 'white',
    layer: layers,
  };
  const compiled = vl.compile(spec as unknown as vl.TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    await writeFile(file, await view.toSVG());
  } finally {
    view.finalize();
  }
}
