/**
 * "has it cleared?" right after "where is SH-2001?": a reference ("it", "that one", "this order",
 * "the shipment") stands for the record the conversation was just about. The conversation keeps the
 * last purchase orders, shipments, declarations and products its messages named, for a short while
 * (RECENT_TURNS turns and RECENT_TTL_MS), and a message whose intent needs one of those types, names
 * none, and refers to one gets the most recent of the right type. Another type is never used ("has it
 * cleared?" after a PO asks which shipment), and nothing is guessed without a reference word.
 */

/** Entities remembered across turns: the records a follow-up can point back to. */
const REMEMBERED = ['purchase_order', 'shipment', 'declaration', 'sku'] as const;
type RememberedType = (typeof REMEMBERED)[number];

/** What each intent needs, most wanted first (declaration_status takes a shipment or a declaration). */
const NEEDS: Readonly<Record<string, readonly RememberedType[]>> = {
  'procurement.order_status': ['purchase_order'],
  'procurement.cancel_order': ['purchase_order'],
  'procurement.approve_order': ['purchase_order'],
  'customs.declaration_status': ['shipment', 'declaration'],
  'customs.file_declaration': ['shipment'],
  'storage.receive_goods': ['purchase_order', 'shipment'],
  'storage.stock_level': ['sku'],
  // "what does it cost?" after a product (nlu/decision.ts routes price questions there)
  'procurement.product_price': ['sku'],
};

/**
 * A reference, and the one type a noun in it names ("the shipment" is never a PO). "the/this order"
 * counts only at the end of a clause or before a status word: "cancel the order from Globex"
 * describes another order than the one just discussed, and is left to the dialog to ask about.
 */
const NOUN = 'order|po|purchase\\s+order|shipment|container|consignment|declaration|product|item|sku|article';
const CLAUSE_END = '(?=(?:\\s*(?:[?.!,;]|$)|\\s+(?:please|pls|again|now|yet|too|then|is|was|has|been|still|approved|cleared|arrived|shipped|cancell?ed|received|status)\\b))';
const REFERENCE = new RegExp(
  `\\b(?:(?:that|this)\\s+one|its?|(?:the|that|this|same)\\s+(${NOUN})${CLAUSE_END}|(?:that|this)(?!\\s+(?:${NOUN})\\b))\\b`,
  'i',
);
const NOUN_TYPE: Readonly<Record<string, RememberedType>> = {
  order: 'purchase_order',
  po: 'purchase_order',
  'purchase order': 'purchase_order',
  shipment: 'shipment',
  container: 'shipment',
  consignment: 'shipment',
  declaration: 'declaration',
  product: 'sku',
  item: 'sku',
  sku: 'sku',
  article: 'sku',
};

export const RECENT_TURNS = 5;
export const RECENT_TTL_MS = 10 * 60_000;

export interface RecentEntity {
  type: RememberedType;
  value: string;
  /** The conversation's turn number and the time (ms) it was last named or resolved. */
  turn: number;
  at: number;
}

/** The part of a conversation's state this module reads and writes. */
export interface RecentEntitiesState {
  recentEntities?: RecentEntity[];
}

export interface ContextEntity {
  type: string;
  value: unknown;
  text: string;
  start: number;
  end: number;
}

export interface RecentTurn {
  intent?: string;
  text: string;
  entities: readonly ContextEntity[];
}

export interface ResolveOptions {
  /** This message's turn number (counts every message of the conversation). */
  turn: number;
  now: number;
  /** False while a dialog is asking its own question: remember, but add nothing. */
  resolve?: boolean;
}

const isRemembered = (type: string): type is RememberedType => (REMEMBERED as readonly string[]).includes(type);

/**
 * The message's entities, plus the referred-to one when it resolves; updates `state` (expired
 * entries dropped, this message's records remembered).
 */
export function withRecentEntities<E extends ContextEntity>(state: RecentEntitiesState, message: RecentTurn & { entities: readonly E[] }, options: ResolveOptions): (E | ContextEntity)[] {
  let fresh = (state.recentEntities ?? []).filter((e) => options.turn - e.turn <= RECENT_TURNS && options.now - e.at <= RECENT_TTL_MS);
  const out: (E | ContextEntity)[] = [...message.entities];
  const resolved = options.resolve === false ? undefined : resolve(fresh, message, options.turn);
  if (resolved) out.push(resolved);
  else if (options.resolve !== false) fresh = forgetDescribed(fresh, message);
  const named = out.filter((e) => isRemembered(e.type) && typeof e.value === 'string');
  const remembered = new Map(fresh.map((e) => [`${e.type}:${e.value}`, e]));
  for (const e of named) remembered.set(`${e.type}:${e.value as string}`, { type: e.type as RememberedType, value: e.value as string, turn: options.turn, at: options.now });
  // Newest last, a few per type is plenty; nothing stored for a conversation that named no record.
  const kept = [...remembered.values()].sort((a, b) => a.turn - b.turn || a.at - b.at).slice(-8);
  if (kept.length > 0) state.recentEntities = kept;
  else delete state.recentEntities;
  return out;
}

/**
 * A message that asks about a record of a type by other means than an id or a reference ("has the
 * Frankfurt shipment cleared?") moves the conversation to a record this module cannot name: the
 * remembered ones of that type are stale from then on, and a later "it" must ask, not guess.
 */
function forgetDescribed(recent: RecentEntity[], message: RecentTurn): RecentEntity[] {
  const needs = message.intent ? NEEDS[message.intent] : undefined;
  if (!needs || message.entities.some((e) => (needs as readonly string[]).includes(e.type))) return recent;
  return recent.filter((e) => !needs.includes(e.type));
}

function resolve(recent: readonly RecentEntity[], message: RecentTurn, turn: number): ContextEntity | undefined {
  const needs = message.intent ? NEEDS[message.intent] : undefined;
  if (!needs || message.entities.some((e) => (needs as readonly string[]).includes(e.type))) return undefined;
  const m = REFERENCE.exec(message.text);
  if (!m) return undefined;
  const noun = m[1]?.toLowerCase().replace(/\s+/g, ' ');
  const wanted = noun ? needs.filter((t) => t === NOUN_TYPE[noun]) : needs;
  // "the container" may describe any container; it names the one just discussed only right after
  // it was named. A pronoun ("it", "that one") reaches back RECENT_TURNS.
  const last = [...recent].reverse().find((e) => wanted.includes(e.type) && (!noun || turn - e.turn <= 1));
  if (!last) return undefined;
  return { type: last.type, value: last.value, text: m[0], start: m.index, end: m.index + m[0].length };
}
