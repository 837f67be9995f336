/**
 * The machine's compute ceiling for this workload: ONNX Runtime's own float32 MatMul rate, on an
 * ONNX graph built in memory (no Python, no files): a chain of `depth` [K×K] MatMuls applied to
 * an [M×K] input. FLOPs per run = depth · 2·M·K·K.
 */
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';

// --- a minimal protobuf writer (just what ModelProto needs) ---------------------------------

class Pb {
  private readonly parts: Uint8Array[] = [];

  private varint(n: number | bigint): void {
    let v = BigInt(n);
    const out: number[] = [];
    do {
      let b = Number(v & 0x7fn);
      v >>= 7n;
      if (v > 0n) b |= 0x80;
      out.push(b);
    } while (v > 0n);
    this.parts.push(Uint8Array.from(out));
  }

  int(field: number, value: number): this {
    this.varint((field << 3) | 0);
    this.varint(value);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.varint((field << 3) | 2);
    this.varint(value.length);
    this.parts.push(value);
    return this;
  }

  str(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  msg(field: number, value: Pb): this {
    return this.bytes(field, value.finish());
  }

  finish(): Uint8Array {
    const len = this.parts.reduce((n, p) => n + p.length, 0);
    const out = new Uint8Array(len);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

const FLOAT = 1;

function valueInfo(name: string, dims: (number | string)[]): Pb {
  const shape = new Pb();
  for (const d of dims) shape.msg(1, typeof d === 'number' ? new Pb().int(1, d) : new Pb().str(2, d));
  const tensorType = new Pb().int(1, FLOAT).msg(2, shape);
  return new Pb().str(1, name).msg(2, new Pb().msg(1, tensorType));
}

/** ModelProto bytes: Y = X · W1 · W2 · … · Wdepth, X [M(dynamic)×K], Wi [K×K] random. */
export function matmulChainModel(k: number, depth: number): Uint8Array {
  const graph = new Pb();
  let prev = 'X';
  for (let i = 0; i < depth; i++) {
    const out = i === depth - 1 ? 'Y' : `H${i}`;
    graph.msg(1, new Pb().str(1, prev).str(1, `W${i}`).str(2, out).str(3, `mm${i}`).str(4, 'MatMul'));
    prev = out;
  }
  graph.str(2, 'matmul_chain');
  for (let i = 0; i < depth; i++) {
    const w = new Float32Array(k * k);
    // Scaled so activations stay O(1) through the chain (no denormals, no overflow).
    const s = 1 / Math.sqrt(k);
    for (let j = 0; j < w.length; j++) w[j] = (Math.random() * 2 - 1) * s * 1.7;
    graph.msg(5, new Pb().int(1, k).int(1, k).int(2, FLOAT).str(8, `W${i}`).bytes(9, new Uint8Array(w.buffer)));
  }
  graph.msg(11, valueInfo('X', ['M', k]));
  graph.msg(12, valueInfo('Y', ['M', k]));
  return new Pb().int(1, 8).msg(7, graph).msg(8, new Pb().str(1, '').int(2, 17)).str(2, 'rpa-assistant-bench').finish();
}

export interface MatmulRate {
  m: number;
  k: number;
  depth: number;
  threads: number;
  gflops: number;
  msPerRun: number;
}

/** Measures GFLOP/s of the chain on ORT CPU with `threads` intra-op threads (best of several runs). */
export async function measureMatmul(m: number, k: number, depth: number, threads: number, seconds = 1): Promise<MatmulRate> {
  const session = await ort.InferenceSession.create(matmulChainModel(k, depth), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  });
  const x = new Float32Array(m * k);
  for (let i = 0; i < x.length; i++) x[i] = Math.random() * 2 - 1;
  const feeds = { X: new ort.Tensor('float32', x, [m, k]) };
  for (let i = 0; i < 3; i++) await session.run(feeds);
  const times: number[] = [];
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000 || times.length < 5) {
    const t = performance.now();
    await session.run(feeds);
    times.push(performance.now() - t);
  }
  await session.release();
  times.sort((a, b) => a - b);
  // The median run: a robust rate on a machine shared with other work.
  const ms = times[Math.floor(times.length / 2)]!;
  const flops = depth * 2 * m * k * k;
  return { m, k, depth, threads, msPerRun: ms, gflops: flops / (ms / 1000) / 1e9 };
}
