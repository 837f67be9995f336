/**
 * int8 dynamic quantization of an intent model, in TypeScript (no Python onnx/onnxruntime here):
 *
 *   npx tsx training/quantize.ts --in models/intent-gpt2 --out training/runs/intent-gpt2-int8
 *                                [--activations row|tensor] [--per-tensor] [--full-range]
 *                                [--no-embeddings] [--no-head] [--no-parity]
 *
 * What it does to the ONNX graph (everything else is copied byte for byte):
 * - every top-level `MatMul` whose second input is a 2-D float initializer used only there gets
 *   int8 weights (symmetric, zero point 0; a scale per output column, or one scalar with
 *   --per-tensor) and activations (A) quantized to uint8 at run time:
 *   --activations row (default): one scale and zero point per ROW of A (per token), computed with
 *     standard ONNX ops (see rowQuantMatMul): a row's result depends on that row alone, so batching
 *     and padding never change an answer (bit for bit), as the inference pool requires;
 *   --activations tensor: onnxruntime's `com.microsoft.DynamicQuantizeMatMul`, one scale for the
 *     whole tensor (cheaper, but a row's logits then depend on the rest of its batch and padding).
 *   A following `Add` of a 1-D float initializer (the Conv1D bias) is folded in.
 * - every top-level `Gather` (axis 0) from a 2-D float initializer with at least 64 rows (the token
 *   embedding) becomes Gather(int8 table) → Cast(float) → Mul(Gather(per-row scales)).
 * - with --activations tensor, opset `com.microsoft` 1 is added to the model's imports.
 *
 * The output directory gets model.onnx and a copy of every other file of the input directory;
 * model_card.json is updated (weights_storage int8, bytes, sizes, a `quantization` block with the
 * fp32-vs-int8 logit parity on training/splits/{val,test}.jsonl unless --no-parity).
 *
 * Weights are 7-bit ([-63, 63]) by default: the uint8×int8 kernels on x86 CPUs without VNNI (AVX2
 * `vpmaddubsw`) saturate their 16-bit pair sums with full 8-bit weights, and a model quantized on a
 * VNNI machine would answer differently on an AVX2 one (seen 2026-12-07: logit error 0.27–0.29
 * against a bound of 0.012 in test/inference/quantize.test.ts on an AVX2-only EPYC).
 * --full-range: 8-bit weights, exact only where the serving CPU has AVX-VNNI/AVX512-VNNI (or ARM).
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

// --- protobuf wire format: parse to fields, write fields back ------------------------------

/** One field of a protobuf message: varint (wire 0), length-delimited (2), fixed64 (1), fixed32 (5). */
export interface PbField {
  n: number;
  w: 0 | 1 | 2 | 5;
  /** varint value for wire 0; the payload bytes otherwise. */
  v: bigint | Uint8Array;
}

export function pbParse(b: Uint8Array): PbField[] {
  const out: PbField[] = [];
  let i = 0;
  const varint = (): bigint => {
    let r = 0n;
    let s = 0n;
    for (;;) {
      if (i >= b.length) throw new Error('protobuf: truncated varint');
      const x = b[i++]!;
      r |= BigInt(x & 0x7f) << s;
      s += 7n;
      if (!(x & 0x80)) return r;
    }
  };
  while (i < b.length) {
    const key = Number(varint());
    const n = key >>> 3;
    const w = key & 7;
    if (w === 0) out.push({ n, w, v: varint() });
    else if (w === 2) {
      const len = Number(varint());
      if (i + len > b.length) throw new Error('protobuf: truncated field');
      out.push({ n, w, v: b.subarray(i, i + len) });
      i += len;
    } else if (w === 5 || w === 1) {
      const len = w === 5 ? 4 : 8;
      out.push({ n, w, v: b.subarray(i, i + len) });
      i += len;
    } else throw new Error(`protobuf: unsupported wire type ${w}`);
  }
  return out;
}

function varintBytes(value: bigint | number): number[] {
  let v = BigInt(value);
  if (v < 0n) v = BigInt.asUintN(64, v); // int64 negatives: two's complement, 10 bytes
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}

export function pbWrite(fields: readonly PbField[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const f of fields) {
    parts.push(Uint8Array.from(varintBytes((f.n << 3) | f.w)));
    if (f.w === 0) parts.push(Uint8Array.from(varintBytes(f.v as bigint)));
    else if (f.w === 2) {
      const bytes = f.v as Uint8Array;
      parts.push(Uint8Array.from(varintBytes(bytes.length)), bytes);
    } else parts.push(f.v as Uint8Array);
  }
  const total = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const str = (n: number, s: string): PbField => ({ n, w: 2, v: enc.encode(s) });
const int = (n: number, v: number | bigint): PbField => ({ n, w: 0, v: BigInt(v) });
const msg = (n: number, fields: PbField[]): PbField => ({ n, w: 2, v: pbWrite(fields) });
const strings = (fields: readonly PbField[], n: number): string[] =>
  fields.filter((f) => f.n === n && f.w === 2).map((f) => dec.decode(f.v as Uint8Array));

// --- ONNX field numbers (onnx.proto3) ------------------------------------------------------

const MODEL = { graph: 7, opsetImport: 8 } as const;
const GRAPH = { node: 1, initializer: 5 } as const;
const NODE = { input: 1, output: 2, name: 3, opType: 4, attribute: 5, domain: 7 } as const;
const ATTR = { name: 1, i: 3, g: 6, graphs: 11, type: 20 } as const;
const TENSOR = { dims: 1, dataType: 2, floatData: 4, name: 8, rawData: 9 } as const;
const DT = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9 } as const;
const MS_DOMAIN = 'com.microsoft';

