import { PNG } from 'pngjs';

/**
 * The Teams app icons, drawn in code (no network, no image tools): a chat bubble with three dots.
 * - colour: 192×192, the bubble in white on a rounded Teams-purple square;
 * - outline: 32×32, the bubble outline in pure white on a transparent background (Teams' rule:
 *   only white and transparency).
 * Edges are anti-aliased by 4×4 supersampling; for the outline icon coverage becomes alpha.
 */

type Shape = (x: number, y: number) => boolean;

const roundedRect =
  (x0: number, y0: number, x1: number, y1: number, r: number): Shape =>
  (x, y) => {
    if (x < x0 || x > x1 || y < y0 || y > y1) return false;
    const cx = Math.min(Math.max(x, x0 + r), x1 - r);
    const cy = Math.min(Math.max(y, y0 + r), y1 - r);
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
  };

const circle =
  (cx: number, cy: number, r: number): Shape =>
  (x, y) =>
    (x - cx) ** 2 + (y - cy) ** 2 <= r * r;

/** Triangle by barycentric sign test. */
const triangle =
  (ax: number, ay: number, bx: number, by: number, cx: number, cy: number): Shape =>
  (x, y) => {
    const s = (px: number, py: number, qx: number, qy: number) => (x - qx) * (py - qy) - (px - qx) * (y - qy);
    const d1 = s(ax, ay, bx, by);
    const d2 = s(bx, by, cx, cy);
    const d3 = s(cx, cy, ax, ay);
    return !((d1 < 0 || d2 < 0 || d3 < 0) && (d1 > 0 || d2 > 0 || d3 > 0));
  };

const union =
  (...shapes: Shape[]): Shape =>
  (x, y) =>
    shapes.some((s) => s(x, y));

/** The bubble in unit coordinates (0…1): body, tail, and the three dots. */
function bubble(inset: number) {
  const body = roundedRect(0.16 + inset, 0.2 + inset, 0.84 - inset, 0.68 - inset, 0.12 - inset / 2);
  const tail = triangle(0.3, 0.6, 0.46, 0.6 - inset, 0.26 + inset, 0.84 - inset * 1.6);
  return union(body, tail);
}
const DOTS = [0.33, 0.5, 0.67].map((cx) => circle(cx, 0.44, 0.055));

function coverage(shape: Shape, size: number, px: number, py: number): number {
  const n = 4;
  let hits = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (shape((px + (i + 0.5) / n) / size, (py + (j + 0.5) / n) / size)) hits++;
    }
  }
  return hits / (n * n);
}

const PURPLE = [0x46, 0x47, 0x75] as const;

export function renderColorIcon(size = 192): Buffer {
  const png = new PNG({ width: size, height: size });
  const background = roundedRect(0, 0, 1, 1, 0.18);
  const white = bubble(0);
  const dots = union(...DOTS);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const bg = coverage(background, size, x, y);
      const fg = coverage(white, size, x, y) * (1 - coverage(dots, size, x, y));
      const i = (y * size + x) * 4;
      for (let c = 0; c < 3; c++) png.data[i + c] = Math.round((PURPLE[c] as number) * (1 - fg) + 255 * fg);
      png.data[i + 3] = Math.round(255 * bg);
    }
  }
  return PNG.sync.write(png);
}

export function renderOutlineIcon(size = 32): Buffer {
  const png = new PNG({ width: size, height: size });
  const stroke = 2.2 / size;
  const outer = bubble(0);
  const inner = bubble(stroke);
  const ring: Shape = (x, y) => outer(x, y) && !inner(x, y);
  const shape = union(ring, ...DOTS);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = (y * size + x) * 4;
      png.data[i] = 255;
      png.data[i + 1] = 255;
      png.data[i + 2] = 255;
      png.data[i + 3] = Math.round(255 * coverage(shape, size, x, y));
    }
  }
  return PNG.sync.write(png);
}

export interface IconCheck {
  width: number;
  height: number;
  problems: string[];
}

/** Size (and, for the outline icon, white-on-transparent) checks Teams applies on upload. */
export function checkIcon(bytes: Buffer, kind: 'color' | 'outline'): IconCheck {
  let png: PNG;
  try {
    png = PNG.sync.read(bytes);
  } catch (err) {
    return { width: 0, height: 0, problems: [`${kind} icon is not a readable PNG: ${(err as Error).message}`] };
  }
  const want = kind === 'color' ? 192 : 32;
  const problems: string[] = [];
  if (png.width !== want || png.height !== want) problems.push(`${kind} icon must be ${want}×${want} pixels, is ${png.width}×${png.height}`);
  if (kind === 'outline') {
    let opaque = 0;
    for (let i = 0; i < png.data.length; i += 4) {
      const alpha = png.data[i + 3] as number;
      if (alpha === 0) continue;
      opaque++;
      if (png.data[i] !== 255 || png.data[i + 1] !== 255 || png.data[i + 2] !== 255) {
        problems.push('outline icon may only use white (#FFFFFF) and transparency');
        break;
      }
    }
    if (opaque === 0) problems.push('outline icon is fully transparent');
    if (opaque === png.width * png.height) problems.push('outline icon needs a transparent background');
  }
  return { width: png.width, height: png.height, problems };
}
