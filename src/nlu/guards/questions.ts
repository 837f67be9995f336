/**
 * Fourth round (docs/notes/nlu4.md): phrasings the model misreads as a class, each a pure function
 * of the text.
 *
 * - A question ABOUT a write ("who needs to approve PO-1102?", "has it been approved?", "was it
 *   cancelled?", "PO-1133 — approved or still pending?", "did anyone cancel PO-1150?") asks for the
 *   record's state: it never starts the write (writeGuard.ts sends it to the status read).
 * - A negated write that names its replacement ("don't order from Acme, get 200 from Northwind
 *   instead") or only a part ("don't book the whole PO-1118, only 60 came"): the write is wanted,
 *   in its corrected form.
 * - Model-input paraphrases of words it never learned ("HS subheading" → "HS code", "got through
 *   customs" → "cleared customs") and a purpose phrase ("… for the Monday job") that made a stock
 *   question an automation-job question.
 */

import { WRITE_ACTION_WORDS } from './cues.js';

/** A write's action as a past participle: the state a question asks about. */
const PARTICIPLE =
  '(?:approved|ok(?:ay)?ed|green-?lit|signed\\s+off|cancel{1,2}ed|voided|killed|rejected|declined|denied|received|booked\\s+in|checked\\s+in|filed|submitted|lodged|placed|raised|transferred|moved)';
/** A write's action in its base form (after "did … / who … "). */
const BASE =
  '(?:approv(?:e|es|ing)|sign(?:s|ing)?\\s+off|cancel(?:s|l?ing)?|void|reject(?:s|ing)?|declin(?:e|es|ing)|den(?:y|ies|ying)|receiv(?:e|es|ing)|book(?:s|ing)?\\s+(?:\\w+\\s+)?in|fil(?:e|es|ing)|submit(?:s|ting)?|lodg(?:e|es|ing)|plac(?:e|es|ing)|rais(?:e|es|ing)|transfer(?:s|ring)?)';
const AUX = '(?:is|isn\'?t|was|wasn\'?t|were|are|has|hasn\'?t|have|haven\'?t|had|did|didn\'?t|does|doesn\'?t|do|will|would|got|get|been|be)';
/** The message opens as a question (or has a question mark). */
const IS_QUESTION = new RegExp(`\\?|^\\s*(?:(?:hey|hi|so|and|ok|okay|quick\\s+q(?:uestion)?)[,:!]?\\s+)?(?:${AUX}|who|why|when|how|what|which|any\\s+idea)\\b`, 'i');

/** "who" opening a question, not a relative clause ("the guy who raised PO-10452"): at a clause start or after "know / tell me / ask". */
const WHO_START = "(?:^\\s*(?:(?:hey|hi|so|and|ok|okay|quick\\s+q(?:uestion)?)[,:!]?\\s+)?|[,;.!?:–—-]\\s*|\\b(?:know|tell\\s+(?:me|us)|ask|wondering|idea|sure|check)\\s+)";
/** "who needs to approve PO-1102?", "who's approving it", "who can sign off on PO-1102" */
const WHO = new RegExp(`${WHO_START}who(?:'s|\\s+is|\\s+will|\\s+can|\\s+could|\\s+should|\\s+must|\\s+did|\\s+does|\\s+(?:needs?|has|have|got)\\s+to)?\\s+(?:\\w+\\s+){0,2}?${BASE}\\b|${WHO_START}who\\s+(?:\\w+\\s+){0,2}?${PARTICIPLE}\\b`, 'i');
/** "has PO-1102 been approved?", "Is PO-1105 received already?", "when will it be cancelled?" */
const STATE = new RegExp(`\\b${AUX}\\b[^.?!;]{0,48}?\\b${PARTICIPLE}\\b`, 'i');
/** "approved or still pending?", "cancelled yet?", "received already?", "po1124 cancelled?" */
const ALTERNATIVE = new RegExp(`\\b${PARTICIPLE}(?:\\s+(?:or\\b|yet\\b|already\\b|at\\s+all\\b)|\\s*\\?)`, 'i');
/** "did anyone cancel PO-1150?", "did you approve it?" */
const DID = new RegExp(`\\b(?:did|didn'?t|has|have)\\s+(?:anyone|anybody|someone|somebody|you|u|we|they|he|she|finance|procurement|\\p{Lu}\\p{L}+)\\s+(?:already\\s+|actually\\s+|ever\\s+)?${BASE}\\b`, 'iu');
/**
 * A request, even when phrased as a question: "can you approve PO-1102?", "could you get it
 * cancelled?", "please cancel it if it isn't approved", "is it possible to have PO-1102 cancelled?".
 */
