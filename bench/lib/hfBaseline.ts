/**
 * Baseline B: the @huggingface/transformers (transformers.js) text-classification pipeline on the
 * same model.onnx, fully offline (env.allowRemoteModels = false, a local model directory).
 *
 * transformers.js has no GPT2ForSequenceClassification: `pipeline('text-classification')` with
 * config.json `model_type: "gpt2"` fails with "Unsupported model type: gpt2". Our exported graph
 * already contains the classification head and takes only input_ids + attention_mask, so the
 * directory's config.json declares the generic encoder-classifier type ("bert"): the pipeline
 * then runs the session with exactly the inputs the graph declares and reads `logits`, with its
 * own tokenizer (the same tokenizer.json) and softmax. The bench checks that its predictions agree
 * with ours before timing it.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface HfClassifier {
  classify(text: string): Promise<{ label: string; score: number }>;
  dispose(): Promise<void>;
  /** What was done to make it load (for the report). */
  note: string;
}

export async function loadHfClassifier(modelDir: string, maxLength: number, labels: string[]): Promise<HfClassifier> {
  const { env, pipeline } = await import('@huggingface/transformers');
  const root = mkdtempSync(path.join(tmpdir(), 'rpa-hf-'));
  const dir = path.join(root, 'intent');
  mkdirSync(path.join(dir, 'onnx'), { recursive: true });
  symlinkSync(path.resolve(modelDir, 'model.onnx'), path.join(dir, 'onnx', 'model.onnx'));
  copyFileSync(path.join(modelDir, 'tokenizer.json'), path.join(dir, 'tokenizer.json'));
  const id2label = Object.fromEntries(labels.map((l, i) => [String(i), l]));
  const label2id = Object.fromEntries(labels.map((l, i) => [l, i]));
  const config = { model_type: 'gpt2', architectures: ['GPT2ForSequenceClassification'], id2label, label2id, pad_token_id: 50256 };
  writeFileSync(
    path.join(dir, 'tokenizer_config.json'),
    JSON.stringify({ tokenizer_class: 'GPT2Tokenizer', model_max_length: maxLength, pad_token: '<|endoftext|>', add_prefix_space: false }),
  );
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = root;
  env.useFSCache = false;
  const open = async () => pipeline('text-classification', 'intent', { dtype: 'fp32', device: 'cpu' });
  let note: string;
  let clf: Awaited<ReturnType<typeof open>>;
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  try {
    clf = await open();
    note = 'loaded as model_type gpt2';
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...config, model_type: 'bert', architectures: ['BertForSequenceClassification'] }));
    clf = await open();
    note = `model_type "gpt2" refused (${reason}); loaded with config.json model_type "bert" (the graph already holds the head)`;
  }
  return {
    note,
    async classify(text) {
      const out = (await clf(text)) as { label: string; score: number }[] | { label: string; score: number };
      const top = Array.isArray(out) ? out[0] : out;
      if (!top) throw new Error('no output');
      return top;
    },
    async dispose() {
      await clf.dispose();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export function readLabels(modelDir: string): string[] {
  return JSON.parse(readFileSync(path.join(modelDir, 'labels.json'), 'utf8')) as string[];
}
