import type { IntentDecision } from '../intents/IntentClassifier.js';
import { WRITE_INTENTS, type DecidingRule, type Entity } from '../types.js';
import { asksStockAndPrice, findApproval, findCorrection, findNegatedRequest, findNegatedWrite, findOtherDepartment, findRejection, findVerdict, hasWriteEvidence, isPriceQuestion, namesTheAction, restNamesTheWrite, withoutNegatedWrite } from './cues.js';
import { asksCustomsCode, asksStateOnly, findReplacement, isPartialWrite, isWriteQuestion, passiveInstruction } from './questions.js';
import { ruleConfidence } from './ruleConfidence.js';
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
  /** A question about a write ("who approves PO-1102?", "was it cancelled?") → the status read, never the write (questions.ts). Default true. */
  writeQuestions?: boolean;
  /** An "HS code / tariff code" question the model left out of scope is the classification read (questions.ts). Default true. */
  customsCodes?: boolean;
  /**
   * Where the model was unsure but its first choice is the read a named record answers (order
   * status with a PO, declaration status with a shipment/declaration), that read; and a passive
   * instruction on a named PO ("PO-1148 needs to be cancelled") that is the model's first choice. Default true.
   */
  recordReads?: boolean;
  /**
   * The model's first choice a write the text does not name, its second a write the text names
   * ("create an order", "put … into bin"): the second, without the per-intent bar (the text names
   * it), all other rules still applying. Default true (needs actionEvidence).
   */
  namedSecond?: boolean;
  /** A negated order naming its replacement, or a negated whole with the part still wanted ("only 60 came"), is the write (questions.ts). Default true. */
  corrections?: boolean;
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
  /** nlu7: the "just …" part alone, re-read when `reclassify`'s read is not accepted ("I'm not placing an order, just want to know…"). */
  reclassifyRest?: string;
  /**
   * Set when a negated order names its replacement ("don't order from Acme, get 200 SKU-1003 from
   * Northwind instead"): that clause, which the caller classifies and uses when `acceptsReplacement` says so.
   */
  replacement?: string;
  /**
   * Set when a negated write is corrected in the same message ("don't cancel PO-1131, cancel PO-1132
   * instead"): where the correction starts. Entities before it whose type the correction names again
   * are the ones ruled out, and the caller drops them.
   */
  correctedFrom?: number;
}