const REQUEST = new RegExp(
  `^\\s*(?:(?:hey|hi|ok|okay|so)[,!]?\\s+)?(?:(?:can|could|would|will)\\s+(?:you|u|someone|somebody)\\b|please\\b|pls\\b|plz\\b|kindly\\b)|\\b(?:is\\s+it\\s+possible\\s+to|i\\s+(?:want|need)\\s+(?:you\\s+to|it|this|that|PO))\\b|` +
    `(?:^|[,;.!?–—-]\\s*)(?:(?:then|so|and|if\\s+not,?|otherwise,?|else,?|please|pls|just)\\s+)*(?:approve|cancel|reject|decline|receive|book\\s+in|file|submit)\\s+(?:it|this|that|them|PO[- ]?\\d+|the\\s+order)\\b`,
  'iu',
);

/** A question about whether/who/when a write happened or happens — never the write itself. */
export function isWriteQuestion(text: string): boolean {
  if (REQUEST.test(text) || CAUSATIVE.test(text)) return false;
  if (WHO.test(text)) return true;
  if (!IS_QUESTION.test(text)) return false;
  return STATE.test(text) || ALTERNATIVE.test(text) || DID.test(text);
}

/**
 * "don't order from Acme this time, get 200 SKU-1003 from Northwind instead": after a negated
 * order, a clause that orders something else. Returns that clause (the part to re-read) or undefined.
 */
const REPLACEMENT = new RegExp(
  "[,;.!–—-]\\s*((?:(?:but|instead|rather|just|so|then|and|please|pls)\\s+)*(?:get|order|buy|purchase|raise\\s+(?:a\\s+)?po\\s+for|source)\\b[^,;.!?]*?(?:\\binstead\\b[^,;.!?]*)?)$",
  'i',
);
export function findReplacement(text: string): string | undefined {
  const m = REPLACEMENT.exec(text.trim());
  const clause = m?.[1]?.trim();
  // The replacement names what to order: a number or a product code.
  return clause && /\d|\bsku\b/i.test(clause) ? clause : undefined;
}

/**
 * "don't book the whole PO-1118, only 60 pallets came", "don't receive all of SH-2003, just 40
 * boxes arrived": the negation is of the whole, the part is still to be done.
 */
const PARTIAL = /\b(?:the\s+(?:whole|entire|full)|all(?:\s+of)?|everything(?:\s+on|\s+for|\s+from)?)\b[^,;.!?]{0,40}[,;.!–—-]?\s*(?:(?:but|we)\s+)?(?:only|just)\s+(?:\w+\s+)?\d/i;
export function isPartialWrite(text: string): boolean {
  return PARTIAL.test(text);
}

