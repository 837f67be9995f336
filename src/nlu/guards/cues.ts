/**
 * Words that change what a message asks for, whatever the model's intent: a negated write ("don't
 * order…"), a rejection ("decline PO-1102") and the vocabulary of other departments' work that
 * shares words with ours ("invoice our customer", "expense report"). Pure functions of the text.
 */

/** Verbs that start one of our writes (create, cancel, approve/reject, file, receive, move), also as "-ing" forms. */
const WRITE_VERB =
  "(?:creat(?:e|ing)|order(?:ing)?|re-?order(?:ing)?|buy(?:ing)?|purchas(?:e|ing)|rais(?:e|ing)|plac(?:e|ing)|get(?:ting)?|book(?:ing)?|cancel(?:l?ing)?|kill(?:ing)?|scrap(?:ping)?|void(?:ing)?|drop(?:ping)?|approv(?:e|ing)|sign(?:ing)?\\s+off|reject(?:ing)?|declin(?:e|ing)|fil(?:e|ing)|submit(?:ting)?|lodg(?:e|ing)|declar(?:e|ing)|receiv(?:e|ing)|check(?:ing)?\\s+in|mov(?:e|ing)|transfer(?:ring)?|shift(?:ing)?|relocat(?:e|ing)|send(?:ing)?|ship(?:ping)?|do(?:ing)?\\s+(?:anything|it))";
/**
 * Negators, also in chat's looser forms: "not ordering", "won't be ordering", "don't bother filing",
 * "nobody should cancel". A bare "not" counts only right before a write verb (see NEGATED_WRITE).
 */
const NEGATOR =
  "(?:don'?t|dont|do\\s+not|does\\s+not|doesn'?t|didn'?t|did\\s+not|won'?t|will\\s+not|never|not|no\\s+need\\s+to|not\\s+going\\s+to|not\\s+trying\\s+to|not\\s+asking\\s+(?:you\\s+)?to|no\\s+longer\\s+(?:want|need)\\s+to|shouldn'?t|should\\s+not|please\\s+don'?t|hold\\s+off\\s+(?:on|with)|(?:nobody|no\\s+one)\\s+(?:should|needs\\s+to|has\\s+to))";
/** Words between the negator and the verb: "don't bother filing", "won't be ordering", "not yet cancelling". */
const BETWEEN = "(?:(?:bother|be|yet|even|really|actually)\\s+(?:with\\s+)?)?";
/** "don't order …", "do not cancel", "no need to file", "I don't want to order anything", "not going to buy". */
const NEGATED_WRITE = new RegExp(
  `\\b${NEGATOR}\\s+${BETWEEN}(?:(?:want|need|have|wish|mean|plan|intend)\\s+(?:you\\s+)?to\\s+|(?:you\\s+|we\\s+|me\\s+|it\\s+)?(?:to\\s+)?|(?:actually|really|yet|just|go\\s+ahead\\s+and)\\s+)?${WRITE_VERB}\\b`,
  'i',
);
/** After a negated write, what the user does want: "…, just tell me where it is", "…, only checking the price". */
const REST = /(?:[,;.!?-]\s*|\s)(?:just|only|but|instead|rather)\b\s*(.*)$/i;
/** …or a question in its own clause: "not cancelling PO-1102 after all, what's its status?". */
const QUESTION_REST =
  /[,;.!?-]\s*((?:so\s+|and\s+)?(?:what|what's|whats|where|where's|how|when|which|who|is|are|was|were|do|does|did|can|could|has|have|any)\b.*)$/i;

export interface NegatedWrite {
  /** The negated phrase ("don't cancel"). */
  phrase: string;
  /** What follows "just / only / but / instead", if anything: the part of the message to answer. */
  rest?: string;
  /** The message without the negated phrase ("PO-1145, just tell me where it is"). */
  without: string;
}

/** "don't send PO-10477, cancel it": the negation corrects the verb, the write itself is wanted. */
const CORRECTION = new RegExp(
  '[,;.!]\\s*(?:(?:just|instead|rather|please|pls)\\s+)?(?:order|re-?order|buy|purchase|raise|place|cancel|approve|reject|decline|file|submit|lodge|receive|move|transfer)\\b',
  'i',
);

/**
 * "don't cancel PO-1131, cancel PO-1132 instead": a negated write corrected in the same message.
 * Returns where the correcting clause starts (its punctuation), or undefined.
 */
