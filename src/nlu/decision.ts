/** The decision intent and the action its `decision=reject` slot runs (src/skills/procurement/actions/decideOrder.ts). */
export const DECISION_INTENT = 'procurement.approve_order';
export const REJECT_ACTION = 'procurement.reject_order';

/** True when the NLU read a refusal: approve_order with a `decision` entity of value `reject`. */
export function rejectsOrder(intent: string | undefined, entities: readonly { type: string; value: unknown }[]): boolean {
  return intent === DECISION_INTENT && entities.some((e) => e.type === 'decision' && e.value === 'reject');
}
