import { B_END, B_START, PRIORITY, makeEntity, type Candidate } from './candidate.js';
import { NUMBER_PATTERN, parseNumber } from './numbers.js';

const SYMBOLS: Record<string, string> = {
  us$: 'USD',
  $: 'USD',
  c$: 'CAD',
  ca$: 'CAD',
  a$: 'AUD',
  au$: 'AUD',
  s$: 'SGD',
  hk$: 'HKD',
  '€': 'EUR',
  '£': 'GBP',
  '¥': 'JPY',
  '₹': 'INR',
  rm: 'MYR',
};

/** ISO codes recognized in any case (they are not English words). */
const CODES_ANY_CASE = ['USD', 'EUR', 'GBP', 'JPY', 'CNY', 'RMB', 'CAD', 'AUD', 'CHF', 'MYR', 'SGD', 'HKD', 'MXN', 'BRL', 'PLN', 'SEK', 'NOK', 'DKK', 'CZK', 'KRW', 'TWD', 'THB', 'IDR', 'VND', 'ZAR', 'NZD', 'AED', 'INR'];
/** Codes that are also English words: only in capitals ("TRY 500", not "try 500"). */
const CODES_UPPER_ONLY = ['TRY'];

const WORDS: Record<string, string> = {
  dollars: 'USD',
  dollar: 'USD',
  bucks: 'USD',
  euros: 'EUR',
  euro: 'EUR',
  yen: 'JPY',
  yuan: 'CNY',
  renminbi: 'CNY',
  'pounds sterling': 'GBP',
  'british pounds': 'GBP',
};

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const symbolAlt = Object.keys(SYMBOLS)
  .sort((a, b) => b.length - a.length)
  .map(escape)
  .join('|');
const codeAlt = CODES_ANY_CASE.join('|');
const wordAlt = Object.keys(WORDS)
  .sort((a, b) => b.length - a.length)
  .map((w) => w.replace(/ /g, '\\s+'))
  .join('|');

const AMOUNT = `(${NUMBER_PATTERN})(?:\\s?(k|m|mm|mn)${B_END})?`;
const NUM_END = '(?![\\p{N}]|[.,]\\p{N})';

/** "$4,500", "US$ 1.2k", "€780", "rm 12,500" (symbol first; letters-only symbols need a boundary). */
const SYMBOL_FIRST = new RegExp(`(?<![\\p{L}\\p{N}$])(${symbolAlt})\\s?${AMOUNT}${NUM_END}`, 'giu');
/** "USD 3,400", "EUR 9,800". */
const CODE_FIRST = new RegExp(`${B_START}(${codeAlt})\\s?${AMOUNT}${NUM_END}`, 'giu');
const CODE_FIRST_UPPER = new RegExp(`${B_START}(${CODES_UPPER_ONLY.join('|')})\\s?${AMOUNT}${NUM_END}`, 'gu');
/** "1200 EUR", "5k USD", "300 dollars". */
const CODE_AFTER = new RegExp(`(?<![\\p{L}\\p{N}.,#\\-/])${AMOUNT}\\s?(${codeAlt})${B_END}`, 'giu');
const WORD_AFTER = new RegExp(`(?<![\\p{L}\\p{N}.,#\\-/])${AMOUNT}\\s?(${wordAlt})${B_END}`, 'giu');

function currencyOf(token: string): string | undefined {
  const t = token.toLowerCase().replace(/\s+/g, ' ');
  if (SYMBOLS[t]) return SYMBOLS[t];
  if (WORDS[t]) return WORDS[t];
  const code = token.toUpperCase();
  if (code === 'RMB') return 'CNY';
  if (CODES_ANY_CASE.includes(code) || CODES_UPPER_ONLY.includes(code)) return code;
  return undefined;
}

/** Money amounts with a currency. "20k" without a currency is handled via bare numbers. */
export function extractMoney(text: string): Candidate[] {
  const out: Candidate[] = [];
  const add = (m: RegExpMatchArray, cur: string, digits: string, suffix: string | undefined, priority: number): void => {
    const currency = currencyOf(cur);
    if (!currency) return;
    const start = m.index!;
    out.push({
      entity: makeEntity(text, start, start + m[0].length, 'money', { amount: parseNumber(digits, suffix), currency }),
      priority,
    });
  };
  for (const re of [SYMBOL_FIRST, CODE_FIRST, CODE_FIRST_UPPER]) {
    for (const m of text.matchAll(re)) add(m, m[1]!, m[2]!, m[3], PRIORITY.money);
  }
  for (const m of text.matchAll(CODE_AFTER)) add(m, m[3]!, m[1]!, m[2], PRIORITY.money);
  // "50 euro pallets": a currency *word* loses to a product name, so it ranks below names.
  for (const m of text.matchAll(WORD_AFTER)) add(m, m[3]!, m[1]!, m[2], PRIORITY.moneyWord);
  return out;
}