export function findCorrection(text: string): number | undefined {
  const m = NEGATED_WRITE.exec(text);
  if (!m) return undefined;
  const from = m.index + m[0].length;
  const c = CORRECTION.exec(text.slice(from));
  return c ? from + c.index : undefined;
}

export function findNegatedWrite(text: string): NegatedWrite | undefined {
  const m = NEGATED_WRITE.exec(text);
  if (!m) return undefined;
  const after = text.slice(m.index + m[0].length);
  if (CORRECTION.test(after)) return undefined;
  const rest = (REST.exec(after) ?? QUESTION_REST.exec(after))?.[1]?.trim();
  const without = (text.slice(0, m.index) + after).replace(/^[\s,;.!-]+/, '');
  return rest ? { phrase: m[0], rest, without } : { phrase: m[0], without };
}

/**
 * A refusal of an order waiting for approval: "reject PO-1102", "decline it", "I won't approve that".
 * Present tense only: "was PO-1102 rejected?" and "rejected orders" ask about orders, they decide nothing.
 */
const REJECT_VERB =
  "(?:reject(?:ing)?|declin(?:e|ing)|deny(?:ing)?|refus(?:e|ing)|turn(?:ing)?\\s+(?:it\\s+|that\\s+|this\\s+|them\\s+)?down|" +
  "say\\s+no\\s+to|(?:can'?t|cannot|won'?t|will\\s+not|not\\s+going\\s+to|wouldn'?t)\\s+(?:be\\s+)?approv(?:e|ing)|" +
  "disapprove|veto|thumbs\\s+down\\s+(?:on|for|to)|" +
  // chat's refusals: "not approving PO-1102", "not signing off on it", "pass on PO-1102", "no go on it", "nix it"
  "(?:i'?m\\s+|we'?re\\s+|am\\s+|are\\s+)?not\\s+(?:approving|signing\\s+off|ok(?:ay)?ing|green-?lighting)|" +
  "(?:can'?t|cannot|won'?t|will\\s+not|not\\s+going\\s+to|wouldn'?t)\\s+sign\\s+off|" +
  "(?:i'?ll\\s+|we'?ll\\s+|going\\s+to\\s+|gonna\\s+|have\\s+to\\s+|must\\s+)pass\\s+on|no[-\\s]go\\s+(?:on|for)|nix|shoot\\s+(?:it\\s+|that\\s+|this\\s+)?down|knock\\s+(?:it\\s+|that\\s+|this\\s+)?back)";