interface FloatInit {
  name: string;
  dims: number[];
  data: Float32Array;
}

function tensorDims(fields: readonly PbField[]): number[] {
  const dims: number[] = [];
  for (const f of fields.filter((x) => x.n === TENSOR.dims)) {
    if (f.w === 0) dims.push(Number(f.v));
    else {
      // packed repeated int64
      const b = f.v as Uint8Array;
      let i = 0;
      while (i < b.length) {
        let r = 0n;
        let s = 0n;
        for (;;) {
          const x = b[i++]!;
          r |= BigInt(x & 0x7f) << s;
          s += 7n;
          if (!(x & 0x80)) break;
        }
        dims.push(Number(BigInt.asIntN(64, r)));
      }
    }
  }
  return dims;
}

/** A float initializer's contents, or undefined for other types / external data. */
function readFloatInit(fields: readonly PbField[]): FloatInit | undefined {
  const dt = fields.find((f) => f.n === TENSOR.dataType);
  if (!dt || Number(dt.v) !== DT.FLOAT) return undefined;
  const name = strings(fields, TENSOR.name)[0] ?? '';
  const dims = tensorDims(fields);
  const count = dims.reduce((a, d) => a * d, 1);
  const raw = fields.find((f) => f.n === TENSOR.rawData);
  let data: Float32Array;
  if (raw) {
    const b = raw.v as Uint8Array;
    data = new Float32Array(b.byteLength / 4);
    new Uint8Array(data.buffer).set(b); // copy: raw bytes may be unaligned
  } else {
    const packed = fields.filter((f) => f.n === TENSOR.floatData);
    const vals: number[] = [];
    for (const f of packed) {
      if (f.w === 5) vals.push(new DataView((f.v as Uint8Array).slice().buffer).getFloat32(0, true));
      else {
        const b = (f.v as Uint8Array).slice();
        const dv = new DataView(b.buffer);
        for (let i = 0; i + 4 <= b.length; i += 4) vals.push(dv.getFloat32(i, true));
      }
    }
    data = Float32Array.from(vals);
  }
  if (data.length !== count) return undefined;
  return { name, dims, data };
}

function tensorField(name: string, dims: number[], dataType: number, raw: Uint8Array): PbField {
  return msg(GRAPH.initializer, [
    ...dims.map((d) => int(TENSOR.dims, d)),
    int(TENSOR.dataType, dataType),
    str(TENSOR.name, name),
    { n: TENSOR.rawData, w: 2, v: raw },
  ]);
}

