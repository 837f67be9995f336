#!/usr/bin/env node
// Parity check: run the exported model with onnxruntime-node on the inputs a training run
// saved (parity_reference.json: texts, ids, PyTorch logits of each input alone), both one
// at a time and right-padded in mixed-length batches, and compare with PyTorch.
//
//   node training/parity.mjs MODEL_DIR parity_reference.json [--tol 1e-4]
//
// Prints a JSON summary as the last line; exit code 1 if max |diff| > tol, an argmax
// differs, or the model dir's tokenizer.json gives other ids than the training run used.
import fs from "node:fs";
import path from "node:path";
import ort from "onnxruntime-node";
import { loadTokenizer } from "./tokenize.mjs";

const args = process.argv.slice(2);
const [modelDir, refPath] = args;
const tolIdx = args.indexOf("--tol");
const tol = tolIdx >= 0 ? Number(args[tolIdx + 1]) : 1e-4;
if (!modelDir || !refPath) {
  console.error("usage: node training/parity.mjs MODEL_DIR parity_reference.json [--tol 1e-4]");
  process.exit(2);
}
const ref = JSON.parse(fs.readFileSync(refPath, "utf8"));
const card = JSON.parse(fs.readFileSync(path.join(modelDir, "model_card.json"), "utf8"));
const labels = JSON.parse(fs.readFileSync(path.join(modelDir, "labels.json"), "utf8"));
const pad = card.pad_token_id;
const maxLen = card.architecture.max_length;

// 1. tokenization with the model dir's tokenizer.json equals what training used
const tok = loadTokenizer(path.join(modelDir, "tokenizer.json"));
let tokMismatch = 0;
ref.texts.forEach((t, i) => {
  const ids = tok.encode(t, { add_special_tokens: false }).ids.slice(0, maxLen);
  if (ids.length !== ref.ids[i].length || ids.some((x, j) => x !== ref.ids[i][j])) tokMismatch++;
});

const session = await ort.InferenceSession.create(path.join(modelDir, "model.onnx"), {
  intraOpNumThreads: 2,
  interOpNumThreads: 1,
});

async function run(seqs) {
  const T = Math.max(...seqs.map((s) => Math.max(1, s.length)));
  const ids = new BigInt64Array(seqs.length * T).fill(BigInt(pad));
  const am = new BigInt64Array(seqs.length * T);
  seqs.forEach((s, r) => {
    s.forEach((x, j) => {
      ids[r * T + j] = BigInt(x);
      am[r * T + j] = 1n;
    });
    if (s.length === 0) am[r * T] = 1n;
  });
  const out = await session.run({
    input_ids: new ort.Tensor("int64", ids, [seqs.length, T]),
    attention_mask: new ort.Tensor("int64", am, [seqs.length, T]),
  });
  const l = out.logits;
  if (l.dims.length !== 2 || l.dims[0] !== seqs.length || l.dims[1] !== labels.length) {
    throw new Error(`bad logits shape ${l.dims}`);
  }
  return Array.from({ length: seqs.length }, (_, r) => Array.from(l.data.slice(r * labels.length, (r + 1) * labels.length)));
}

const argmax = (v) => v.reduce((b, x, i) => (x > v[b] ? i : b), 0);
let maxSingle = 0, maxBatched = 0, argmaxBad = 0;
const n = ref.ids.length;
for (let i = 0; i < n; i++) {
  const [lg] = await run([ref.ids[i]]);
  lg.forEach((x, k) => (maxSingle = Math.max(maxSingle, Math.abs(x - ref.logits[i][k]))));
  if (argmax(lg) !== argmax(ref.logits[i])) argmaxBad++;
}
// mixed-length batches of varying size (1..32), right-padded
let i = 0, bs = 1;
while (i < n) {
  const idx = Array.from({ length: Math.min(bs, n - i) }, (_, k) => i + k);
  const out = await run(idx.map((j) => ref.ids[j]));
  idx.forEach((j, r) => {
    out[r].forEach((x, k) => (maxBatched = Math.max(maxBatched, Math.abs(x - ref.logits[j][k]))));
    if (argmax(out[r]) !== argmax(ref.logits[j])) argmaxBad++;
  });
  i += idx.length;
  bs = (bs % 32) + 7;
}
const ok = maxSingle <= tol && maxBatched <= tol && argmaxBad === 0 && tokMismatch === 0;
const summary = {
  ok,
  inputs: n,
  max_abs_diff_single: maxSingle,
  max_abs_diff_batched: maxBatched,
  argmax_agree: argmaxBad === 0,
  argmax_disagreements: argmaxBad,
  tokenization_agree: tokMismatch === 0,
  tokenization_mismatches: tokMismatch,
  tolerance: tol,
};
console.log(`parity: ${n} inputs, max |diff| single ${maxSingle.toExponential(2)}, batched ${maxBatched.toExponential(2)}, ` +
  `argmax disagreements ${argmaxBad}, tokenization mismatches ${tokMismatch} -> ${ok ? "OK" : "FAIL"}`);
console.log(JSON.stringify(summary));
process.exit(ok ? 0 : 1);
