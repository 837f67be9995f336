/**
 * Smoke test of the Python training pipeline (training/train.py via `npm run train -- --smoke`):
 * tiny config, a few steps, ONNX export, parity check. Needs /usr/bin/python3 with torch + numpy
 * (Debian python3-torch python3-numpy). Without torch the test is skipped locally but fails in CI.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
const python = process.env.PYTHON ?? '/usr/bin/python3';
const hasTorch = spawnSync(python, ['-c', 'import torch, numpy'], { stdio: 'ignore' }).status === 0;
if (!hasTorch && !process.env.CI) {
  console.warn(`training smoke test skipped: ${python} cannot import torch (apt-get install python3-torch python3-numpy)`);
}

describe.skipIf(!hasTorch && !process.env.CI)('training pipeline (--smoke)', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'train-smoke-'));
  const out = path.join(tmp, 'model');
  const runDir = path.join(tmp, 'run');
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('python unit tests (HF checkpoint loading, safetensors, masking)', async () => {
    const { stderr } = await run(python, ['-m', 'unittest', 'discover', '-s', 'training', '-p', 'test_*.py'], {
      cwd: root,
      timeout: 60_000,
    });
    expect(stderr).toMatch(/OK/);
  }, 60_000);

  it('trains, refits a 2-member fp16 ensemble, exports and verifies it in onnxruntime-node', async () => {
    const { stdout } = await run('npm', ['run', 'train', '--', '--smoke', '--members', '2', '--out', out, '--run-dir', runDir], {
      cwd: root,
      env: { ...process.env, PYTHON: python },
      timeout: 170_000,
      maxBuffer: 32 * 1024 * 1024,
    });
    expect(stdout).toMatch(/parity: .* -> OK/);

    for (const f of ['model.onnx', 'tokenizer.json', 'labels.json', 'model_card.json', 'README.md']) {
      expect(existsSync(path.join(out, f)), f).toBe(true);
    }
    const labels = JSON.parse(readFileSync(path.join(out, 'labels.json'), 'utf8')) as string[];
    expect(labels).toHaveLength(16);
    expect(labels).toContain('out_of_scope');
    const card = JSON.parse(readFileSync(path.join(out, 'model_card.json'), 'utf8'));
    expect(card.thresholds.confidence).toBeGreaterThanOrEqual(0);
    expect(card.thresholds.confidence).toBeLessThanOrEqual(1);
    expect(card.thresholds.margin).toBeGreaterThanOrEqual(0);
    expect(card.thresholds.margin).toBeLessThanOrEqual(1);
    expect(card.pad_token_id).toBe(50256);
    expect(card.architecture.max_length).toBeGreaterThan(0);
    expect(card.parity.ok).toBe(true);
    // Selection on validation, then (--members 2) two refits on train+val averaged in one graph
    // whose weights are stored as fp16 (the file is smaller than 4 bytes per parameter).
    expect(card.refit.members).toBe(2);
    expect(card.refit.epochs).toBeGreaterThan(0);
    expect(card.refit.source_lines.val).toBeGreaterThan(0);
    expect(card.architecture.ensemble_members).toBe(2);
    expect(card.architecture.weights_storage).toMatch(/fp16/);
    const onnxBytes = statSync(path.join(out, 'model.onnx')).size;
    expect(onnxBytes).toBeLessThan(card.architecture.parameters * 4);
    expect(onnxBytes).toBeGreaterThan(card.architecture.parameters * 2);

    // The exported model in Node: right-padded batch -> [batch, labels] logits whose argmax
    // agrees with the PyTorch logits the run saved.
    const ref = JSON.parse(readFileSync(path.join(runDir, 'parity_reference.json'), 'utf8')) as {
      ids: number[][];
      logits: number[][];
    };
    const n = Math.min(24, ref.ids.length);
    const seqs = ref.ids.slice(0, n);
    const T = Math.max(...seqs.map((s) => s.length));
    const ids = new BigInt64Array(n * T).fill(50256n);
    const mask = new BigInt64Array(n * T);
    seqs.forEach((s, r) =>
      s.forEach((x, j) => {
        ids[r * T + j] = BigInt(x);
        mask[r * T + j] = 1n;
      }),
    );
    const session = await ort.InferenceSession.create(path.join(out, 'model.onnx'));
    const res = await session.run({
      input_ids: new ort.Tensor('int64', ids, [n, T]),
      attention_mask: new ort.Tensor('int64', mask, [n, T]),
    });
    const logits = res.logits!;
    expect(logits.dims).toEqual([n, labels.length]);
    const data = logits.data as Float32Array;
    const argmax = (v: ArrayLike<number>) => Array.from(v).reduce((b, x, i, a) => (x > a[b]! ? i : b), 0);
    for (let r = 0; r < n; r++) {
      const row = data.slice(r * labels.length, (r + 1) * labels.length);
      expect(argmax(row)).toBe(argmax(ref.logits[r]!));
      ref.logits[r]!.forEach((x, k) => expect(Math.abs(row[k]! - x)).toBeLessThan(1e-4));
    }
    await session.release();
  }, 180_000);
});