/** Words the model never learned for things it knows, in its input only (entities read the typed text). */
const PARAPHRASES: readonly [RegExp, string][] = [
  // customs classification: "HS subheading", "HS heading", "tariff number", "commodity code" → "HS code"
  [/\b(hs|hts)\s+(?:sub-?heading|heading|number|classification|no\.?)(?=\W|$)/gi, '$1 code'],
  [/\b(?:tariff|commodity|customs)\s+(?:sub-?heading|heading|number|classification)\b/gi, 'hs code'],
  // customs clearance: "got through customs", "made it through customs", "passed customs" → "cleared customs"
  [/\b(?:got|get|gotten|getting|made\s+it|make\s+it|making\s+it|gone|go|went|passed|pass|passing)\s+(?:through|thru|past)\s+customs\b/gi, 'cleared customs'],
  [/\bpassed\s+customs\b/gi, 'cleared customs'],
  // nlu5: a goods receipt in a warehouse's words: "goods receipt for SH-2003", "pls GR it" → "receive"
  [/\b(?:post\s+(?:a\s+|the\s+)?)?goods\s+receipt\s+(?:for|of|on)\b/gi, 'receive'],
  [/\bGR\s+(?=it\b|them\b|this\b|that\b|po\b|sh\b|\d)/gi, 'receive '],
  // nlu5: a customs entry lodged is a declaration filed: "lodge the entry for SH-2003", "get the entry lodged"
  [/\blodg(?:e|ing)\s+(the|an|a|our)\s+(?:customs\s+)?entry\b/gi, 'file $1 declaration'],
  [/\b(?:get|have)\s+(the|an|a|our)\s+(?:customs\s+)?entry\s+lodged\b/gi, 'file $1 declaration'],
  // nlu7: "we'll need a customs entry for SH-2710" → "a customs declaration"
  [/\b(a|an|the|our)\s+customs\s+entry\b/gi, '$1 customs declaration'],
  // nlu7: a reminder is the request itself: "don't forget to approve PO-1190", "remember to book in SH-2003"
  [/\b(?:please\s+|pls\s+)?(?:don'?t|dont|do\s+not)\s+forget\s+to\s+|\bremember\s+to\s+|\bmake\s+sure\s+(?:to|you)\s+|\bbe\s+sure\s+to\s+/gi, ''],
  // nlu7: an urgency hedge before the request: "Not urgent, but can you order 30 rolls…", "no rush - …"
  [/^\s*(?:(?:it'?s\s+|this\s+is\s+)?not\s+urgent|no\s+rush|no\s+hurry|no\s+pressure|whenever\s+you\s+(?:can|get\s+a\s+(?:chance|minute)))\s*[,.;:!–—-]*\s*(?:but\s+)?/i, ''],
];

/**
 * "… for the Monday job", "… for the Dallas project": what goods are for. With a product or a
 * quantity in the message the model read "job" as an automation job (list_jobs).
 */
const PURPOSE = /\s*\b(?:for|on)\s+(?:the|our|this|that|a|next|tomorrow'?s|today'?s)\s+(?:[\p{L}\d'-]+\s+){0,2}?(?:job|project|build|install(?:ation)?|site\s+visit)\b/giu;

export function paraphraseForModel(text: string, hasGoods: boolean): string {
  let t = text;
  for (const [re, to] of PARAPHRASES) t = t.replace(re, to);
  if (hasGoods) t = t.replace(PURPOSE, '');
  return t;
}

/**
 * A customs-classification question the model did not recognise because of the product's words
 * ("the HS code for LED lamps"): the training data labels every "HS code" question classify_goods,
 * down to a bare "HS code?".
 */
const CUSTOMS_CODE =
  /\bwhich\s+(?:tariff\s+|customs\s+)?(?:sub-?)?heading\b|\b(?:hs|hts)(?:[\s-]+)?(?:codes?|classification|sub-?headings?|headings?|numbers?|no\.?)(?=\W|$)|\b(?:tariff|commodity)\s+(?:codes?|classification|sub-?headings?|headings?|numbers?)\b|\bwhich\s+hs\b|\bhs\s+(?:for|of)\b/i;
export function asksCustomsCode(text: string): boolean {
  return CUSTOMS_CODE.test(text);
}

/**
 * "PO-1148 needs to be cancelled at the supplier", "PO-1102 has to be approved today": an
 * instruction in the passive (the model learned the imperative and is unsure). Not in a question,
 * not negated ("doesn't need to be cancelled").
 */
/** nlu7: the cancel's other words ("should be scrapped", "needs to be called off") and the approval's. */
const PASSIVE_DONE = '(cancel{1,2}ed|called\\s+off|scrapped|voided|killed|approved|signed\\s+off)';
const PASSIVE = new RegExp(`\\b(?:needs?|has|have|got)\\s+to\\s+be\\s+${PASSIVE_DONE}\\b|\\b(?:must|should)\\s+be\\s+${PASSIVE_DONE}\\b`, 'i');
/**
 * nlu7: the same asked as a favour, also as a question: "can we get it approved?", "could you have PO-1786
 * cancelled", "any chance PO-1786 can still be called off?".
 */
const CAUSATIVE = new RegExp(
  `(?:^|[,;.!?–—-]\\s*)(?:(?:can|could|would)\\s+(?:you|u|we|someone|somebody)\\s+(?:please\\s+|pls\\s+|just\\s+)?(?:get|have)\\s+(?:it|this|that|this\\s+one|PO[- ]?\\d+)\\s+${PASSIVE_DONE}\\b|` +
    `any\\s+chance\\s+(?:it|this|that|this\\s+one|PO[- ]?\\d+)\\s+(?:can|could)\\s+(?:still\\s+)?be\\s+${PASSIVE_DONE}\\b)`,
  'i',
);
const NEGATED_TAIL = /\b(?:not|never|no|\w+n't|dont|doesnt)\s+(?:\w+\s+)?$/i;
export function passiveInstruction(text: string): 'procurement.cancel_order' | 'procurement.approve_order' | undefined {
  const c = CAUSATIVE.exec(text);
  const m = c ?? PASSIVE.exec(text);
  if (!m || (!c && IS_QUESTION.test(text)) || NEGATED_TAIL.test(text.slice(0, m.index))) return undefined;
  const done = m.slice(1).find((g) => g !== undefined)!;
  return /^approved|^signed/i.test(done) ? 'procurement.approve_order' : 'procurement.cancel_order';
}


/**
 * nlu5: "i raised PO-1693 on monday and heard nothing since, is it stuck somewhere?" — a message that
 * ends in a question about the order's state and never says the write's verb: the model read a
 * cancel (or an approval) into "stuck", "nothing since"; the question asks for the status.
 */
const STATE_QUESTION = /(?:^|[,;.!?–—-]\s*)(?:and\s+|so\s+|but\s+)?(?:is|are|was|were|has|have|had|did|does|where|what|when|why|how\s+come|any\s+(?:news|update))\b[^,;.!?]*\?+\s*$/i;
/** The writes a PO question ending in "is it stuck?" is misread as (cues.ts WRITE_ACTION_WORDS has the words of all). */
const STATE_ONLY = new Set(['procurement.cancel_order', 'procurement.approve_order']);
export function asksStateOnly(text: string, intent: string): boolean {
  const verbs = STATE_ONLY.has(intent) ? WRITE_ACTION_WORDS[intent] : undefined;
  return !!verbs && STATE_QUESTION.test(text.trim()) && !verbs.test(text);
}
