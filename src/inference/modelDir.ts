import { readFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * What the NLU needs from a model directory (written by the training pipeline):
 * model.onnx, tokenizer.json, labels.json, model_card.json. The card is read defensively: keys are
 * looked up at the top level and in nested objects, since its layout may evolve.
 */
export interface ModelDirInfo {
  dir: string;
  modelPath: string;
  name: string;
  labels: string[];
  /** Training sequence length (`max_length`), if the card says. */
  maxLength?: number;
  /** Positional-embedding size: a hard limit, longer inputs would index past the table. */
  nPositions?: number;
  padTokenId?: number;
  thresholds: { confidence?: number; margin?: number };
  card?: Record<string, unknown>;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** First value under `key` found breadth-first in `obj` (top level wins over nested). */
export function findKey(obj: unknown, key: string, maxDepth = 4): unknown {
  let level: Json[] = isObject(obj) ? [obj] : [];
  for (let depth = 0; depth <= maxDepth && level.length > 0; depth++) {
    for (const o of level) if (key in o && o[key] !== undefined && o[key] !== null) return o[key];
    level = level.flatMap((o) => Object.values(o).filter(isObject));
  }
  return undefined;
}

const positiveInt = (v: unknown): number | undefined => (Number.isInteger(v) && (v as number) > 0 ? (v as number) : undefined);
const nonNegInt = (v: unknown): number | undefined => (Number.isInteger(v) && (v as number) >= 0 ? (v as number) : undefined);
const unit = (v: unknown): number | undefined => (typeof v === 'number' && v >= 0 && v <= 1 ? v : undefined);

async function readJson(file: string, required: boolean): Promise<unknown> {
  let raw: string;
  try {
    raw = await readFile(file, 'utf8');
  } catch (err) {
    if (!required && (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`Cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return JSON.parse(raw) as unknown;
  } catch (err) {
    throw new Error(`${file} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

/** labels.json: an array of strings; also accepts {labels: [...]} or {id2label: {"0": ...}}. */
export function parseLabels(json: unknown, file = 'labels.json'): string[] {
  let labels: unknown = json;
  if (isObject(json)) {
    if (Array.isArray(json.labels)) labels = json.labels;
    else if (isObject(json.id2label)) {
      const entries = Object.entries(json.id2label).sort((a, b) => Number(a[0]) - Number(b[0]));
      labels = entries.map(([, v]) => v);
    }
  }
  if (!Array.isArray(labels) || labels.length < 2 || !labels.every((l) => typeof l === 'string' && l.length > 0)) {
    throw new Error(`${file}: expected an array of at least two label strings`);
  }
  if (new Set(labels).size !== labels.length) throw new Error(`${file}: duplicate labels`);
  return labels as string[];
}

export async function readModelDir(dir: string): Promise<ModelDirInfo> {
  const labels = parseLabels(await readJson(path.join(dir, 'labels.json'), true), path.join(dir, 'labels.json'));
  const cardJson = await readJson(path.join(dir, 'model_card.json'), false);
  const card = isObject(cardJson) ? cardJson : undefined;
  const thresholdsObj = findKey(card, 'thresholds');
  const thr = isObject(thresholdsObj) ? thresholdsObj : {};
  const name = card?.name ?? card?.model_name;
  return {
    dir,
    modelPath: path.join(dir, 'model.onnx'),
    name: typeof name === 'string' && name ? name : path.basename(path.resolve(dir)),
    labels,
    maxLength: positiveInt(findKey(card, 'max_length')) ?? positiveInt(findKey(card, 'max_seq_length')),
    nPositions: positiveInt(findKey(card, 'n_positions')) ?? positiveInt(findKey(card, 'max_position_embeddings')),
    padTokenId: nonNegInt(findKey(card, 'pad_token_id')),
    thresholds: {
      confidence: unit(thr.confidence) ?? unit(findKey(card, 'confidence_threshold')),
      margin: unit(thr.margin) ?? unit(findKey(card, 'margin')),
    },
    card,
  };
}
