/** The decision intent and the action its `decision=reject` slot runs (src/skills/procurement/actions/decideOrder.ts). */
export const DECISION_INTENT = 'procurement.approve_order';
export const REJECT_ACTION = 'procurement.reject_order';

/** True when the NLU read a refusal: approve_order with a `decision` entity of value `reject`. */
export function rejectsOrder(intent: string | undefined, entities: readonly { type: string; value: unknown }[]): boolean {
  return intent === DECISION_INTENT && entities.some((e) => e.type === 'decision' && e.value === 'reject');
}

/** Not a model label: a price question the rules kept out of scope, answered by the catalog-price read action. */
export const PRICE_INTENT = 'procurement.product_price';

/**
 * The intent the bot acts on: the NLU's, except that a price question (out_of_scope with reason
 * `price_question`) goes to the catalog-price answer. Only ever a read.
 */
export function routedIntent(result: { intent: string; fallback?: { reason: string } }): string {
  return result.intent === 'out_of_scope' && result.fallback?.reason === 'price_question' ? PRICE_INTENT : result.intent;
}
