/**
 * Chat habits around the request that say nothing about it: a salutation ("Hi team,", "Morning all!",
 * "@maria"), a sign-off ("Thanks,\nMark", "cheers", "thx!"), emoji, line breaks, and the file format
 * wanted ("…to excel"). The model learned bare requests; "Hi team,\n\ncan someone pull up all open
 * POs?\n\nThanks,\nMark" read as a cancel at 0.59. Stripped from the model's input only (entities and the rules read the message as typed), and
 * only when a request of at least two words is left: "hi team" stays a greeting, "thanks!" thanks.
 */

const MENTION = '(?:@[\\w.-]+|<@[^>]+>)';
const NAME = `(?:${MENTION}|\\p{Lu}[\\p{L}'-]+)`;
const AUDIENCE = `(?:team|all|everyone|everybody|guys|folks|there|y'?all|people|bot|${NAME})`;
const SALUTATION = new RegExp(
  `^\\s*(?:(?:hi|hey|hello|hiya|howdy|yo|greetings|dear|morning|afternoon|evening|good\\s+(?:morning|afternoon|evening|day)|happy\\s+\\p{L}+day)` +
    `(?:\\s+${AUDIENCE}){0,2}\\s*(?:[,!.:;–—-]+|\\n)|${MENTION}[,:]?\\s)\\s*`,
  'iu',
);
const SIGNOFF_WORD =
  '(?:thanks(?:\\s+(?:a\\s+lot|so\\s+much|in\\s+advance|again|all|team))?|thank\\s+you(?:\\s+(?:so\\s+much|in\\s+advance))?|many\\s+thanks|thx|thnx|tnx|ty|tia|cheers|regards|kind\\s+regards|best(?:\\s+regards)?|br|appreciated|much\\s+appreciated|ta)';
/** A sign-off after the request's own punctuation or line break, optionally followed by a name on its own. */
const SIGNOFF = new RegExp(`(?:[.!?,;]\\s*|\\s*\\n\\s*|\\s+)${SIGNOFF_WORD}\\s*[!.,]*\\s*(?:(?:\\n|,)\\s*[-–—~]?\\s*\\p{Lu}[\\p{L}.'-]*(?:\\s+\\p{Lu}[\\p{L}.'-]*)?\\s*)?$`, 'iu');
const EMOJI = /(?:\p{Extended_Pictographic}|[\u{1F3FB}-\u{1F3FF}]|\u{FE0F}|\u{200D})+|:[a-z0-9_+-]+:|[:;]-?[()DPp]\B/gu;
/**
 * The file format asked for ("to excel", "a spreadsheet of", "as csv"): the Excel export serves the
 * list and stock answers (docs/skills/excel.md), but the model learned those requests without it.
 */
const FORMAT =
  /\s+(?:to|in|into|as)\s+(?:an?\s+)?(?:excel|spreadsheet|csv|xlsx|sheet)(?:\s+(?:file|sheet|doc))?\b|\b(?:an?\s+)?(?:excel|spreadsheet|csv|xlsx)(?:\s+(?:file|sheet))?\s+(?:of|with)\s+/gi;
const WORDS = /[\p{L}\p{N}]+/gu;
/**
 * What is left must look like a request of ours (a number, an id, or a word of our work): "hey, how
 * are you?" and "that's all, thanks" are small talk as a whole, and stay as typed.
 */
const REQUEST =
  /\d|\b(?:po|pos|sku|skus|orders?|purchas\w*|buy|suppliers?|vendors?|ship\w*|deliver\w*|customs|declar\w*|broker|clear\w*|hs|tariff|duty|classif\w*|stock|inventory|warehouses?|wh|bins?|pallets?|goods|units?|boxes|cases|receiv\w*|arriv\w*|transfer\w*|move|approv\w*|reject\w*|declin\w*|cancel\w*|jobs?|automations?|bots?|help|status|track\w*|file|list|show|open|pending)\b/i;

/** The request without salutation, sign-off, emoji and line breaks; the text itself when little would be left. */
export function stripChatNoise(text: string): string {
  let t = text.replace(EMOJI, ' ').replace(FORMAT, (m) => (/^\s/.test(m) ? '' : ' '));
  for (let i = 0; i < 2; i++) t = t.replace(SALUTATION, '');
  t = t.replace(SIGNOFF, (m) => (/^[?]/.test(m.trimStart()) ? '?' : ''));
  t = t.replace(/\s*\n+\s*/g, ' ').replace(/\s{2,}/g, ' ').trim();
  return (t.match(WORDS) ?? []).length >= 2 && REQUEST.test(t) ? t : text;
}
