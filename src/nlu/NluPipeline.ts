import { performance } from 'node:perf_hooks';
import type { ProviderRequest } from '../inference/executionProvider.js';
import { readModelDir } from '../inference/modelDir.js';
import { OnnxClassifierSession, type LogitsRunner } from '../inference/onnxSession.js';
import { GptTokenizer } from '../inference/tokenizer.js';
import { currentTrace } from '../tracing/turnTrace.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EntityExtractor } from './entities/EntityExtractor.js';
import { stripChatNoise } from './guards/chatNoise.js';
import { splitClauses } from './guards/clauses.js';
import { detectLanguage, isMixedLanguage } from './guards/language.js';
import { correctSpelling, withoutNames, type Corrected } from './guards/spelling.js';
import { paraphraseForModel } from './guards/questions.js';
import { acceptsReplacement, acceptsReread, guardWrite, type GuardOptions, type WriteThresholds } from './guards/writeGuard.js';
import { bareIdEdits, normalizeCasing, quantityEdits, rewriteSpans, type CasingMode } from './normalize.js';
import type { MasterData } from './entities/masterData.js';
import { IntentClassifier, type IntentDecision } from './intents/IntentClassifier.js';
import {
  NON_ENGLISH,
  OUT_OF_SCOPE,
  type Entity,
  type NluModelInfo,
  type NluResult,
  type NluThresholds,
  type Recognizer,
  WRITE_INTENTS,
} from './types.js';

