/** Plain-text replies of the assistant persona; kept apart from the handler so wording is easy to change. */

export const HELP_TEXT = [
  "I'm the operations assistant. I can help with:",
  '• Procurement — "order 500 units of SKU-1002 from Acme Corp", "status of PO-1001", "my open orders"',
  '• Customs — "file a declaration for SH-2001", "has SH-2001 cleared?", "HS code for nitrile gloves"',
  '• Storage — "receive goods for SH-2003", "how many SKU-1001 in WH-B", "move 20 pallets from WH-B to WH-C"',
  '• Spreadsheets — send an .xlsx of order lines or a receiving list; "export my open orders", "export stock for WH-B"',
  '• Automations — "what\'s still running?"',
].join('\n');

export const WELCOME_TEXT = `Hello! ${HELP_TEXT}\nType "help" at any time.`;

export const NOT_SURE_TEXT =
  "I'm not sure what you mean, so I haven't done anything. Try rephrasing, or type \"help\" to see what I can do.";

/** The NLU's language check found another language (issue 14): nothing was done. */
export const NON_ENGLISH_TEXT =
  "Sorry, I only understand English for now, so I haven't done anything. Please write your request in English, or type \"help\" to see what I can do.";

export const NON_TEXT_TEXT = 'I can only read text messages for now.';

export const GREETING_TEXT = 'Hi! What can I do for you? Type "help" to see what I can do.';

export const THANKS_TEXT = "You're welcome!";

/** The inference pool is saturated (queue full or request timed out): nothing was done. */
export const BUSY_TEXT = "I'm busy right now and couldn't read your message. Please try again in a moment.";

/** Earlier messages of the same conversation are still being handled (turn lock wait timed out): nothing was done. */
export const CONVERSATION_BUSY_TEXT =
  "I'm still working on your earlier messages in this conversation, so I haven't done anything with this one. Please send it again in a moment.";

const INTENT_DESCRIPTIONS: Record<string, string> = {
  'procurement.create_order': 'raise a purchase order',
  'procurement.order_status': 'check the status of a purchase order',
  'procurement.cancel_order': 'cancel a purchase order',
  'procurement.list_orders': 'list purchase orders',
  'procurement.approve_order': 'approve a purchase order',
  'customs.file_declaration': 'file a customs declaration',
  'customs.declaration_status': 'check a customs declaration',
  'customs.classify_goods': 'find an HS code',
  'storage.receive_goods': 'receive goods into a warehouse',
  'storage.stock_level': 'check stock levels',
  'storage.transfer_stock': 'transfer stock',
  'automation.list_jobs': 'see your automation jobs',
};

/** Honest answer for intents whose skill module has not landed yet. */
export function skillComingText(intent: string): string {
  const what = INTENT_DESCRIPTIONS[intent] ?? intent;
  return `I understood that you want to ${what}, but that skill isn't available yet, so nothing was done.`;
}
