import type { IntentDecision } from '../intents/IntentClassifier.js';
import { WRITE_INTENTS, type Entity } from '../types.js';
import { findApproval, findNegatedWrite, findOtherDepartment, findRejection, findVerdict, hasWriteEvidence, isPriceQuestion, namesTheAction } from './cues.js';
import { correctSpelling, type Corrected } from './spelling.js';

/**
 * Per-write-intent minimum top probability, calibrated on the VALIDATION split by
 * `training/eval/calibrate_write_guard.ts` and stored beside the model (`write_guard.json`).
 */
export type WriteThresholds = Readonly<Record<string, number>>;

export interface GuardOptions {
  /** Per-intent thresholds for write intents (absent intent: only the model's global rule applies). */
  writeThresholds?: WriteThresholds;
  /** Negated writes never start a write. Default true. */
  negation?: boolean;
  /** Rejections reach approve_order with decision=reject. Default true. */
  decision?: boolean;
  /** Other departments' requests are not our writes. Default true. */
  otherDepartments?: boolean;
  /** Cue words are found through one typo ("rejcet", "dont cancle"): spelling.ts. Default true. */
  spelling?: boolean;
  /** A write needs a word of our work or one of our entities in the message (cues.ts hasWriteEvidence). Default true. */
  evidence?: boolean;
  /** A write whose action is named ("arrived", "book in") with a record or quantity needs only the global bar. Default true. */
  actionEvidence?: boolean;
}

export interface GuardOutcome {
  decision: IntentDecision;
  /** Entities the guard adds (the `decision` slot). */
  entities: Entity[];
  /**
   * Set when a negated write had a "…, just <question>" tail: the message without the negated
   * phrase, which the caller classifies and uses when `acceptsReread` says so (else out_of_scope).
   */
  reclassify?: string;
}

const APPROVE = 'procurement.approve_order';
const ORDER_STATUS = 'procurement.order_status';
const CANCEL = 'procurement.cancel_order';
const TRANSFER = 'storage.transfer_stock';
const isWrite = (intent: string): boolean => WRITE_INTENTS.includes(intent);

/** Reads a price question is mistaken for (the HS-code search reads "cost" as a product). */
const PRICE_CONFUSED = new Set(['customs.classify_goods', 'storage.stock_level']);

function withheld(d: IntentDecision, reason: 'write_guard' | 'negated_write' | 'price_question' | 'other_department', oos: string): IntentDecision {
  const o = d.ranking.find((r) => r.intent === oos);
  return { intent: oos, confidence: o?.confidence ?? 0, ranking: d.ranking, fallback: { reason, intent: d.intent, confidence: d.confidence } };
}

/**
 * The rules a write intent must pass after the model (reads are never touched, except that a
 * rejection turns a cancel into the decision intent):
 * 1. a rejection cue with cancel/approve on top → approve_order + `decision=reject` entity;
 * 2. a price question read as an HS-code search, a stock question, an order status without an order,
 *    a write, or already out of scope → out_of_scope with reason `price_question`;
 * 3. a negated write ("don't order…") → out_of_scope, or the "just …" part's (read) intent;
 * 4. another department's request ("invoice our customer…") → out_of_scope;
 * 5. below the intent's calibrated threshold → out_of_scope (asking beats a wrong write).
 */