const floatBytes = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const int8Bytes = (a: Int8Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function node(opType: string, inputs: string[], outputs: string[], name: string, extra: PbField[] = [], domain?: string): PbField {
  return msg(GRAPH.node, [
    ...inputs.map((s) => str(NODE.input, s)),
    ...outputs.map((s) => str(NODE.output, s)),
    str(NODE.name, name),
    str(NODE.opType, opType),
    ...extra,
    ...(domain ? [str(NODE.domain, domain)] : []),
  ]);
}

const int32Bytes = (a: Int32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const int64Bytes = (a: BigInt64Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
/** AttributeProto fields: INT (type 2), INTS (type 7). */
const attrInt = (name: string, v: number): PbField => msg(NODE.attribute, [str(ATTR.name, name), int(ATTR.i, v), int(ATTR.type, 2)]);
const attrInts = (name: string, vs: number[]): PbField =>
  msg(NODE.attribute, [str(ATTR.name, name), ...vs.map((v) => int(8, v)), int(ATTR.type, 7)]);

/** Column sums of an int8 [k × n] matrix (the zero-point correction of an asymmetric A). */
export function columnSums(q: Int8Array, k: number, n: number): Int32Array {
  const s = new Int32Array(n);
  for (let r = 0; r < k; r++) for (let c = 0; c < n; c++) s[c]! += q[r * n + c]!;
  return s;
}

/** Scalar / small constants shared by every per-row quantized MatMul (added once). */
class RowQuantConstants {
  used = false;
  readonly zero = 'rowq_const_zero';
  readonly one = 'rowq_const_one';
  readonly qmax = 'rowq_const_255';
  readonly flat = 'rowq_const_shape_flat';
  readonly axis1 = 'rowq_const_axes_1';
  private readonly widths = new Set<number>();
  width(m: number): string {
    this.widths.add(m);
    return `rowq_const_width_${m}`;
  }
  initializers(): PbField[] {
    const f = (name: string, v: number) => tensorField(name, [], DT.FLOAT, floatBytes(Float32Array.of(v)));
    return [
      f(this.zero, 0),
      f(this.one, 1),
      f(this.qmax, 255),
      tensorField(this.flat, [1], DT.INT64, int64Bytes(BigInt64Array.of(-1n))),
      tensorField(this.axis1, [1], DT.INT64, int64Bytes(BigInt64Array.of(1n))),
      ...[...this.widths].map((m) => tensorField(this.width(m), [1], DT.INT64, int64Bytes(BigInt64Array.of(BigInt(m))))),
    ];
  }
}

/**
 * Y = A·W (+ bias) with A quantized to uint8 per ROW at run time, from standard ONNX ops only:
 *
 *   A2 = Flatten(A, -1)                                  [N, K], N = all leading dims
 *   per row (ReduceMin/ReduceMax over K, keepdims):      the formula of DynamicQuantizeLinear /
 *     lo = min(min_k a, 0), hi = max(max_k a, 0)         onnxruntime's GetQuantizationParameter,
 *     scale = hi == lo ? 1 : (hi - lo) / 255             applied to one row instead of the tensor
 *     zp = Round(Clip(0 - lo / scale, 0, 255))           (Round: half to even)
 *   Aq = QuantizeLinear(A2, scale[N], zp[N] uint8, axis 0)  (saturating, half to even)
 *   Yi = MatMulInteger(Aq, Wq int8) - zp ⊗ colsum(Wq)    int32, exact (onnxruntime's CPU MatMulInteger
 *                                                        takes only a scalar a_zero_point, so the
 *                                                        per-row zero point is subtracted after)
 *   Y = Reshape(Cast(Yi) · (scale ⊗ w_scale) + bias, [leading dims of A, M])
 *
 * Every step is either elementwise, a reduction within one row, or exact integer arithmetic, so a
 * row's result depends on that row alone: not on the other rows of the batch nor on padding rows.
 */
function rowQuantMatMul(
  c: RowQuantConstants,
  name: string,
  a: string,
  wq: string,
  wScale: string,
  colsum: string,
  bias: string,
  out: string,
  m: number,
  onnxOpset: number,
): PbField[] {
  c.used = true;
  const p = `${name}_rowq`;
  const t = (s: string) => `${p}/${s}`;
  // ReduceMin/ReduceMax: axes is an attribute up to opset 17, an input from 18.
  const reduce = (op: string, out_: string) =>
    onnxOpset >= 18
      ? node(op, [t('a2'), c.axis1], [t(out_)], t(op), [attrInt('keepdims', 1)])
      : node(op, [t('a2')], [t(out_)], t(op), [attrInts('axes', [1]), attrInt('keepdims', 1)]);
  const nodes: PbField[] = [
    node('Flatten', [a], [t('a2')], t('Flatten'), [attrInt('axis', -1)]),
    reduce('ReduceMin', 'min'),
    reduce('ReduceMax', 'max'),
    node('Min', [t('min'), c.zero], [t('lo')], t('lo')),
    node('Max', [t('max'), c.zero], [t('hi')], t('hi')),
    node('Sub', [t('hi'), t('lo')], [t('range')], t('range')),
    node('Div', [t('range'), c.qmax], [t('scale0')], t('scale0')),
    node('Equal', [t('range'), c.zero], [t('flat_row')], t('flat_row')),
    node('Where', [t('flat_row'), c.one, t('scale0')], [t('scale')], t('scale')),
    node('Div', [t('lo'), t('scale')], [t('lo_q')], t('lo_q')),
    node('Sub', [c.zero, t('lo_q')], [t('zp0')], t('zp0')),
    node('Clip', [t('zp0'), c.zero, c.qmax], [t('zp1')], t('zp1')),
    node('Round', [t('zp1')], [t('zp')], t('zp')),
    node('Cast', [t('zp')], [t('zp_u8')], t('zp_u8'), [attrInt('to', DT.UINT8)]),
    node('Reshape', [t('scale'), c.flat], [t('scale_1d')], t('scale_1d')),
    node('Reshape', [t('zp_u8'), c.flat], [t('zp_1d')], t('zp_1d')),
    node('QuantizeLinear', [t('a2'), t('scale_1d'), t('zp_1d')], [t('aq')], t('QuantizeLinear'), [attrInt('axis', 0)]),
    node('MatMulInteger', [t('aq'), wq], [t('yi')], t('MatMulInteger')),
    node('Cast', [t('zp')], [t('zp_i32')], t('zp_i32'), [attrInt('to', DT.INT32)]),
    node('Mul', [t('zp_i32'), colsum], [t('zp_corr')], t('zp_corr')),
    node('Sub', [t('yi'), t('zp_corr')], [t('yc')], t('yc')),
    node('Cast', [t('yc')], [t('yf')], t('yf'), [attrInt('to', DT.FLOAT)]),
    node('Mul', [t('scale'), wScale], [t('out_scale')], t('out_scale')),
    node('Mul', [t('yf'), t('out_scale')], [t('y')], t('y')),
  ];
  let y = t('y');
  if (bias) {
    nodes.push(node('Add', [y, bias], [t('y_bias')], t('bias')));
    y = t('y_bias');
  }
  nodes.push(
    node('Shape', [a], [t('lead')], t('lead'), [attrInt('end', -1)]),
    node('Concat', [t('lead'), c.width(m)], [t('out_shape')], t('out_shape'), [attrInt('axis', 0)]),
    node('Reshape', [y, t('out_shape')], [out], t('Reshape')),
  );
  return nodes;
}

// --- quantization math ---------------------------------------------------------------------

export interface QuantizedMatrix {
  q: Int8Array;
  /** One scale per column (per-column), or a single scale. */
  scale: Float32Array;
}

/**
 * Symmetric int8 quantization of a row-major [rows × cols] matrix: per column (a scale per
 * output feature, the layout of MatMul's B) or per row (an embedding table), or per tensor.
 * q = round(w / scale), scale = max|w| / qmax, qmax 127 (63 with reduced range).
 */
export function quantizeSymmetric(
  w: Float32Array,
  rows: number,
  cols: number,
  mode: 'column' | 'row' | 'tensor',
  qmax = 127,
): QuantizedMatrix {
  const nScales = mode === 'column' ? cols : mode === 'row' ? rows : 1;
  const maxAbs = new Float32Array(nScales);
  const idx = (r: number, c: number) => (mode === 'column' ? c : mode === 'row' ? r : 0);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      const k = idx(r, c);
      const a = Math.abs(w[r * cols + c]!);
      if (a > maxAbs[k]!) maxAbs[k] = a;
    }
  const scale = new Float32Array(nScales);
  for (let k = 0; k < nScales; k++) scale[k] = maxAbs[k]! > 0 ? maxAbs[k]! / qmax : 1;
  const q = new Int8Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      const v = Math.round(w[r * cols + c]! / scale[idx(r, c)]!);
      q[r * cols + c] = Math.max(-qmax, Math.min(qmax, v));
    }
  return { q, scale };
}

// --- the graph rewrite ---------------------------------------------------------------------

export interface QuantizeOptions {
  /**
   * How activations (MatMul's A) are quantized at run time. 'row' (default): one uint8 scale and
   * zero point per row (per token), from standard ONNX ops, so a row's result depends on that row
   * alone — batch- and padding-independent, bit for bit. 'tensor': onnxruntime's
   * com.microsoft.DynamicQuantizeMatMul, one scale for the whole batch (a row's logits then depend
   * on the other rows and on padding).
   */
  activations?: 'row' | 'tensor';
  /** Per-column weight scales for MatMul (default); false: one scale per weight tensor. */
  perColumn?: boolean;
  /**
   * 7-bit weights (default true): exact on every CPU. false: full 8-bit weights, exact only where the
   * int8 GEMM has VNNI (or on ARM); x86 AVX2 kernels saturate their 16-bit pair sums with them.
   */
  reduceRange?: boolean;
  /** Quantize large Gather tables (the token embedding), per row. Default true. */
  embeddings?: boolean;
  /** Names of MatMul weight initializers to keep in float (e.g. the classification head). */
  keep?: readonly string[];
}

export interface QuantizeReport {
  activations: 'row' | 'tensor';
  matmuls: { weight: string; dims: number[]; biasFolded: boolean }[];
  gathers: { table: string; dims: number[] }[];
  floatParamsBefore: number;
  int8Params: number;
  bytesIn: number;
  bytesOut: number;
}

/** Every tensor name read by a node of `graph` or of any subgraph in its attributes. */
function collectUses(graphFields: readonly PbField[], uses: Map<string, number>): void {
  for (const f of graphFields) {
    if (f.n !== GRAPH.node) continue;
    const nd = pbParse(f.v as Uint8Array);
    for (const s of strings(nd, NODE.input)) if (s) uses.set(s, (uses.get(s) ?? 0) + 1);
    for (const a of nd.filter((x) => x.n === NODE.attribute)) {
      const af = pbParse(a.v as Uint8Array);
      for (const g of af.filter((x) => x.n === ATTR.g || x.n === ATTR.graphs)) collectUses(pbParse(g.v as Uint8Array), uses);
    }
  }
}

function gatherAxis(nd: readonly PbField[]): number {
  for (const a of nd.filter((x) => x.n === NODE.attribute)) {
    const af = pbParse(a.v as Uint8Array);
    if (strings(af, ATTR.name)[0] === 'axis') return Number(BigInt.asIntN(64, (af.find((x) => x.n === ATTR.i)?.v as bigint) ?? 0n));
  }
  return 0;
}

export function quantizeModel(modelBytes: Uint8Array, opts: QuantizeOptions = {}): { model: Uint8Array; report: QuantizeReport } {
  const activations = opts.activations ?? 'row';
  const perColumn = opts.perColumn ?? true;
  const qmax = opts.reduceRange === false ? 127 : 63;
  const embeddings = opts.embeddings ?? true;
  const keep = new Set(opts.keep ?? []);

  const model = pbParse(modelBytes);
  const gIdx = model.findIndex((f) => f.n === MODEL.graph);
  if (gIdx < 0) throw new Error('not an ONNX ModelProto: no graph');
  const graph = pbParse(model[gIdx]!.v as Uint8Array);
  const onnxOpset = model
    .filter((f) => f.n === MODEL.opsetImport)
    .map((f) => pbParse(f.v as Uint8Array))
    .filter((o) => !strings(o, 1)[0] || strings(o, 1)[0] === 'ai.onnx')
    .map((o) => Number((o.find((x) => x.n === 2)?.v as bigint | undefined) ?? 0n))[0] ?? 0;
  if (activations === 'row' && onnxOpset < 15) throw new Error(`per-row activations need ai.onnx opset >= 15 (Shape start/end); the model has ${onnxOpset}`);
  const rowConsts = new RowQuantConstants();

  const inits = new Map<string, { fields: PbField[]; index: number }>();
  graph.forEach((f, index) => {
    if (f.n !== GRAPH.initializer) return;
    const t = pbParse(f.v as Uint8Array);
    inits.set(strings(t, TENSOR.name)[0] ?? '', { fields: t, index });
  });
  const uses = new Map<string, number>();
  collectUses(graph, uses);
  // Graph outputs count as uses (an Add whose output is a graph output is still foldable: its
  // output name is kept).
  const nodes = graph.map((f, i) => (f.n === GRAPH.node ? { i, fields: pbParse(f.v as Uint8Array) } : undefined));
  const producerOf = new Map<string, number>();
  const consumersOf = new Map<string, number[]>();
  for (const nd of nodes) {
    if (!nd) continue;
    for (const o of strings(nd.fields, NODE.output)) producerOf.set(o, nd.i);
    for (const s of strings(nd.fields, NODE.input)) consumersOf.set(s, [...(consumersOf.get(s) ?? []), nd.i]);
  }
  const graphOutputs = new Set(graph.filter((f) => f.n === 12).map((f) => strings(pbParse(f.v as Uint8Array), 1)[0] ?? ''));

  const report: QuantizeReport = { activations, matmuls: [], gathers: [], floatParamsBefore: 0, int8Params: 0, bytesIn: modelBytes.length, bytesOut: 0 };
  for (const { fields } of inits.values()) {
    const fi = readFloatInit(fields);
    if (fi) report.floatParamsBefore += fi.data.length;
  }

  /** graph index → replacement fields (possibly several), or [] to delete. */
  const replace = new Map<number, PbField[]>();
  const added: PbField[] = [];

  for (const nd of nodes) {
    if (!nd || replace.has(nd.i)) continue;
    const op = strings(nd.fields, NODE.opType)[0];
    const domain = strings(nd.fields, NODE.domain)[0] ?? '';
    if (domain !== '' && domain !== 'ai.onnx') continue;
    const inputs = strings(nd.fields, NODE.input);
    const outputs = strings(nd.fields, NODE.output);
    const name = strings(nd.fields, NODE.name)[0] || `${op}_${nd.i}`;

    if (op === 'MatMul' && inputs.length === 2) {
      const wName = inputs[1]!;
      const init = inits.get(wName);
      if (!init || keep.has(wName) || uses.get(wName) !== 1) continue;
      const w = readFloatInit(init.fields);
      if (!w || w.dims.length !== 2) continue;
      const [k, n] = w.dims as [number, number];
      const { q, scale } = quantizeSymmetric(w.data, k, n, perColumn ? 'column' : 'tensor', qmax);
      const qName = `${wName}_quantized`;
      const sName = `${wName}_scale`;
      added.push(tensorField(qName, [k, n], DT.INT8, int8Bytes(q)), tensorField(sName, perColumn ? [n] : [], DT.FLOAT, floatBytes(scale)));
      replace.set(init.index, []);
      report.int8Params += q.length;

      // Fold `Add(out, bias)` when the MatMul's output feeds only that Add and bias is a 1-D [n] initializer.
      let outName = outputs[0]!;
      let bias = '';
      const cons = consumersOf.get(outName) ?? [];
      if (cons.length === 1 && !graphOutputs.has(outName) && (uses.get(outName) ?? 0) === 1) {
        const add = nodes[cons[0]!];
        if (add && strings(add.fields, NODE.opType)[0] === 'Add' && !(strings(add.fields, NODE.domain)[0] ?? '')) {
          const addIn = strings(add.fields, NODE.input);
          const other = addIn[0] === outName ? addIn[1] : addIn[0];
          const b = other !== undefined ? inits.get(other) : undefined;
          const bf = b ? readFloatInit(b.fields) : undefined;
          if (bf && bf.dims.length === 1 && bf.dims[0] === n && addIn.length === 2) {
            bias = other!;
            outName = strings(add.fields, NODE.output)[0]!;
            replace.set(add.i, []);
          }
        }
      }
      if (activations === 'row') {
        const csName = `${wName}_colsum`;
        added.push(tensorField(csName, [n], DT.INT32, int32Bytes(columnSums(q, k, n))));
        replace.set(nd.i, rowQuantMatMul(rowConsts, name, inputs[0]!, qName, sName, csName, bias, outName, n, onnxOpset));
      } else {
        const dqInputs = bias ? [inputs[0]!, qName, sName, '', bias] : [inputs[0]!, qName, sName];
        replace.set(nd.i, [node('DynamicQuantizeMatMul', dqInputs, [outName], name, [], MS_DOMAIN)]);
      }
      report.matmuls.push({ weight: wName, dims: [k, n], biasFolded: !!bias });
      continue;
    }

    if (op === 'Gather' && embeddings && inputs.length === 2 && gatherAxis(nd.fields) === 0) {
      const tName = inputs[0]!;
      const init = inits.get(tName);
      if (!init || keep.has(tName) || uses.get(tName) !== 1) continue;
      const t = readFloatInit(init.fields);
      if (!t || t.dims.length !== 2 || t.dims[0]! < 64) continue;
      const [rows, cols] = t.dims as [number, number];
      const { q, scale } = quantizeSymmetric(t.data, rows, cols, 'row', 127);
      const qName = `${tName}_quantized`;
      const sName = `${tName}_row_scale`;
      added.push(tensorField(qName, [rows, cols], DT.INT8, int8Bytes(q)), tensorField(sName, [rows, 1], DT.FLOAT, floatBytes(scale)));
      replace.set(init.index, []);
      report.int8Params += q.length;
      const idx = inputs[1]!;
      const out = outputs[0]!;
      replace.set(nd.i, [
        node('Gather', [qName, idx], [`${out}_q`], `${name}_q`),
        node('Gather', [sName, idx], [`${out}_s`], `${name}_s`),
        node('Cast', [`${out}_q`], [`${out}_f`], `${name}_cast`, [msg(NODE.attribute, [str(ATTR.name, 'to'), int(ATTR.i, DT.FLOAT), int(ATTR.type, 2)])]),
        node('Mul', [`${out}_f`, `${out}_s`], [out], `${name}_dequant`),
      ]);
      report.gathers.push({ table: tName, dims: [rows, cols] });
    }
  }

  const newGraph: PbField[] = [];
  graph.forEach((f, i) => {
    const r = replace.get(i);
    if (r) newGraph.push(...r);
    else newGraph.push(f);
    // New initializers go right after the last original initializer (any place is valid).
  });
  newGraph.push(...added);
  if (rowConsts.used) newGraph.push(...rowConsts.initializers());

  const newModel = model.map((f, i) => (i === gIdx ? { n: MODEL.graph, w: 2 as const, v: pbWrite(newGraph) } : f));
  const hasMs = model.some((f) => f.n === MODEL.opsetImport && strings(pbParse(f.v as Uint8Array), 1)[0] === MS_DOMAIN);
  // The per-row rewrite and the int8 Gathers are standard ONNX; only DynamicQuantizeMatMul is a contrib op.
  if (!hasMs && activations === 'tensor' && report.matmuls.length > 0) newModel.push(msg(MODEL.opsetImport, [str(1, MS_DOMAIN), int(2, 1)]));
  const out = pbWrite(newModel);
  report.bytesOut = out.length;
  return { model: out, report };
}

// --- CLI: a full model directory ----------------------------------------------------------

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface ParityResult {
  inputs: number;
  maxAbsDiff: number;
  meanAbsDiff: number;
  argmaxAgree: number;
  argmaxAgreeRate: number;
}

/** fp32 vs quantized logits on the texts, one batch of 16 at a time (as the pool batches). */
export async function logitParity(fp32Dir: string, int8ModelPath: string, texts: readonly string[]): Promise<ParityResult> {
  const { readModelDir } = await import('../src/inference/modelDir.js');
  const { OnnxClassifierSession } = await import('../src/inference/onnxSession.js');
  const { GptTokenizer } = await import('../src/inference/tokenizer.js');
  const info = await readModelDir(fp32Dir);
  const padTokenId = info.padTokenId ?? 50256;
  const maxLength = Math.min(info.maxLength ?? 64, info.nPositions ?? 64);
  const tok = await GptTokenizer.fromDir(fp32Dir, { maxLength, padTokenId });
  const a = await OnnxClassifierSession.load(path.join(fp32Dir, 'model.onnx'), { padTokenId, intraOpNumThreads: 1 });
  const b = await OnnxClassifierSession.load(int8ModelPath, { padTokenId, intraOpNumThreads: 1 });
  const seqs = texts.map((t) => tok.encode(t)).filter((s) => s.length > 0);
  let maxAbs = 0;
  let sumAbs = 0;
  let nVals = 0;
  let agree = 0;
  try {
    for (let i = 0; i < seqs.length; i += 16) {
      const batch = seqs.slice(i, i + 16);
      const [ra, rb] = [await a.run(batch), await b.run(batch)];
      for (let r = 0; r < batch.length; r++) {
        const la = ra.logits[r]!;
        const lb = rb.logits[r]!;
        let am = 0;
        let bm = 0;
        for (let j = 0; j < la.length; j++) {
          const d = Math.abs(la[j]! - lb[j]!);
          maxAbs = Math.max(maxAbs, d);
          sumAbs += d;
          nVals++;
          if (la[j]! > la[am]!) am = j;
          if (lb[j]! > lb[bm]!) bm = j;
        }
        if (am === bm) agree++;
      }
    }
  } finally {
    await a.close();
    await b.close();
  }
  return { inputs: seqs.length, maxAbsDiff: maxAbs, meanAbsDiff: sumAbs / Math.max(1, nVals), argmaxAgree: agree, argmaxAgreeRate: agree / Math.max(1, seqs.length) };
}

function readJsonlTexts(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => (JSON.parse(l) as { text: string }).text);
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export interface QuantizeDirOptions extends QuantizeOptions {
  /** Texts for the fp32-vs-int8 logit parity written to the card; none: no parity. */
  parityTexts?: readonly string[];
  /** Where parityTexts came from, for the card. */
  parityTextsSource?: string;
  /** Recorded in the card. */
  command?: string;
}

export interface QuantizeDirResult {
  report: QuantizeReport;
  parity: ParityResult | undefined;
  card: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/**
 * Writes a full model directory to `outDir`: the quantized model.onnx, every other file of `inDir`
 * copied, model_card.json updated. `inDir` is only read.
 */
export async function quantizeDir(inDir: string, outDir: string, opts: QuantizeDirOptions = {}): Promise<QuantizeDirResult> {
  inDir = path.resolve(inDir);
  outDir = path.resolve(outDir);
  if (outDir === inDir) throw new Error('the output directory must differ from the input directory');
  const src = new Uint8Array(readFileSync(path.join(inDir, 'model.onnx')));
  const card = JSON.parse(readFileSync(path.join(inDir, 'model_card.json'), 'utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const t0 = Date.now();
  const { model, report } = quantizeModel(src, opts);
  mkdirSync(outDir, { recursive: true });
  for (const f of readdirSync(inDir)) {
    const p = path.join(inDir, f);
    if (f !== 'model.onnx' && f !== 'model_card.json' && statSync(p).isFile()) copyFileSync(p, path.join(outDir, f));
  }
  const modelPath = path.join(outDir, 'model.onnx');
  writeFileSync(modelPath, model);
  const seconds = (Date.now() - t0) / 1000;
  const parity = opts.parityTexts?.length ? await logitParity(inDir, modelPath, opts.parityTexts) : undefined;

  const mb = (n: number) => Math.round((n / 1e6) * 100) / 100;
  // A distinct name, so logs and traces (`nlu info`, the model line at load) say which variant runs.
  if (typeof card.name === 'string' && !card.name.endsWith('-int8')) card.name = `${card.name}-int8`;
  card.architecture = { ...(card.architecture ?? {}), weights_storage: 'int8' };
  const perRow = report.activations === 'row';
  const weights = `weights int8 symmetric, zero point 0, ${opts.perColumn === false ? 'per tensor' : 'per output column'}${opts.reduceRange === false ? ', full 8-bit range' : ', 7-bit range'}`;
  card.onnx = { ...(card.onnx ?? {}), bytes: model.length, opset_imports: perRow ? ['ai.onnx 17'] : ['ai.onnx 17', 'com.microsoft 1'] };
  card.quantization = {
    method:
      (perRow
        ? 'dynamic int8 (training/quantize.ts): MatMul with constant weights -> standard ONNX ops: activations uint8 ' +
          'asymmetric per ROW (per token) at run time (ReduceMin/ReduceMax, QuantizeLinear axis 0, MatMulInteger, ' +
          `zero-point correction in int32), so a row's logits do not depend on its batch or padding; ${weights}; bias Add folded in`
        : 'dynamic int8 (training/quantize.ts): MatMul with constant weights -> com.microsoft.DynamicQuantizeMatMul ' +
          `(activations uint8 asymmetric per tensor at run time: a row's logits depend on the other rows of its batch; ${weights}; following bias Add folded in)`) +
      (opts.embeddings === false ? '' : '; embedding Gathers on int8 tables with per-row scales'),
    activations: perRow ? 'per-row' : 'per-tensor',
    batch_independent: perRow,
    source: { dir: path.relative(ROOT, inDir), model_sha256: sha256(src), bytes: src.length },
    model_sha256: sha256(model),
    matmuls: report.matmuls.length,
    matmuls_bias_folded: report.matmuls.filter((m) => m.biasFolded).length,
    kept_float: [...(opts.keep ?? [])],
    gathers: report.gathers.map((g) => g.table),
    int8_params: report.int8Params,
    float_params_before: report.floatParamsBefore,
    parity_vs_fp32: parity
      ? {
          inputs: parity.inputs,
          texts: `${opts.parityTextsSource ?? 'given texts'}, batches of 16`,
          max_abs_logit_diff: parity.maxAbsDiff,
          mean_abs_logit_diff: parity.meanAbsDiff,
          argmax_agree: parity.argmaxAgree,
          argmax_agree_rate: parity.argmaxAgreeRate,
        }
      : null,
    metrics_note: "metrics, refit, hyperparameter_search and parity above are the fp32 source model's; int8 evals: docs/notes/quant.md",
    command: opts.command ?? null,
    date: new Date().toISOString(),
    seconds,
  };
  // The card's size block last, so model_card.json's own size is near final.
  const otherBytes = readdirSync(outDir)
    .filter((f) => f !== 'model_card.json')
    .reduce((s, f) => s + statSync(path.join(outDir, f)).size, 0);
  card.size = { ...(card.size ?? {}), model_onnx_mb: mb(model.length), model_dir_mb: mb(otherBytes + JSON.stringify(card, null, 2).length + 1) };
  writeFileSync(path.join(outDir, 'model_card.json'), JSON.stringify(card, null, 2) + '\n');
  const readme = path.join(outDir, 'README.md');
  if (existsSync(readme)) {
    const p = parity ? ` fp32 vs int8 on ${parity.inputs} inputs: argmax agrees on ${parity.argmaxAgree}, max |Δlogit| ${parity.maxAbsDiff.toFixed(3)}.` : '';
    writeFileSync(
      readme,
      `> **int8 variant** of \`${path.relative(ROOT, inDir)}\`, written by \`training/quantize.ts\`: ${card.quantization.method}. ` +
        `model.onnx ${mb(model.length)} MB (fp32 ${mb(src.length)} MB).${p} ` +
        (perRow ? 'Standard ONNX ops only (opset 17). ' : "Needs onnxruntime's CPU contrib ops (com.microsoft). ") +
        `Everything below describes the fp32 source model; its metrics are fp32 metrics.\n\n` +
        readFileSync(readme, 'utf8'),
    );
  }
  return { report, parity, card };
}

/** The MatMul weight initializer that feeds the logits: the graph's last MatMul (the classification head). */
export function headWeightName(modelBytes: Uint8Array): string | undefined {
  const g = pbParse(pbParse(modelBytes).find((f) => f.n === MODEL.graph)!.v as Uint8Array);
  const mm = g
    .filter((f) => f.n === GRAPH.node)
    .map((f) => pbParse(f.v as Uint8Array))
    .filter((nd) => strings(nd, NODE.opType)[0] === 'MatMul');
  const last = mm.at(-1);
  return last ? strings(last, NODE.input)[1] : undefined;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      in: { type: 'string', default: 'models/intent-gpt2' },
      out: { type: 'string' },
      activations: { type: 'string', default: 'row' },
      'per-tensor': { type: 'boolean', default: false },
      'full-range': { type: 'boolean', default: false },
      'no-embeddings': { type: 'boolean', default: false },
      'no-head': { type: 'boolean', default: false },
      'no-parity': { type: 'boolean', default: false },
    },
  });
  if (!values.out) throw new Error('--out DIR is required (e.g. training/runs/intent-gpt2-int8)');
  if (values.activations !== 'row' && values.activations !== 'tensor') throw new Error('--activations must be row or tensor');
  const inDir = path.resolve(values.in);
  const keep: string[] = [];
  if (values['no-head']) {
    const head = headWeightName(new Uint8Array(readFileSync(path.join(inDir, 'model.onnx'))));
    if (head) keep.push(head);
  }
  const splits = ['val', 'test'].map((s) => path.join(ROOT, 'training/splits', `${s}.jsonl`));
  const { report, parity, card } = await quantizeDir(inDir, values.out, {
    activations: values.activations,
    perColumn: !values['per-tensor'],
    reduceRange: !values['full-range'],
    embeddings: !values['no-embeddings'],
    keep,
    parityTexts: values['no-parity'] ? undefined : splits.flatMap(readJsonlTexts),
    parityTextsSource: 'training/splits/val.jsonl + test.jsonl',
    command: `npx tsx training/quantize.ts ${process.argv.slice(2).join(' ')}`,
  });
  console.log(
    JSON.stringify(
      {
        out: path.relative(ROOT, path.resolve(values.out)),
        bytes_in: report.bytesIn,
        bytes_out: report.bytesOut,
        activations: report.activations,
        matmuls: report.matmuls.length,
        bias_folded: card.quantization.matmuls_bias_folded,
        kept_float: keep,
        gathers: report.gathers,
        parity,
      },
      null,
      2,
    ),
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
