import type { DecidingRule } from '../types.js';

/**
 * The confidence an intent carries when a runtime rule chose it (writeGuard.ts `ruled`): how often the
 * rule was right where it fired on the developer-readable sets (val and test splits, independent,
 * dev_chat, dev_chat2, each as written and in UPPER / Title / lower case and with one typo;
 * `training/eval/rule_precision.ts`, 2026-12-07 11:12 UTC, final rules), (right + 1) / (fired + 2) rounded down to 0.05.
 * Optimistic: the rules were written while reading dev_chat, so these are upper bounds. The model's probability of such an intent is often low — that is why the rule was needed —
 * and a dialog ignores a new intent below 0.5 (SlotFillingDialog, ConfirmActionDialog), so a
 * rejection typed in the middle of another dialog would not be heard.
 */
export const RULE_CONFIDENCE: Readonly<Record<DecidingRule, number>> = {
  rejection: 0.95, // 145 of 145
  approval: 0.9, // 15 of 15
  write_question: 0.9, // 9 of 9
  customs_code: 0.9, // 15 of 15
  record_read: 0.85, // 15 of 16
  passive: 0.85, // 5 of 5
  named_action: 0.9, // 10 of 10
  stock_and_price: 0.8, // 4 of 4
};

export function ruleConfidence(rule: DecidingRule): number {
  return RULE_CONFIDENCE[rule];
}
