/**
 * Words that change what a message asks for, whatever the model's intent: a negated write ("don't
 * order…"), a rejection ("decline PO-1102") and the vocabulary of other departments' work that
 * shares words with ours ("invoice our customer", "expense report"). Pure functions of the text.
 */

/** Verbs that start one of our writes (create, cancel, approve/reject, file, receive, move). */
const WRITE_VERB =
  "(?:order|re-?order|buy|purchase|raise|place|get|book|cancel|kill|scrap|void|drop|approve|sign\\s+off|reject|decline|file|submit|lodge|declare|receive|check\\s+in|move|transfer|shift|relocate|send|ship|do\\s+(?:anything|it))";
const NEGATOR =
  "(?:don'?t|dont|do\\s+not|does\\s+not|doesn'?t|didn'?t|did\\s+not|won'?t|will\\s+not|never|no\\s+need\\s+to|not\\s+going\\s+to|not\\s+trying\\s+to|not\\s+asking\\s+(?:you\\s+)?to|no\\s+longer\\s+(?:want|need)\\s+to|shouldn'?t|should\\s+not|please\\s+don'?t|hold\\s+off\\s+on)";
/** "don't order …", "do not cancel", "no need to file", "I don't want to order anything", "not going to buy". */
const NEGATED_WRITE = new RegExp(
  `\\b${NEGATOR}\\s+(?:(?:want|need|have|wish|mean|plan|intend)\\s+(?:you\\s+)?to\\s+|(?:you\\s+|we\\s+|me\\s+|it\\s+)?(?:to\\s+)?|(?:actually|really|yet|just|go\\s+ahead\\s+and)\\s+)?${WRITE_VERB}\\b`,
  'i',
);
/** After a negated write, what the user does want: "…, just tell me where it is", "…, only checking the price". */
const REST = /(?:[,;.!?-]\s*|\s)(?:just|only|but|instead|rather)\b\s*(.*)$/i;

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

export function findNegatedWrite(text: string): NegatedWrite | undefined {
  const m = NEGATED_WRITE.exec(text);
  if (!m) return undefined;
  const after = text.slice(m.index + m[0].length);
  if (CORRECTION.test(after)) return undefined;
  const rest = REST.exec(after)?.[1]?.trim();
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
  "disapprove|veto|thumbs\\s+down\\s+(?:on|for|to))";
const REJECT = new RegExp(`\\b${REJECT_VERB}\\b`, 'i');
/** The message starts with the refusal (an instruction, not a question about one). */
const REJECT_FIRST = new RegExp(`^\\s*(?:(?:please|pls|plz|ok|okay|yeah|no|nope|hmm|sorry)[,!.]?\\s+)*(?:i\\s+|we\\s+)?${REJECT_VERB}\\b`, 'i');

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
  return m ? { start: m.index, end: m.index + m[0].length, leading: REJECT_FIRST.test(text) } : undefined;
}

/**
 * A question about what something costs ("what does SKU-1001 cost?", "price of the gloves"): we
 * have no price answer, and it is neither an HS-code search nor an order. Stock questions that also
 * ask the price ("how many … and what do they cost") stay stock questions.
 */
const PRICE_QUESTION =
  /\b(?:what(?:'s|\s+is|\s+are|\s+does|\s+do|\s+would|\s+will)?|how\s+much)\b[^.?!]{0,60}?\b(?:cost|costs|price|prices|priced|pricing)\b|\b(?:price|cost|pricing)\s+(?:of|for|per)\b|\bhow\s+much\s+(?:is|are|for|does|do)\b|\bunit\s+price\b|\bquote\s+me\b/i;
const STOCK_WORDS = /\b(?:stock|in\s+stock|on\s+hand|how\s+many|inventory|left|available)\b/i;
/** What customs will charge is a customs question (duty rate, HS code), not a price question. */
const DUTY_WORDS = /\b(?:duty|duties|tariff|tariffs|customs|hs\s+code|import\s+tax|vat)\b/i;

export function isPriceQuestion(text: string): boolean {
  return PRICE_QUESTION.test(text) && !STOCK_WORDS.test(text) && !DUTY_WORDS.test(text);
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
    ].join('|') +
    ')\\b',
  'iu',
);

export function findOtherDepartment(text: string): Cue | undefined {
  const m = OTHER_DEPARTMENT.exec(text);
  return m ? { start: m.index, end: m.index + m[0].length } : undefined;
}
