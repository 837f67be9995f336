/**
 * Words whose spelling matters to the rules and the model: the cue words of `cues.ts` (rejections,
 * negations, prices, other departments' work) and the domain words the model learned our intents
 * from. They are typo-correction targets (`spelling.ts`) beside every word of the training split
 * (nlu5), unless the typed word is itself an English word (`spellingLexicon.ts`).
 *
 * Keep lower case. After changing these lists, regenerate the lexicon:
 * `npx tsx training/eval/spelling_neighbours.ts` (needs Debian's `wamerican` and `wbritish` at dev time only).
 */
export const CUE_WORDS: readonly string[] = [
  // our write verbs (cues.ts WRITE_VERB, CORRECTION) and the decision
  'order', 'reorder', 'purchase', 'cancel', 'approve', 'approving', 'reject', 'rejecting', 'decline', 'declining',
  'denying', 'refuse', 'refusing', 'disapprove', 'submit', 'declare', 'receive', 'transfer', 'relocate',
  // negations
  'never', 'should', 'shouldn\'t', 'cannot', 'please', 'going', 'trying', 'asking', 'longer', 'instead', 'rather',
  // prices
  'price', 'prices', 'priced', 'pricing', 'quote',
  // other departments (cues.ts OTHER_DEPARTMENT)
  'invoice', 'client', 'clients', 'customer', 'customers', 'quotation', 'refund', 'vacation', 'holiday', 'payroll',
  'payslip', 'salary', 'salaries', 'onboarding', 'employee', 'laptop', 'computer', 'password', 'helpdesk',
  'software', 'licence', 'license', 'mailbox', 'expense', 'expenses', 'reimburse', 'reimbursement', 'vendor',
  'supplier', 'payment', 'budget', 'marketing', 'campaign', 'newsletter', 'allowance', 'suitcase', 'luggage',
];

/** Words of our intents the model keys on (the training templates' vocabulary). */
export const DOMAIN_WORDS: readonly string[] = [
  'orders', 'status', 'shipment', 'shipments', 'customs', 'warehouse', 'warehouses', 'declaration',
  'declarations', 'delivery', 'deliveries', 'goods', 'stock', 'inventory', 'cleared', 'clearance', 'pending',
  'approval', 'approved', 'cancelled', 'canceled', 'received', 'container', 'pallets', 'units', 'automations',
  'suppliers', 'purchase', 'quantity', 'tariff', 'classify', 'classification', 'running', 'automation', 'failed',
  'where', 'which', 'there', 'thanks', 'hello', 'create', 'raise', 'place', 'check', 'track',
];

/**
 * Short words that are never a correction's result but block one: "hellp" is one edit from "help"
 * and from "hello", so it is left alone rather than guessed.
 */
export const SHORT_WORDS: readonly string[] = ['help', 'ship', 'move', 'cost', 'item', 'need', 'want', 'hold', 'file', 'show', 'list', 'send'];

/**
 * Words of our work that no dictionary has and a user types on purpose: never read as a typo
 * ("approver" is not "approve", "checkin" is not "checking"). Regenerate the lexicon after a change.
 */
export const NOT_TYPOS: readonly string[] = ['approver', 'approvers', 'checkin', 'checkins', 'putaway', 'reorder', 'restock', 'hola', 'bots', 'skus', 'todo', 'heya'];

export const VOCABULARY: readonly string[] = [...new Set([...CUE_WORDS, ...DOMAIN_WORDS])];
