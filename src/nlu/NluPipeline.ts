import { performance } from 'node:perf_hooks';
import type { ProviderRequest } from '../inference/executionProvider.js';
import { readModelDir } from '../inference/modelDir.js';
import { OnnxClassifierSession, type LogitsRunner } from '../inference/onnxSession.js';
import { GptTokenizer } from '../inference/tokenizer.js';
import { currentTrace } from '../tracing/turnTrace.js';
import { EntityExtractor } from './entities/EntityExtractor.js';
import type { MasterData } from './entities/masterData.js';
import { IntentClassifier, type IntentDecision } from './intents/IntentClassifier.js';
import {
  OUT_OF_SCOPE,
  type Entity,
  type NluModelInfo,
  type NluResult,
  type NluThresholds,
  type Recognizer,
} from './types.js';

/** Used when neither the model card nor the configuration gives thresholds. */
export const DEFAULT_THRESHOLDS: NluThresholds = { confidence: 0.5, margin: 0.1 };
const GPT2_EOS = 50256;
/** Entities are looked for in the first this-many characters (a chat message rarely has more). */
const DEFAULT_MAX_ENTITY_CHARS = 4000;

export interface NluPipelineParts {
  tokenizer: GptTokenizer;
  runner: LogitsRunner;
  classifier: IntentClassifier;
  entities: EntityExtractor;
  info: NluModelInfo;
  maxEntityChars?: number;
}

export interface RecognizeBatchOptions {
  /** Rows per model call (default 32). Texts are grouped by token length to limit padding. */
  batchSize?: number;
}

/** Text → intent (+ out_of_scope rule) + entities. Stage timings go to the current turn trace. */
export class NluPipeline implements Recognizer {
  private readonly tokenizer: GptTokenizer;
  private readonly runner: LogitsRunner;
  private readonly classifier: IntentClassifier;
  private readonly entities: EntityExtractor;
  private readonly modelInfo: NluModelInfo;
  private readonly maxEntityChars: number;
  private closed = false;

  constructor(parts: NluPipelineParts) {
    this.tokenizer = parts.tokenizer;
    this.runner = parts.runner;
    this.classifier = parts.classifier;
    this.entities = parts.entities;
    this.modelInfo = parts.info;
    this.maxEntityChars = parts.maxEntityChars ?? DEFAULT_MAX_ENTITY_CHARS;
  }

  /** True until close(). `loadNlu` only resolves once the model has answered a warm-up call. */
  get ready(): boolean {
    return !this.closed;
  }

  info(): NluModelInfo {
    return { ...this.modelInfo, labels: [...this.modelInfo.labels], thresholds: { ...this.modelInfo.thresholds } };
  }

  setMasterData(data: MasterData): void {
    this.entities.setMasterData(data);
  }

  async recognize(text: string): Promise<NluResult> {
    if (this.closed) throw new Error('NLU pipeline is closed');
    const trace = currentTrace();
    const t0 = performance.now();
    const ids = this.tokenizer.encode(text);
    trace?.record('tokenize', performance.now() - t0);

    let decision: IntentDecision;
    if (text.trim() === '' || ids.length === 0) {
      decision = this.emptyDecision();
    } else {
      const out = await this.runner.run([ids]);
      trace?.record('inference', out.timings.padMs + out.timings.inferenceMs);
      decision = this.classifier.classify(out.logits[0]!);
    }
    const entities = this.extractEntities(text, trace);
    trace?.setIntent(decision.intent, decision.confidence);
    return this.result(text, decision, entities);
  }

  /** Many texts at once (evaluation, bulk classification); results in input order. */
  async recognizeBatch(texts: readonly string[], options: RecognizeBatchOptions = {}): Promise<NluResult[]> {
    if (this.closed) throw new Error('NLU pipeline is closed');
    const batchSize = Math.max(1, options.batchSize ?? 32);
    const trace = currentTrace();
    const t0 = performance.now();
    const encoded = texts.map((t) => (t.trim() === '' ? [] : this.tokenizer.encode(t)));
    trace?.record('tokenize', performance.now() - t0);

    const decisions = new Array<IntentDecision>(texts.length);
    const order = encoded
      .map((ids, i) => ({ ids, i }))
      .filter(({ ids, i }) => {
        if (ids.length > 0) return true;
        decisions[i] = this.emptyDecision();
        return false;
      })
      .sort((a, b) => a.ids.length - b.ids.length);
    for (let k = 0; k < order.length; k += batchSize) {
      const chunk = order.slice(k, k + batchSize);
      const out = await this.runner.run(chunk.map((c) => c.ids));
      trace?.record('inference', out.timings.padMs + out.timings.inferenceMs);
      chunk.forEach((c, j) => (decisions[c.i] = this.classifier.classify(out.logits[j]!)));
    }
    return texts.map((text, i) => this.result(text, decisions[i]!, this.extractEntities(text, trace)));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.runner.close();
  }