const APPROVE = 'procurement.approve_order';
const ORDER_STATUS = 'procurement.order_status';
const CREATE = 'procurement.create_order';
const CLASSIFY = 'customs.classify_goods';
/** Reads a question about a named PO's approval, cancellation or receipt is mistaken for (stock questions are not among them). */
const PO_QUESTION_MISREADS = new Set(['customs.declaration_status', 'procurement.list_orders', 'automation.list_jobs']);
const CANCEL = 'procurement.cancel_order';
const TRANSFER = 'storage.transfer_stock';
/** A question that is not a request ("how long is…?", "is there…?"; not "can you…?", "could we…?"). */
const NOT_A_REQUEST = /^\s*(?:(?:hey|hi|so|ok|and)[,!]?\s+)?(?:how|what|what's|whats|when|where|which|who|why|is|are|was|were|does|do|did|has|have)\b/i;
const STOCK = 'storage.stock_level';
/** A purchase order named by its PO id (not "customer order 88120", which the extractor also reads as a PO). */
const PO_WRITTEN = /\b(?:PO|P\.O\.)\s*[-#]?\s*\d+|\bpurchase\s+order\s+\d+/i;
const isWrite = (intent: string): boolean => WRITE_INTENTS.includes(intent);

/** Reads a price question is mistaken for (the HS-code search reads "cost" as a product). */
const PRICE_CONFUSED = new Set(['customs.classify_goods', 'storage.stock_level']);

function withheld(d: IntentDecision, reason: 'write_guard' | 'negated_write' | 'price_question' | 'other_department' | 'write_question', oos: string): IntentDecision {
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
export function guardWrite(typed: string, model: IntentDecision, entities: readonly Entity[], options: GuardOptions, oos: string, corrected?: Corrected): GuardOutcome {
  // The cues are read in the typo-corrected text; the decision entity's span indexes the typed one.
  // `corrected`: the caller's spelling pass of `typed` (one pass per message), else done here.
  const spelled = cueText(typed, options, corrected);
  const text = spelled.text;
  const passive = options.recordReads !== false ? passiveInstruction(text) : undefined;
  // A decision cue ("ok approving PO-1109") is for the decision rules below, not a status read.
  const decisionCue = findApproval(text) ?? findRejection(text) ?? findVerdict(text);
  const d = options.recordReads !== false && !decisionCue ? recordBacked(model, entities, passive, oos, text) : model;
  const out: GuardOutcome = { decision: d, entities: [] };
  // "Please create an order for 18 solar inverters, Initech, ship to WH-B" (transfer 0.58, create
  // 0.29): the model's first choice is a write the text does not name, its second the write it does.
  if (options.actionEvidence !== false && options.namedSecond !== false) {
    const swapped = namedSecondWrite(d, text, entities, oos);
    if (swapped) {
      const rest = guardWrite(typed, swapped, entities, { ...options, namedSecond: false, writeThresholds: undefined }, oos, spelled);
      return rest.decision.intent === swapped.intent ? rest : { ...rest, decision: withheld(d, 'write_guard', oos) };
    }
  }
  const verdict = options.decision !== false ? findVerdict(text) : undefined;
  const usableVerdict = verdict && (verdict.onOrder || d.intent === APPROVE || d.intent === CANCEL) ? { ...verdict, leading: verdict.onOrder, clauseLeading: verdict.onOrder } : undefined;
  const rejection = options.decision !== false ? (findRejection(text) ?? usableVerdict) : undefined;
  const aboutOtherThings = entities.some((e) => e.type === 'shipment' || e.type === 'declaration');
  const unsure = d.intent === oos && (d.fallback?.reason === 'low_confidence' || d.fallback?.reason === 'small_margin');
  // "who needs to approve PO-1102?", "PO-1133 — approved or still pending?", "Is PO-1105 received
  // already?": a question about a write asks for the order's state; without an order it is no write.
  if (options.writeQuestions !== false && isWriteQuestion(text)) {
    const onOrder = entities.some((e) => e.type === 'purchase_order') && !aboutOtherThings;
    const from = unsure ? d.fallback!.intent : d.intent;
    if (onOrder && (isWrite(from) || PO_QUESTION_MISREADS.has(from) || (unsure && from === ORDER_STATUS))) {
      out.decision = ruled(ORDER_STATUS, d, 'write_question', { fallback: { reason: 'write_question', intent: from, confidence: d.fallback?.confidence ?? d.confidence } });
      return out;
    }
    if (isWrite(d.intent)) {
      out.decision = withheld(d, 'write_question', oos);
      return out;
    }
  }
  if (options.writeQuestions !== false && !decisionCue && !aboutOtherThings && entities.some((e) => e.type === 'purchase_order') && asksStateOnly(text, d.intent)) {
    out.decision = ruled(ORDER_STATUS, d, 'write_question', { fallback: { reason: 'write_question', intent: d.intent, confidence: d.confidence } });
    return out;
  }
  // The model reads "reject PO-1102" as cancel: both take a PO out of the pipeline.
  const topTwo = d.ranking.slice(0, 2).map((r) => r.intent);
  const candidate = d.fallback?.intent ?? d.intent;
  const onPo = entities.some((e) => e.type === 'purchase_order');
  const orderish = onPo || /\b(?:po|order|it|that|this)\b/i.test(text);
  if (
    rejection &&
    !aboutOtherThings &&
    // nlu7: "reject Tom's holiday request", "deny the refund for customer order 88120": another department's
    // decision, unless a PO is named as one ("PO-1141", not "order 88120").
    (PO_WRITTEN.test(text) || options.otherDepartments === false || !findOtherDepartment(text)) &&
    (candidate === CANCEL ||
      candidate === APPROVE ||
      (isWrite(candidate) && topTwo.includes(APPROVE)) ||
      (rejection.leading && orderish && candidate !== CREATE) ||
      (rejection.clauseLeading && onPo))
  ) {
    out.decision = ruled(APPROVE, d, 'rejection');
    const start = spelled.toOriginal(rejection.start);
    const end = spelled.toOriginal(rejection.end);
    out.entities.push({ type: 'decision', value: 'reject', text: typed.slice(start, end), start, end });
    return out;
  }
  // "ok approving PO-1109 - thx", "don't reject PO-1115, approve it": an approval instruction on a
  // named order, where the model was unsure or read the cancel the words around it suggest (nlu7: or the
  // status read: "the order hasn't been approved yet, please approve PO-1112").
  if (
    options.decision !== false &&
    !rejection &&
    !aboutOtherThings &&
    entities.some((e) => e.type === 'purchase_order') &&
    (unsure || d.intent === CANCEL || d.intent === ORDER_STATUS) &&
    findApproval(text)
  ) {
    out.decision = ruled(APPROVE, d, 'approval');
    return out;
  }
  // nlu7: "PO-1789 has been waiting on me since Monday, can we get it approved?", "I think PO-1788 should be
  // scrapped, nobody needs those drills now": an instruction in the passive or asked as a favour, on a named PO,
  // where the model heard a status read (or nothing of ours).
  if (
    options.recordReads !== false &&
    passive &&
    onPo &&
    !aboutOtherThings &&
    !rejection &&
    // not where the model leans to another write (nlu4: the passive decides only the model's own first choice)
    (d.intent === ORDER_STATUS || PO_QUESTION_MISREADS.has(d.intent) || (d.intent === oos && !(d.fallback && isWrite(d.fallback.intent))))
  ) {
    out.decision = ruled(passive, d, 'passive');
    return out;
  }
  // Also marked when the model already said out_of_scope, or order status without an order: the bot
  // answers price questions with the catalog price (decision.ts routedIntent).
  const priceConfused = PRICE_CONFUSED.has(d.intent) || d.intent === oos || (d.intent === ORDER_STATUS && !entities.some((e) => e.type === 'purchase_order'));
  if ((isWrite(d.intent) || priceConfused) && isPriceQuestion(text)) {
    out.decision = withheld(d, 'price_question', oos);
    return out;
  }
  // "how much stock of SKU-1640 do we have and what does it cost per unit?": the model, unsure between
  // an HS-code search and stock, heard the price; the stock half is what we answer.
  if (unsure && entities.some((e) => e.type === 'sku') && asksStockAndPrice(text)) {
    out.decision = ruled(STOCK, d, 'stock_and_price', { fallback: d.fallback });
    return out;
  }
  // "I'd like to know the HS subheading for LED lamps": an HS-code question about goods the model
  // doesn't know the words of. Only where it said out of scope; never another department's question.
  // nlu7: not when the question is itself called off ("don't bother classifying the gloves, they've got an HS code").
  const calledOff = options.negation !== false ? (findNegatedWrite(text) ?? findNegatedRequest(text)) : undefined;
  if (options.customsCodes !== false && d.intent === oos && d.fallback?.reason !== 'empty_input' && asksCustomsCode(text) && !findOtherDepartment(text) && !(calledOff && !calledOff.rest)) {
    if (d.ranking.some((r) => r.intent === CLASSIFY)) {
      out.decision = ruled(CLASSIFY, d, 'customs_code', { fallback: { reason: 'customs_code', intent: d.fallback?.intent ?? d.intent, confidence: d.fallback?.confidence ?? d.confidence } });
      return out;
    }
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
  if (options.negation !== false && !isWrite(d.intent) && !d.intent.startsWith('assistant.') && d.fallback?.reason !== 'empty_input') {
    // nlu7: also a negated read or a write named as a noun ("no need to list my orders", "no more orders for SKU-1758").
    const negated = calledOff;
    if (d.intent !== oos && negated && !negated.rest && !text.includes('?')) {
      out.decision = withheld(d, 'negated_write', oos);
      return out;
    }
    // nlu7: "dont order anything yet, just show me how much SKU-1763 we have", "I'm not asking you to approve it, I
    // just want to know where PO-1672 stands": the read the model heard in the whole message (or its out of scope)
    // may be the negated half's; the caller re-reads the message without it and uses that read if it is one.
    if (negated?.rest && options.corrections !== false) {
      out.reclassify = negated.without;
      out.reclassifyRest = negated.rest;
    }
  }
  if (!isWrite(d.intent)) return out;
  // "don't get the gloves from Acme, order 300 from Globex instead": a negated write corrected by an
  // order is that order, whatever the model made of the negated half; the caller re-reads the order.
  if (options.corrections !== false && d.intent !== CREATE && findCorrection(text) !== undefined) {
    const replacement = findReplacement(text);
    if (replacement) {
      out.decision = withheld(d, 'negated_write', oos);
      out.replacement = asTypedClause(replacement, spelled, typed);
      return out;
    }
  }
  if (options.negation !== false) {
    const negated = findNegatedWrite(text);
    // "don't book the whole PO-1118, only 60 pallets came": the part is still to be done.
    // nlu6: "don't order new ones, just shift 30 to WH-B": the rest is the model's write, named by its verb.
    const restStands = negated !== undefined && options.corrections !== false && restNamesTheWrite(d.intent, negated);
    if (restStands) {
      const at = text.lastIndexOf(negated.rest!);
      if (at >= 0) out.correctedFrom = spelled.toOriginal(at);
    }
    if (negated && !restStands && !(options.corrections !== false && isPartialWrite(text))) {
      out.decision = withheld(d, 'negated_write', oos);
      if (options.corrections !== false && (d.intent === CREATE || d.intent === CANCEL)) {
        const replacement = findReplacement(text);
        if (replacement) out.replacement = asTypedClause(replacement, spelled, typed);
      }
      if (negated.rest && !out.replacement) {
        out.reclassify = negated.without;
        out.reclassifyRest = negated.rest;
      }
      return out;
    }
    // nlu7: a write named as a noun and called off ("forget the transfer to WH-C, stock is fine where it is",
    // "I don't need the stock figures any more"). Not a cancel: "we don't need PO-1177 any more" asks for one.
    if (!negated && d.intent !== CANCEL && calledOff && findCorrection(text) === undefined && !isPartialWrite(text)) {
      out.decision = withheld(d, 'negated_write', oos);
      if (calledOff.rest) {
        out.reclassify = calledOff.without;
        out.reclassifyRest = calledOff.rest;
      }
      return out;
    }
  }
  if (options.corrections !== false) {
    const at = findCorrection(text);
    if (at !== undefined) out.correctedFrom = spelled.toOriginal(at);
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
  // "how long is the drive from WH-A to WH-B?": a question about two warehouses is not a move. A
  // transfer asked as a question names what moves (a product, SKU or quantity) or the move itself.
  if (
    options.evidence !== false &&
    d.intent === TRANSFER &&
    NOT_A_REQUEST.test(text) &&
    !entities.some((e) => e.type === 'sku' || e.type === 'quantity') &&
    !namesTheAction(TRANSFER, text)
  ) {
    out.decision = withheld(d, 'write_guard', oos);
    return out;
  }
  const named =
    options.actionEvidence !== false &&
    entities.some((e) => e.type === 'purchase_order' || e.type === 'shipment' || e.type === 'quantity') &&
    namesTheAction(d.intent, text);
  // A passive instruction the guard itself read ("PO-1148 needs to be cancelled") names its action too.
  const min = named || (passive === d.intent && d !== model) ? undefined : options.writeThresholds?.[d.intent];
  if (min !== undefined && d.confidence < min) out.decision = withheld(d, 'write_guard', oos);
  return out;
}

/** The second choice must still have some weight: the text names it, the model must not rule it out. */
const NAMED_SECOND_MIN = 0.15;

function namedSecondWrite(d: IntentDecision, text: string, entities: readonly Entity[], oos: string): IntentDecision | undefined {
  const first = d.intent === oos ? d.fallback?.intent : d.intent;
  if (!first || !isWrite(first) || (d.intent === oos && d.fallback?.reason !== 'low_confidence' && d.fallback?.reason !== 'small_margin')) return undefined;
  // nlu7: a write named only in a negated phrase is not named ("no I don't want to transfer, receive SH-2707").
  if (namesTheAction(first, withoutNegatedWrite(text))) return undefined;
  const second = d.ranking.find((r) => r.intent !== first && r.intent !== oos);
  if (!second || !isWrite(second.intent) || second.confidence < NAMED_SECOND_MIN || !namesTheAction(second.intent, text)) return undefined;
  // What is to be done must be in the message: goods, a record, a supplier.
  if (!entities.some((e) => e.type !== 'date' && e.type !== 'money' && e.type !== 'decision' && e.type !== 'warehouse')) return undefined;
  return ruled(second.intent, d, 'named_action', { fallback: { reason: 'named_action', intent: first, confidence: d.fallback?.confidence ?? d.confidence } });
}

/** The record type each status read answers about. */
const RECORD_OF_READ: Readonly<Record<string, readonly string[]>> = {
  [ORDER_STATUS]: ['purchase_order'],
  'customs.declaration_status': ['shipment', 'declaration'],
};
/** Below this the model's first choice is too weak to be confirmed by a named record. */
const RECORD_READ_MIN = 0.35;
const ID_TYPES = new Set(['purchase_order', 'shipment', 'declaration']);
const DECLARATION_STATUS = 'customs.declaration_status';
/** Words that make a question about a PO a customs question ("has the PO-1102 shipment cleared customs?"). */
const CUSTOMS_WORDS = /\b(?:customs|declar\w*|broker\w*|clear\w*|duty|duties|hs|tariff\w*|entry|entries|port|import\w*|export\w*|shipment|container|vessel)\b/i;

/**
 * An unsure decision (out_of_scope by confidence or margin) whose first choice is confirmed by the
 * message itself: a status read of the one kind of record it names ("what duty did customs assess on
 * CD-3102?"), or the write a passive instruction on a named PO says ("PO-1148 needs to be cancelled").
 */
function recordBacked(d: IntentDecision, entities: readonly Entity[], passive: string | undefined, oos: string, text: string): IntentDecision {
  // nlu7: "What's PO-1777 doing?" read as the declaration status: the only record named is a purchase order and
  // nothing in the message is about customs, so it is the order's status.
  if (d.intent === DECLARATION_STATUS && !CUSTOMS_WORDS.test(text)) {
    const ids = entities.filter((e) => ID_TYPES.has(e.type));
    if (ids.length > 0 && ids.every((e) => e.type === 'purchase_order')) return ruled(ORDER_STATUS, d, 'record_read');
  }
  const reason = d.fallback?.reason;
  if (d.intent !== oos || (reason !== 'low_confidence' && reason !== 'small_margin')) return d;
  const top = d.fallback!;
  if (top.confidence < RECORD_READ_MIN) return d;
  const ids = entities.filter((e) => ID_TYPES.has(e.type)).map((e) => e.type);
  const needs = RECORD_OF_READ[top.intent];
  if (needs && ids.length > 0 && ids.every((t) => needs.includes(t))) return ruled(top.intent, d, 'record_read');
  if (passive === top.intent && ids.length > 0 && ids.every((t) => t === 'purchase_order')) return ruled(top.intent, d, 'passive');
  return d;
}

/** The re-read of a negated write's remainder is used only when it is a read the rules let stand. */
export function acceptsReread(text: string, intent: string, oos: string, options: GuardOptions = {}, corrected?: Corrected): boolean {
  return intent !== oos && !isWrite(intent) && !(PRICE_CONFUSED.has(intent) && isPriceQuestion(cueText(text, options, corrected).text));
}

/**
 * The replacement clause's read is used only when it is an order that its own guard lets stand
 * (guardWrite on the clause returned the same create_order decision).
 */
export function acceptsReplacement(clause: string, again: IntentDecision, clauseEntities: readonly Entity[], options: GuardOptions, oos: string): boolean {
  if (again.intent !== CREATE) return false;
  const guarded = guardWrite(clause, again, clauseEntities, options, oos);
  return guarded.decision.intent === CREATE && !guarded.replacement && !guarded.reclassify;
}

/** `intent` chosen by `rule` over the model's top choice: the rule's confidence, or the model's probability where higher. */
function ruled(intent: string, d: IntentDecision, rule: DecidingRule, extra: Pick<IntentDecision, 'fallback'> = {}): IntentDecision {
  const model = d.ranking.find((r) => r.intent === intent)?.confidence ?? 0;
  return { intent, confidence: Math.max(model, ruleConfidence(rule)), ranking: d.ranking, rule, ...extra };
}

/** A clause found in the corrected text, as the user typed it (the caller finds it in the typed message). */
function asTypedClause(clause: string, spelled: Corrected, typed: string): string {
  const at = spelled.text.lastIndexOf(clause);
  if (spelled.edits.length === 0 || at < 0) return clause;
  return typed.slice(spelled.toOriginal(at), spelled.toOriginal(at + clause.length));
}

const asTyped = (text: string): Corrected => ({ text, edits: [], toOriginal: (offset) => offset });

function cueText(text: string, options: GuardOptions, corrected?: Corrected): Corrected {
  if (options.spelling === false) return asTyped(text);
  return corrected ?? correctSpelling(text);
}
