/**
 * Public types of the NLU runtime. The bot depends on these (and on `Recognizer`) only, so tests can
 * swap the ONNX-backed pipeline for a stub.
 */

/** The 16 labels the intent model is trained on (logit order comes from the model's labels.json). */
export const INTENT_LABELS = [
  'procurement.create_order',
  'procurement.order_status',
  'procurement.cancel_order',
  'procurement.list_orders',
  'procurement.approve_order',
  'customs.file_declaration',
  'customs.declaration_status',
  'customs.classify_goods',
  'storage.receive_goods',
  'storage.stock_level',
  'storage.transfer_stock',
  'automation.list_jobs',
  'assistant.help',
  'assistant.greet',
  'assistant.thanks',
  'out_of_scope',
] as const;

export type KnownIntent = (typeof INTENT_LABELS)[number];

export const OUT_OF_SCOPE = 'out_of_scope';

/**
 * Not a model label: the language check's verdict for a message not written in English. The bot
 * answers it with "only English for now"; it never starts an action.
 */
export const NON_ENGLISH = 'assistant.non_english';

/** Intents whose automation changes something; a wrong trigger of one of these is costly. */
export const WRITE_INTENTS: readonly string[] = [
  'procurement.create_order',
  'procurement.cancel_order',
  'procurement.approve_order',
  'customs.file_declaration',
  'storage.receive_goods',
  'storage.transfer_stock',
];

export interface IntentScore {
  intent: string;
  /** Softmax probability from the model, 0..1. */
  confidence: number;
}

/**
 * Entity types:
 * - `purchase_order` value `PO-10452`, `shipment` value `SH-20931`, `declaration` value `CD-1188`
 * - `sku` value `SKU-1001` — from an explicit code ("sku 1001") or a product name ("the bearings")
 * - `warehouse` value `WH-B` — from a code ("WH-B", "warehouse B") or a name ("Dallas")
 * - `supplier` value the canonical supplier name (`Acme Corp`)
 * - `quantity` value `{ amount, unit }` (unit singular lowercase, e.g. `box`, or null)
 * - `money` value `{ amount, currency }` (ISO 4217 code, or null when only "20k" was written)
 * - `date` value ISO: `YYYY-MM-DD` when no time of day was given, else a full UTC ISO timestamp
 * - `decision` value `reject` (or `approve`): the verdict asked for with procurement.approve_order
 *   ("reject PO-1102", "decline it"); the bot runs procurement.reject_order for `reject`
 */
export type EntityType =
  | 'purchase_order'
  | 'shipment'
  | 'declaration'
  | 'sku'
  | 'warehouse'
  | 'supplier'
  | 'quantity'
  | 'money'
  | 'date'
  | 'decision';

export interface QuantityValue {
  amount: number;
  unit: string | null;
}

export interface MoneyValue {
  amount: number;
  currency: string | null;
}

export type EntityValue = string | QuantityValue | MoneyValue;

export interface Entity {
  type: EntityType;
  value: EntityValue;
  /** The matched text; always `text.slice(start, end)` of the original message. */
  text: string;
  /** UTF-16 offsets into the original message (JavaScript string indices). */
  start: number;
  end: number;
}

/** Why the out_of_scope rule overrode the model's top intent. */
export type FallbackReason =
  | 'low_confidence'
  | 'small_margin'
  | 'empty_input'
  /** A write intent below its own (stricter) threshold. */
  | 'write_guard'
  /** The message says NOT to do the write ("don't order…", "no need to cancel"). */
  | 'negated_write'
  /** Not English: answered with "only English for now", never a write. */
  | 'non_english'
  /** Another department's request sharing our words ("bill our client …", "expense report"). */
  | 'other_department'
  /** A price question ("what does SKU-1001 cost?"): no skill answers prices (not an HS-code search). */
  | 'price_question'
  /** A question about a write ("who needs to approve PO-1102?", "was it cancelled?"): the status read or out_of_scope, never the write. */
  | 'write_question'
  /** A negated order that names its replacement ("don't order from Acme, get 200 from Northwind instead"): the replacement clause's order. */
  | 'replacement'
  /** An "HS code / tariff code" question the model left out of scope: the classification read. */
  | 'customs_code'
  /** The model's first choice a write the text does not name, its second the write the text names ("create an order for …"): the second. */
  | 'named_action';

/**
 * The runtime rule that chose an intent other than the model's top one (src/nlu/guards/writeGuard.ts),
 * from words in the text: a rejection or approval cue, a question about a write, an HS-code question,
 * a named record confirming the model's unsure read, a passive instruction, a write the text names,
 * a stock question that also asks the price.
 */
export type DecidingRule = 'rejection' | 'approval' | 'write_question' | 'customs_code' | 'record_read' | 'passive' | 'named_action' | 'stock_and_price';

export interface NluResult {
  text: string;
  /** The decided intent (after the out_of_scope rule). */
  intent: string;
  /**
   * The model's probability of `intent` (so `ranking` contains `{intent, confidence}`) — except
   * where a runtime rule decided the intent (`rule`): then the rule's confidence (guards/ruleConfidence.ts),
   * at least the model's probability, so a dialog's 0.5 bar for a new intent reads the rule, not the model.
   */
  confidence: number;
  /** The runtime rule that decided `intent`, when one did (the model's own view is `ranking`). */
  rule?: DecidingRule;
  /** All labels, most probable first, as the model scored them (before the out_of_scope rule). */
  ranking: IntentScore[];
  entities: Entity[];
  /**
   * Present when a rule replaced the model's top intent: the out_of_scope rule, the language check
   * or a write guard (src/nlu/guards); `intent` there is the model's top intent.
   */
  fallback?: { reason: FallbackReason; intent: string; confidence: number };
}

export interface Recognizer {
  recognize(text: string): Promise<NluResult>;
}

export interface NluThresholds {
  /** Top probability below this → out_of_scope. */
  confidence: number;
  /** top1 − top2 below this → out_of_scope. */
  margin: number;
}

export interface NluModelInfo {
  name: string;
  modelDir: string;
  labels: string[];
  provider: string;
  thresholds: NluThresholds;
  maxLength: number;
  padTokenId: number;
  /** The raw model_card.json (whatever the training pipeline wrote), if present. */
  card?: Record<string, unknown>;
}