  private extractEntities(text: string, trace: ReturnType<typeof currentTrace>): Entity[] {
    const t0 = performance.now();
    const entities = this.entities.extract(text.length > this.maxEntityChars ? text.slice(0, this.maxEntityChars) : text);
    trace?.record('entities', performance.now() - t0);
    // Spans index the original text: a prefix has the same offsets.
    return entities.map((e) => ({ ...e, text: text.slice(e.start, e.end) }));
  }

  /** An empty message has nothing to classify: out_of_scope, without asking the model. */
  private emptyDecision(): IntentDecision {
    const oos = this.classifier.outOfScopeLabel;
    const ranking = [oos, ...this.classifier.labels.filter((l) => l !== oos)].map((intent) => ({
      intent,
      confidence: intent === oos ? 1 : 0,
    }));
    return { intent: oos, confidence: 1, ranking, fallback: { reason: 'empty_input', intent: oos, confidence: 1 } };
  }

  private result(text: string, d: IntentDecision, entities: Entity[]): NluResult {
    const r: NluResult = { text, intent: d.intent, confidence: d.confidence, ranking: d.ranking, entities };
    if (d.fallback) r.fallback = d.fallback;
    return r;
  }
}

export interface LoadNluOptions {
  provider?: ProviderRequest;
  /** Override the model card's thresholds (e.g. from NLU_CONFIDENCE_THRESHOLD / NLU_MARGIN). */
  confidenceThreshold?: number;
  margin?: number;
  /** Override the sequence window (never above the model's n_positions). */
  maxLength?: number;
  masterData?: MasterData;
  /** Reference time for relative dates; default now. */
  now?: () => Date;
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
  cudaInstalled?: boolean;
  /** Run one dummy inference before resolving (checks label count, pays first-run cost); default true. */
  warmup?: boolean;
  /** Use this instead of creating an ONNX session (tests, or a batching pool wrapping sessions). */
  runner?: LogitsRunner;
}

/** Loads model dir → ready pipeline. Throws with a clear message when a file is missing or inconsistent. */
export async function loadNlu(modelDir: string, options: LoadNluOptions = {}): Promise<NluPipeline> {
  const dir = await readModelDir(modelDir);
  const padTokenId = dir.padTokenId ?? GPT2_EOS;
  const limit = dir.nPositions ?? Number.POSITIVE_INFINITY;
  const wanted = options.maxLength ?? dir.maxLength ?? dir.nPositions ?? 128;
  const maxLength = Math.min(wanted, limit);
  const thresholds: NluThresholds = {
    confidence: options.confidenceThreshold ?? dir.thresholds.confidence ?? DEFAULT_THRESHOLDS.confidence,
    margin: options.margin ?? dir.thresholds.margin ?? DEFAULT_THRESHOLDS.margin,
  };
  if (!dir.labels.includes(OUT_OF_SCOPE)) {
    throw new Error(`${dir.dir}/labels.json has no "${OUT_OF_SCOPE}" label; the out_of_scope rule needs one`);
  }
  const tokenizer = await GptTokenizer.fromDir(dir.dir, { maxLength, padTokenId });
  const classifier = new IntentClassifier(dir.labels, thresholds);
  const runner =
    options.runner ??
    (await OnnxClassifierSession.load(dir.modelPath, {
      provider: options.provider ?? 'cpu',
      padTokenId,
      intraOpNumThreads: options.intraOpNumThreads,
      interOpNumThreads: options.interOpNumThreads,
      cudaInstalled: options.cudaInstalled,
    }));
  try {
    if (options.warmup !== false) {
      const out = await runner.run([tokenizer.encode('hello')]);
      if (out.numLabels !== dir.labels.length) {
        throw new Error(
          `${dir.modelPath} outputs ${out.numLabels} logits but labels.json has ${dir.labels.length} labels`,
        );
      }
    }
  } catch (err) {
    await runner.close();
    throw err;
  }
  const entities = new EntityExtractor({ masterData: options.masterData, now: options.now });
  // chrono-node and the id/quantity patterns compile lazily: the first two extractions took
  // ~90 and ~170 ms (measured), paid by the first users' turns unless they are paid here.
  if (options.warmup !== false) {
    entities.extract('order 500 units of SKU-1042 from Acme by next Friday for $1,200 (PO-10452, SH-2001)');
    entities.extract('hello there');
  }
  return new NluPipeline({
    tokenizer,
    runner,
    classifier,
    entities,
    info: {
      name: dir.name,
      modelDir: dir.dir,
      labels: dir.labels,
      provider: runner.provider,
      thresholds,
      maxLength,
      padTokenId,
      card: dir.card,
    },
  });
}