const REJECT = new RegExp(`\\b${REJECT_VERB}\\b`, 'i');
/** The message starts with the refusal (an instruction, not a question about one). */
/** A request to the assistant before the verb still makes the refusal the message's instruction. */
const ASK = "(?:(?:could|can|would|will)\\s+(?:you|u|we|i)\\s+(?:please\\s+|pls\\s+|just\\s+)?|i'?d\\s+like\\s+to\\s+|i\\s+(?:want|need|have)\\s+to\\s+|we\\s+(?:want|need|have)\\s+to\\s+|let'?s\\s+|go\\s+ahead\\s+and\\s+)?";
const REJECT_FIRST = new RegExp(
  `^\\s*(?:(?:please|pls|plz|ok|okay|yeah|no|nope|hmm|sorry|hi|hey)[,!.]?\\s+)*${ASK}(?:i\\s+|we\\s+|i'?m\\s+|we'?re\\s+)?${REJECT_VERB}\\b`,
  'i',
);
/** "don't reject PO-1115, approve it": a refusal that is itself negated decides nothing by itself. */
const NEGATED_BEFORE = /(?:\b(?:don'?t|dont|do\s+not|never|no\s+need\s+to|not)\s+(?:\w+\s+)?)$/i;

export interface Cue {
  start: number;
  end: number;
}

export interface Rejection extends Cue {
  /** The message opens with it ("Decline PO-1102 please"). */
  leading: boolean;
}

export function findRejection(text: string): Rejection | undefined {
  const m = REJECT.exec(text);
  if (!m || NEGATED_BEFORE.test(text.slice(0, m.index))) return undefined;
  return { start: m.index, end: m.index + m[0].length, leading: REJECT_FIRST.test(text) };
}

/**
 * An approval given as an instruction at the start of a clause: "ok approving PO-1109 - thx", "don't
 * reject PO-1115, approve it". Used where the model was unsure or read a cancel (guardWrite).
 */
const APPROVAL = new RegExp(
  "(?:^|[,;.!?–—-]\\s*)(?:(?:ok|okay|yes|yep|sure|fine|please|pls|so|then|just|instead)[,!.]?\\s+)*(?:i'?m\\s+|we'?re\\s+|i\\s+|we\\s+)?" +
    "(approv(?:e|ing)|sign(?:ing)?\\s+off\\s+on|green-?light(?:ing)?|go(?:ing)?\\s+ahead\\s+with)\\s+(?:it|this|that|this\\s+one|PO[- ]?\\d+)\\b",
  'i',
);

export function findApproval(text: string): Cue | undefined {
  const m = APPROVAL.exec(text);
  if (!m) return undefined;
  const start = m.index + m[0].indexOf(m[1]!);
  return { start, end: start + m[1]!.length };
}

/**
 * An approver's verdict in the past participle, as a label: "PO-1102: not approved, over budget",
 * "Denied - too pricey" (not "supplier declined the terms"). Only in a statement (a question "was
 * PO-1102 rejected?" asks about one); the write guard uses it where the model read a decision or a
 * cancel, or where it is said of a named order ("PO-1117 is rejected, price is 20% too high").
 */
const VERDICT = /(?:^\s*|\bPO[- ]?\d+\s*(?:is\s+)?[:,–—-]?\s*|[:–—]\s*)((?:not\s+approved|rejected|declined|denied|refused|disapproved|vetoed)\b)/i;
const QUESTION = /\?|^\s*(?:(?:hey|hi|so|and|ok|okay)[,!]?\s+)?(?:was|were|is|are|has|have|had|did|does|do|why|when|who|which|what|how|can|could)\b/i;

export interface Verdict extends Cue {
  /** Said of a named order ("PO-1117 is rejected"), not just as a bare word. */
  onOrder: boolean;
}

export function findVerdict(text: string): Verdict | undefined {
  if (QUESTION.test(text)) return undefined;
  const m = VERDICT.exec(text);
  if (!m) return undefined;
  const start = m.index + m[0].length - m[1]!.length;
  return { start, end: start + m[1]!.length, onOrder: /^\s*PO/i.test(m[0]) };
}

/**
 * A question about what something costs ("what does SKU-1001 cost?", "price of the gloves"): we
 * have no price answer, and it is neither an HS-code search nor an order. Stock questions that also
 * ask the price ("how many … and what do they cost") stay stock questions.
 */
const PRICE_QUESTION =
  /\b(?:what(?:'s|\s+is|\s+are|\s+does|\s+do|\s+would|\s+will)?|how\s+much)\b[^.?!]{0,60}?\b(?:cost|costs|price|prices|priced|pricing)\b|\b(?:price|cost|pricing)\s+(?:of|for|per)\b|\bhow\s+much\s+(?:is|are|for|does|do)\b|\bunit\s+(?:price|cost)\b|\bquote\s+me\b|\bprice\s+check\b|\bgoing\s+rate\b|\bwhat\s+(?:(?:do|did|would|will)\s+)?(?:we|i|you)\s+(?:pay|are\s+paying|be\s+paying)\b|\b(?:is|are)\b[^.?!]{0,40}\b(?:expensive|pricey|cheap|cheaper|pricier|more\s+expensive|less\s+expensive)\b/i;
const STOCK_WORDS = /\b(?:stock|in\s+stock|on\s+hand|how\s+many|inventory|left|available)\b/i;
/** What customs will charge is a customs question (duty rate, HS code), not a price question. */
const DUTY_WORDS = /\b(?:duty|duties|tariff|tariffs|customs|hs\s+code|import\s+tax|vat)\b/i;

export function isPriceQuestion(text: string): boolean {
  return PRICE_QUESTION.test(text) && !STOCK_WORDS.test(text) && !DUTY_WORDS.test(text);
}

/** A stock question that also asks the price ("how many … and what do they cost"): a stock question (nlu5). */
export function asksStockAndPrice(text: string): boolean {
  return PRICE_QUESTION.test(text) && STOCK_WORDS.test(text) && !DUTY_WORDS.test(text);
}

/**
 * Other departments' requests that share our words: sales and customer billing, HR, IT, finance
 * (expenses, payables), marketing, personal customs allowances. A write intent is not believed when
 * one of these is in the message; a read (e.g. "status of PO-1203 for our customer") is left alone.
 */
const OTHER_DEPARTMENT = new RegExp(
  '\\b(?:' +
    [
      // sales / billing of our customers
      '(?:bill|invoice|quote|charge)\\s+(?:our\\s+|the\\s+|a\\s+|this\\s+|that\\s+)?(?:client|customer)s?',
      '(?:invoice|bill|quote|quotation|credit\\s+note|sales\\s+order)\\s+(?:to|for)\\s+(?:our\\s+|the\\s+|a\\s+)?(?:client|customer)s?',
      '(?:our|the|a|this|that)\\s+(?:client|customer)(?:\\s+\\p{Lu}\\w*)*\\s+(?:wants|needs|asked|ordered|is\\s+asking)',
      'sales\\s+(?:order|invoice|quote|pipeline|lead|deal)s?',
      'send\\s+(?:an?\\s+|the\\s+)?(?:invoice|quote|quotation|credit\\s+note)',
      'refund\\s+(?:the\\s+|our\\s+|a\\s+)?(?:client|customer)',
      // work done for a customer ("order 50 … for our customer Initech", "ship 20 … to our client")
      '(?:for|to)\\s+(?:our|the|a|this|that|one\\s+of\\s+our)\\s+(?:client|customer)s?',
      '(?:create|raise|issue|make|generate|prepare|draft|do)\\s+(?:an?\\s+|the\\s+)?(?:invoice|quote|quotation|credit\\s+note)',
      // HR
      'vacation|holiday\\s+request|annual\\s+leave|sick\\s+leave|time\\s+off|pto|payroll|payslip|salary|salaries|new\\s+hire|onboard(?:ing)?\\s+(?:a\\s+|the\\s+)?(?:new\\s+)?(?:employee|hire|starter)|performance\\s+review',
      // IT
      'my\\s+(?:laptop|computer|pc|monitor|phone)|password|vpn|it\\s+ticket|helpdesk|help\\s+desk|software\\s+licen[cs]e|mailbox|printer\\s+driver',
      // finance
      'expense\\s+(?:report|claim)s?|reimburse(?:ment)?|per\\s+diem|vendor\\s+payment|pay\\s+(?:the\\s+|our\\s+)?(?:supplier|vendor)|wire\\s+transfer|bank\\s+transfer|money\\s+transfer|transfer\\s+(?:the\\s+)?(?:funds|money|budget|\\$|€|£)|budget\\s+transfer|journal\\s+entry|accounts\\s+payable|tax\\s+return|shares?\\s+of|stock\\s+(?:options|price|market|portfolio)',
      // marketing
      'marketing\\s+campaign|newsletter|social\\s+media\\s+post|press\\s+release|ad\\s+campaign',
      // personal customs / travel
      'duty[-\\s]free\\s+allowance|my\\s+(?:suitcase|luggage|holiday|vacation)|personal\\s+(?:import|allowance|parcel)',
      'lunch|pizza|taxi|uber|hotel|train\\s+ticket|(?:a\\s+)?meeting\\s+room|conference\\s+room',
      // nlu5: other departments' records and money ("customer order SO-4452", "INV-9102", "receive the
      // payment", "paid … invoices"), budgets to approve, hiring ("looking for work", "job openings")
      'customer\\s+(?:orders?|invoices?|accounts?|statements?|payments?|returns?)|(?:SO|INV)\\s*[-#]\\s*\\d{3,}',
      '(?:receiv\\w*|collect\\w*|tak(?:e|ing))\\s+(?:the\\s+|a\\s+|their\\s+|his\\s+|her\\s+)?payments?|(?:paid|payed|pay(?:ing)?)\\b[^.?!\\n]{0,40}\\binvoices?',
      "(?:approv\\w*|sign(?:ing)?\\s+off(?:\\s+on)?|ok(?:ay)?)\\s+(?:the\\s+|our\\s+|this\\s+|that\\s+|a\\s+|my\\s+)?(?:[\\p{L}\\d'-]+\\s+){0,2}budget|budget\\s+(?:approval|request|increase|sign-?off)",
      'looking\\s+for\\s+(?:a\\s+)?(?:work|job)|job\\s+(?:openings?|applications?|postings?|vacanc(?:y|ies)|offers?|interviews?)|vacanc(?:y|ies)|(?:are\\s+we|we\\s+are|we\\x27re)\\s+hiring',
    ].join('|') +
    ')\\b',
  'iu',
);

export function findOtherDepartment(text: string): Cue | undefined {
  const m = OTHER_DEPARTMENT.exec(text);
  return m ? { start: m.index, end: m.index + m[0].length } : undefined;
}

/**
 * Words of our write work. A write intent on a message with none of these and no record, product,
 * supplier, warehouse or quantity in it ("heating in the office is off again", "sry wrong chat") is
 * the model matching the shape of a sentence, not a request of ours. A number before a word ("3
 * solar inverters") counts: products we don't know yet are still ordered by quantity.
 */
const WRITE_EVIDENCE =
  /\b\d[\d,.]*\s*(?:x\s+)?\p{L}|\b\d{4,}\b|\b(?:check|book)(?:ed|ing)?\s+(?:\w+\s+)?in\b|\bauthori[sz]\w*|\bcxl\b|\bdropped\s+off\b|\b(?:po|pos|p\.o\.|orders?|order(?:ed|ing)|re-?order\w*|purchas\w*|buy\w*|bought|procure\w*|suppl(?:y|ies|iers?)|vendors?|ship\w*|deliver\w*|customs|declar\w*|broker|clear\w*|file|filing|lodge|stock|inventory|warehouses?|bins?|docks?|pallets?|boxes|cases|crates|cartons|units?|pcs|pieces|goods|items?|received?|receiving|arriv\w*|came\s+in|book(?:ed|ing)?\s+in|check(?:ed)?\s+in|transfer\w*|move|moving|xfer|relocat\w*|approv\w*|sign\s+off|reject\w*|declin\w*|cancel\w*|void|kill|scrap|hs|tariff)\b/iu;

export function hasWriteEvidence(text: string): boolean {
  return WRITE_EVIDENCE.test(text);
}

/**
 * Words that name the action of one write intent itself: goods that "arrived" / "came in" / need
 * "booking in" are a receipt. With them (and a record or quantity) the write needs only the model's
 * global bar, not the stricter per-intent one that guards against look-alike sentences.
 */
const ACTION_EVIDENCE: Readonly<Record<string, RegExp>> = {
  // nlu4: "create an order for …", "raise a PO for …", "place a new purchase order with …"
  'procurement.create_order': /\b(?:create|creat|place|raise|open|make|put\s+in|submit|start|set\s+up)\s+(?:(?:a|an|the|one|new|fresh)\s+)*(?:purchase\s+order|order|po|p\.o\.)(?!\s*[-#]?\s*\d)\b/i,
  'storage.transfer_stock': /\b(?:move|moving|moved|transfer\w*|xfer|shift\w*|relocat\w*|put|rebin|restock)\b/i,
  'storage.receive_goods':
    /\b(?:arriv(?:ed|al)|came\s+in|showed\s+up|turned\s+up|landed|delivered|unload(?:ed|ing)?|goods[-\s]in|goods\s+receipt|gr|book(?:ed)?\s+(?:\w+\s+)?in|check(?:ed)?\s+(?:\w+\s+)?in|receive|received)\b|\bcame\s*(?:$|[,.;!])/i,
};

export function namesTheAction(intent: string, text: string): boolean {
  return ACTION_EVIDENCE[intent]?.test(text) ?? false;
}

/**
 * nlu6: "don't order new ones, just shift 30 to WH-B": the "just …" clause after a negated write
 * starts with a verb of the model's own write, and the negated phrase does not name that write. Only
 * for the writes with action words (ACTION_EVIDENCE): "don't cancel it, just shift it" never cancels.
 */
export function restNamesTheWrite(intent: string, negated: NegatedWrite): boolean {
  const evidence = ACTION_EVIDENCE[intent];
  if (!evidence || !negated.rest || namesTheAction(intent, negated.phrase)) return false;
  const rest = negated.rest.replace(/^(?:(?:please|pls|go\s+ahead\s+and|and)\s+)*/i, '');
  if (NEGATED_WRITE.test(rest)) return false;
  const m = evidence.exec(rest);
  return m !== null && m.index === 0;
}