export function guardWrite(typed: string, d: IntentDecision, entities: readonly Entity[], options: GuardOptions, oos: string): GuardOutcome {
  const out: GuardOutcome = { decision: d, entities: [] };
  // The cues are read in the typo-corrected text; the decision entity's span indexes the typed one.
  const spelled = cueText(typed, options);
  const text = spelled.text;
  const verdict = options.decision !== false ? findVerdict(text) : undefined;
  const usableVerdict = verdict && (verdict.onOrder || d.intent === APPROVE || d.intent === CANCEL) ? { ...verdict, leading: verdict.onOrder } : undefined;
  const rejection = options.decision !== false ? (findRejection(text) ?? usableVerdict) : undefined;
  const aboutOtherThings = entities.some((e) => e.type === 'shipment' || e.type === 'declaration');
  // The model reads "reject PO-1102" as cancel: both take a PO out of the pipeline.
  const topTwo = d.ranking.slice(0, 2).map((r) => r.intent);
  const candidate = d.fallback?.intent ?? d.intent;
  const orderish = entities.some((e) => e.type === 'purchase_order') || /\b(?:po|order|it|that|this)\b/i.test(text);
  if (
    rejection &&
    !aboutOtherThings &&
    (candidate === CANCEL ||
      candidate === APPROVE ||
      (isWrite(candidate) && topTwo.includes(APPROVE)) ||
      (rejection.leading && orderish && candidate !== 'procurement.create_order'))
  ) {
    const approve = d.ranking.find((r) => r.intent === APPROVE)!;
    out.decision = { intent: APPROVE, confidence: approve.confidence, ranking: d.ranking };
    const start = spelled.toOriginal(rejection.start);
    const end = spelled.toOriginal(rejection.end);
    out.entities.push({ type: 'decision', value: 'reject', text: typed.slice(start, end), start, end });
    return out;
  }
  // "ok approving PO-1109 - thx", "don't reject PO-1115, approve it": an approval instruction on a
  // named order, where the model was unsure or read the cancel the words around it suggest.
  const unsure = d.intent === oos && (d.fallback?.reason === 'low_confidence' || d.fallback?.reason === 'small_margin');
  if (
    options.decision !== false &&
    !rejection &&
    !aboutOtherThings &&
    entities.some((e) => e.type === 'purchase_order') &&
    (unsure || d.intent === CANCEL) &&
    findApproval(text)
  ) {
    const approve = d.ranking.find((r) => r.intent === APPROVE)!;
    out.decision = { intent: APPROVE, confidence: approve.confidence, ranking: d.ranking };
    return out;
  }
  // Also marked when the model already said out_of_scope, or order status without an order: the bot
  // answers price questions with the catalog price (decision.ts routedIntent).
  const priceConfused = PRICE_CONFUSED.has(d.intent) || d.intent === oos || (d.intent === ORDER_STATUS && !entities.some((e) => e.type === 'purchase_order'));
  if ((isWrite(d.intent) || priceConfused) && isPriceQuestion(text)) {
    out.decision = withheld(d, 'price_question', oos);
    return out;
  }
  // Other departments' requests: never our write, and not our read either unless it names one of our records.
  const ownRecord = entities.some((e) => e.type === 'purchase_order' || e.type === 'shipment' || e.type === 'declaration');
  if (
    options.otherDepartments !== false &&
    d.intent !== oos &&
    !d.intent.startsWith('assistant.') &&
    (isWrite(d.intent) || !ownRecord) &&
    findOtherDepartment(text)
  ) {
    out.decision = withheld(d, 'other_department', oos);
    return out;
  }
  // "dont file anything for SH-2004 yet, waiting on the broker": a message that only says not to do a
  // write asks for nothing, even where the model hears a read in its words. A question keeps the read.
  if (options.negation !== false && !isWrite(d.intent) && d.intent !== oos && !d.intent.startsWith('assistant.') && !text.includes('?')) {
    const negated = findNegatedWrite(text);
    if (negated && !negated.rest) {
      out.decision = withheld(d, 'negated_write', oos);
      return out;
    }
  }
  if (!isWrite(d.intent)) return out;
  if (options.negation !== false) {
    const negated = findNegatedWrite(text);
    if (negated) {
      out.decision = withheld(d, 'negated_write', oos);
      if (negated.rest) out.reclassify = negated.without;
      return out;
    }
  }
  const ours = entities.some((e) => e.type !== 'date' && e.type !== 'money' && e.type !== 'decision');
  if (options.evidence !== false && !ours && !hasWriteEvidence(text)) {
    out.decision = withheld(d, 'write_guard', oos);
    return out;
  }
  // A stock transfer moves our own stock between our warehouses: with a supplier named and no move
  // verb ("18 inverters from Initech, ship to WH-B") it is a purchase the model misread, not a move.
  if (
    options.evidence !== false &&
    d.intent === TRANSFER &&
    entities.some((e) => e.type === 'supplier') &&
    !namesTheAction(TRANSFER, text)
  ) {
    out.decision = withheld(d, 'write_guard', oos);
    return out;
  }
  const named =
    options.actionEvidence !== false &&
    entities.some((e) => e.type === 'purchase_order' || e.type === 'shipment' || e.type === 'quantity') &&
    namesTheAction(d.intent, text);
  const min = named ? undefined : options.writeThresholds?.[d.intent];
  if (min !== undefined && d.confidence < min) out.decision = withheld(d, 'write_guard', oos);
  return out;
}

/** The re-read of a negated write's remainder is used only when it is a read the rules let stand. */
export function acceptsReread(text: string, intent: string, oos: string, options: GuardOptions = {}): boolean {
  return intent !== oos && !isWrite(intent) && !(PRICE_CONFUSED.has(intent) && isPriceQuestion(cueText(text, options).text));
}

const asTyped = (text: string): Corrected => ({ text, edits: [], toOriginal: (offset) => offset });

function cueText(text: string, options: GuardOptions): Corrected {
  return options.spelling === false ? asTyped(text) : correctSpelling(text);
}