/** Used when neither the model card nor the configuration gives thresholds. */
export const DEFAULT_THRESHOLDS: NluThresholds = { confidence: 0.5, margin: 0.1 };
const GPT2_EOS = 50256;
/** A sentence's read replaces an unsure whole message only at this confidence (the model's confident reads are ≥ 0.8). */
const CLAUSE_MIN_CONFIDENCE = 0.75;
/** nlu7: a clause that says what is not wanted or not known ("I don't care about WH-A", "not sure if…", "no need to…"). */
const NEGATED_ASIDE = /\b(?:not|no|never|nobody|nothing|don'?t|dont|doesn'?t|didn'?t|won'?t|can'?t|isn'?t|aren'?t)\b/i;
/** A sentence that is only a greeting or thanks says nothing about the request beside it. */
const SMALL_TALK = new Set(['assistant.greet', 'assistant.thanks']);
/** Entities are looked for in the first this-many characters (a chat message rarely has more). */
const DEFAULT_MAX_ENTITY_CHARS = 4000;

/**
 * What runs around the model without retraining it (each measured, docs/notes/nlu.md). `plain`
 * turns all of them off: the model and its global out_of_scope rule only.
 */
export interface RuntimeGuards {
  /** Casing normalisation of the model's input; entities always read the original text. */
  casing: CasingMode;
  /** Quantities' digits replaced by one number per length in the model's input ("301 units" → "100 units"). */
  numbers?: boolean;
  /** Ids typed as a bare number ("status of order 1119", "shipment 2003") get their prefix in the model's input ("order PO-1119"). */
  ids?: boolean;
  /** Words the model never learned for things it knows ("HS subheading", "got through customs") and goods' purpose ("for the Monday job") rewritten in its input (guards/questions.ts). */
  paraphrases?: boolean;
  /** One-typo spelling fixes of our domain and cue words in the model's input (guards/spelling.ts). */
  spelling?: boolean;
  /** Salutations, sign-offs, emoji and line breaks left out of the model's input (guards/chatNoise.ts). */
  chatNoise?: boolean;
  /** An unsure message is re-read sentence by sentence; a confident read of one is used (guards/clauses.ts). */
  clauses?: boolean;
  /** Non-English messages → `assistant.non_english` (the bot says only English is understood). */
  language: boolean;
  /** Negation, rejection, other-department and per-intent threshold rules on write intents; false = off. */
  write: GuardOptions | false;
}

export const PLAIN_GUARDS: RuntimeGuards = { casing: 'none', language: false, write: false };
export const DEFAULT_GUARDS: RuntimeGuards = { casing: 'lower', numbers: true, ids: true, paraphrases: true, chatNoise: true, clauses: true, spelling: true, language: true, write: {} };

export interface NluPipelineParts {
  tokenizer: GptTokenizer;
  runner: LogitsRunner;
  classifier: IntentClassifier;
  entities: EntityExtractor;
  info: NluModelInfo;
  maxEntityChars?: number;
  guards?: RuntimeGuards;
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
  private readonly guards: RuntimeGuards;
  private closed = false;

  constructor(parts: NluPipelineParts) {
    this.tokenizer = parts.tokenizer;
    this.runner = parts.runner;
    this.classifier = parts.classifier;
    this.entities = parts.entities;
    this.modelInfo = parts.info;
    this.maxEntityChars = parts.maxEntityChars ?? DEFAULT_MAX_ENTITY_CHARS;
    this.guards = parts.guards ?? PLAIN_GUARDS;
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
    const [r] = await this.recognizeBatch([text], { batchSize: 1 });
    return r!;
  }

  /** Many texts at once (evaluation, bulk classification); results in input order. */
  async recognizeBatch(texts: readonly string[], options: RecognizeBatchOptions = {}): Promise<NluResult[]> {
    if (this.closed) throw new Error('NLU pipeline is closed');
    const trace = currentTrace();
    const languages = texts.map((t) => (this.guards.language && t.trim() !== '' ? detectLanguage(t) : undefined));
    const foreign = languages.map((v) => v !== undefined && !v.english);
    // One spelling pass per message, shared by the entities, the model's input and the write guard's cues.
    const spelled = texts.map((t, i) => (foreign[i] ? undefined : this.spellingOf(t)));
    const found = texts.map((t, i) => this.extractEntities(t, trace, this.guards.spelling ? spelled[i] : undefined));
    const decisions = await this.classifyTexts(
      texts.map((t, i) => (foreign[i] ? '' : this.modelInput(t, found[i]!, spelled[i]))),
      options,
    );
    const fromClauses = this.guards.clauses ? await this.clauseReads(texts, decisions, foreign) : [];
    const results: NluResult[] = [];
    for (let i = 0; i < texts.length; i++) {
      const text = texts[i]!;
      let decision = foreign[i] ? this.nonEnglishDecision() : (fromClauses[i] ?? decisions[i]!);
      let entities = found[i]!;
      if (!foreign[i] && this.guards.write) {
        const guarded = guardWrite(text, decision, entities, this.guards.write, this.classifier.outOfScopeLabel, spelled[i]);
        decision = guarded.decision;
        entities = [...entities, ...guarded.entities].sort((a, b) => a.start - b.start);
        const from = guarded.correctedFrom;
        if (from !== undefined) {
          // "don't cancel PO-1131, cancel PO-1132 instead": PO-1131 is the one ruled out.
          const named = new Set(entities.filter((e) => e.start >= from).map((e) => e.type));
          entities = entities.filter((e) => e.start >= from || !named.has(e.type) || e.type === 'decision');
        }
        const rest = guarded.reclassify;
        const replacement = guarded.replacement;
        if (replacement) {
          // "don't order from Acme this time, get 200 SKU-1003 from Northwind instead": the replacement
          // clause's order, with that clause's entities only (not the supplier that was ruled out).
          const at = text.lastIndexOf(replacement);
          const own = this.extractEntities(replacement, trace);
          const [again] = await this.classifyTexts([this.modelInput(replacement, own)], {});
          if (at >= 0 && again && acceptsReplacement(replacement, again, own, this.guards.write, this.classifier.outOfScopeLabel)) {
            decision = { ...again, fallback: { reason: 'replacement', intent: decision.fallback!.intent, confidence: decision.fallback!.confidence } };
            entities = [
              ...entities.filter((e) => (e.type === 'date' || e.type === 'warehouse') && (e.end <= at || e.start >= at + replacement.length)),
              ...own.map((e) => ({ ...e, start: e.start + at, end: e.end + at })),
            ].sort((a, b) => a.start - b.start);
          }
        } else if (rest) {
          // "don't cancel PO-1145, just tell me where it is": answer the rest if it is a read. nlu7: the message
          // without the negated phrase first, then the "just …" part alone; the first read accepted is used.
          const tries = [rest, ...(guarded.reclassifyRest && guarded.reclassifyRest !== rest ? [guarded.reclassifyRest] : [])];
          const agains = await this.classifyTexts(tries.map((t) => this.modelInput(t, this.extractEntities(t, trace))), {});
          const write = this.guards.write;
          const again = agains.find((a) => acceptsReread(text, a.intent, this.classifier.outOfScopeLabel, write, spelled[i]));
          if (again) {
            const was = decision.fallback ?? { reason: 'negated_write' as const, intent: decision.intent, confidence: decision.confidence };
            decision = { ...again, fallback: { reason: 'negated_write', intent: was.intent, confidence: was.confidence } };
          }
        }
      }
      // Never a write from a message partly in another language: the English-only answer instead.
      if (languages[i] && WRITE_INTENTS.includes(decision.intent) && isMixedLanguage(text)) decision = this.nonEnglishDecision();
      if (texts.length === 1) trace?.setIntent(decision.intent, decision.confidence);
      results.push(this.result(text, decision, entities));
    }
    return results;
  }

  /**
   * For each message the model was unsure about (out_of_scope by the confidence or margin rule) and
   * that has two or more sentences: the most confident read among its sentences, if one is a
   * confident read (never a write: a write needs the whole message's evidence; never small talk).
   */
  private async clauseReads(texts: readonly string[], decisions: readonly IntentDecision[], skip: readonly boolean[]): Promise<(IntentDecision | undefined)[]> {
    const oos = this.classifier.outOfScopeLabel;
    const jobs: { row: number; text: string }[] = [];
    texts.forEach((text, row) => {
      const reason = decisions[row]!.fallback?.reason;
      if (skip[row] || decisions[row]!.intent !== oos || reason === 'empty_input') return;
      const unsure = reason === 'low_confidence' || reason === 'small_margin';
      const clauses = splitClauses(text);
      if (clauses.length < 2) return;
      if (unsure) {
        for (const c of clauses) jobs.push({ row, text: c.text });
      } else if (NEGATED_ASIDE.test(clauses[0]!.text)) {
        // nlu7: "I don't care about WH-A, how many SKU-1774 are in WH-D?", "not sure if the Corrib order went out.
        // What's PO-1777 doing?": a negated aside first, then a question the model lost in the whole message. Even
        // where the whole was confidently out of scope, a later clause that is a question may be read alone.
        for (const c of clauses.slice(1)) if (c.text.trimEnd().endsWith('?') && !NEGATED_ASIDE.test(c.text)) jobs.push({ row, text: c.text });
      }
    });
    const best: (IntentDecision | undefined)[] = [];
    if (jobs.length === 0) return best;
    const trace = currentTrace();
    const got = await this.classifyTexts(jobs.map((j) => this.modelInput(j.text, this.extractEntities(j.text, trace))), {});
    jobs.forEach((j, k) => {
      const d = got[k]!;
      if (d.fallback || d.intent === oos || WRITE_INTENTS.includes(d.intent) || SMALL_TALK.has(d.intent) || d.confidence < CLAUSE_MIN_CONFIDENCE) return;
      if (!best[j.row] || d.confidence > best[j.row]!.confidence) best[j.row] = d;
    });
    return best;
  }

  /** Model decisions for model inputs (see modelInput; empty text: out_of_scope without a model call). */
  private async classifyTexts(texts: readonly string[], options: RecognizeBatchOptions): Promise<IntentDecision[]> {
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
    return decisions;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.runner.close();
  }

  /**
   * Entities of the text as typed; where the spelling pass changed words, of the corrected text
   * ("status of ordeer 1119", "40 boxse by tomorow"), with spans mapped back to the typed text —
   * except names ("Acma"), which the name matcher reads as typed (and asks "did you mean…?").
   */
  private extractEntities(text: string, trace: ReturnType<typeof currentTrace>, spelled?: Corrected): Entity[] {
    const t0 = performance.now();
    const fixed = spelled && spelled.edits.length > 0 ? withoutNames(text, spelled, this.entities.nameWords()) : undefined;
    const read = fixed ? fixed.text : text;
    const entities = this.entities.extract(read.length > this.maxEntityChars ? read.slice(0, this.maxEntityChars) : read);
    trace?.record('entities', performance.now() - t0);
    // Spans index the original text: a prefix has the same offsets.
    if (!fixed) return entities.map((e) => ({ ...e, text: text.slice(e.start, e.end) }));
    return entities.map((e) => {
      const start = fixed.toOriginal(e.start);
      const end = fixed.toOriginal(e.end);
      return { ...e, start, end, text: text.slice(start, end) };
    });
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

  /** The message's typo corrections, when the model's input or the write guard's cues use them. */
  private spellingOf(text: string): Corrected | undefined {
    const write = this.guards.write;
    return this.guards.spelling || (write && write.spelling !== false) ? correctSpelling(text) : undefined;
  }

  /**
   * What the model reads: the text with typos, numbers and bare ids fixed (span edits of the typed
   * text), paraphrases and chat noise rewritten, casing normalised; entities read the original.
   */
  private modelInput(text: string, entities: readonly Entity[], spelled = this.guards.spelling ? correctSpelling(text) : undefined): string {
    const edits = [
      ...(this.guards.numbers ? quantityEdits(text, entities.filter((e) => e.type === 'quantity')) : []),
      ...(this.guards.ids ? bareIdEdits(text, entities) : []),
      ...(this.guards.spelling && spelled ? spelled.edits.map((e) => ({ start: e.start, end: e.end, text: e.to })) : []),
    ];
    const masked = rewriteSpans(text, edits);
    const goods = entities.some((e) => e.type === 'sku' || e.type === 'quantity');
    const phrased = this.guards.paraphrases ? paraphraseForModel(masked, goods) : masked;
    const request = this.guards.chatNoise ? stripChatNoise(phrased) : phrased;
    return normalizeCasing(request, this.guards.casing);
  }

  /** Not English: no model call, never a write; the bot answers that only English is understood. */
  private nonEnglishDecision(): IntentDecision {
    const d = this.emptyDecision();
    return { ...d, intent: NON_ENGLISH, confidence: 1, fallback: { reason: 'non_english', intent: NON_ENGLISH, confidence: 1 } };
  }

  private result(text: string, d: IntentDecision, entities: Entity[]): NluResult {
    const r: NluResult = { text, intent: d.intent, confidence: d.confidence, ranking: d.ranking, entities };
    if (d.fallback) r.fallback = d.fallback;
    if (d.rule) r.rule = d.rule;
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
  /**
   * Runtime robustness around the model (default DEFAULT_GUARDS with the model dir's
   * `write_guard.json` thresholds); `'plain'` = the model and its global rule only.
   */
  guards?: RuntimeGuards | 'plain';
}

/** The per-write-intent thresholds calibrated on validation, if the model dir has them. */
async function readWriteThresholds(dir: string): Promise<WriteThresholds | undefined> {
  let raw: string;
  try {
    raw = await readFile(join(dir, 'write_guard.json'), 'utf8');
  } catch {
    return undefined;
  }
  const parsed = JSON.parse(raw) as { thresholds?: Record<string, unknown> };
  const out: Record<string, number> = {};
  for (const [intent, v] of Object.entries(parsed.thresholds ?? {})) {
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new Error(`${dir}/write_guard.json: threshold of ${intent} must be in [0, 1]`);
    out[intent] = v;
  }
  return out;
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
  let guards: RuntimeGuards;
  if (options.guards === 'plain') guards = PLAIN_GUARDS;
  else if (options.guards) guards = options.guards;
  else guards = { ...DEFAULT_GUARDS, write: { writeThresholds: await readWriteThresholds(dir.dir) } };
  return new NluPipeline({
    guards,
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
