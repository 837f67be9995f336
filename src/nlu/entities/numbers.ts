/** Number parsing shared by the quantity and money extractors. */

/** Digits with optional thousands separators and decimals: 500, 1,000, 10,000, 99.50, 1.2 */
export const NUMBER_PATTERN = '(?:\\d{1,3}(?:,\\d{3})+|\\d+)(?:\\.\\d+)?';

/** Parses "1,000" / "99.50" / "1.2" with an optional k/m suffix ("1.2k" → 1200). */
export function parseNumber(digits: string, suffix?: string): number {
  const base = Number(digits.replace(/,/g, ''));
  const mult = !suffix ? 1 : /^k$/i.test(suffix) ? 1_000 : /^(m|mm|mn)$/i.test(suffix) ? 1_000_000 : 1;
  // Round away float noise from the multiplication (1.2 * 1000 = 1199.9999999999998).
  return Math.round(base * mult * 1e6) / 1e6;
}

const SMALL: Record<string, number> = {
  zero: 0, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10,
  eleven: 11, twelve: 12, thirteen: 13, fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17,
  eighteen: 18, nineteen: 19, twenty: 20, thirty: 30, forty: 40, fifty: 50, sixty: 60, seventy: 70,
  eighty: 80, ninety: 90,
};

/** Before a lone "one": it stands for a thing named before, it counts nothing. */
const PRONOUN_ONE = /\b(?:that|this|the|which|each|every|any|no|other|another|last|first|same|right|wrong|new|old|big|small|only)\s+$/i;

const MULTIPLIERS: Record<string, number> = { hundred: 100, thousand: 1000, dozen: 12 };

export interface WordNumber {
  value: number;
  start: number;
  end: number;
  /** True when "dozen" was part of it ("a dozen", "two dozen"). */
  dozen: boolean;
}

/**
 * Finds spelled-out numbers: "ten", "twenty five", "twenty-five", "a hundred", "two hundred",
 * "a dozen", "two dozen", "one thousand two hundred". "a"/"an" count as 1 only before a multiplier.
 */
export function findWordNumbers(text: string): WordNumber[] {
  const out: WordNumber[] = [];
  const word = /[A-Za-z]+/g;
  const tokens: { w: string; start: number; end: number }[] = [];
  for (const m of text.matchAll(word)) tokens.push({ w: m[0].toLowerCase(), start: m.index, end: m.index + m[0].length });
  let i = 0;
  while (i < tokens.length) {
    const first = tokens[i]!;
    // nlu6: "a couple of pallets", "couple of SKU-1001" → 2 (the span ends after "of").
    const c = first.w === 'a' ? i + 1 : i;
    if (tokens[c]?.w === 'couple' && tokens[c + 1]?.w === 'of' && /^\s+$/.test(text.slice(tokens[c]!.end, tokens[c + 1]!.start)) && (c === i || /^\s+$/.test(text.slice(first.end, tokens[c]!.start)))) {
      out.push({ value: 2, start: first.start, end: tokens[c + 1]!.end, dozen: false });
      i = c + 2;
      continue;
    }
    const isArticle = (first.w === 'a' || first.w === 'an') && MULTIPLIERS[tokens[i + 1]?.w ?? ''] !== undefined;
    if (SMALL[first.w] === undefined && !isArticle) {
      i++;
      continue;
    }
    let total = 0;
    let current = 0;
    let dozen = false;
    let j = i;
    let lastEnd = first.end;
    while (j < tokens.length) {
      const t = tokens[j]!;
      // Only whitespace, "-" or "and" may separate the words of one number.
      if (j > i) {
        const gap = text.slice(lastEnd, t.start);
        if (!/^[\s-]+$/.test(gap)) break;
      }
      if (j === i && isArticle) current = 1;
      else if (SMALL[t.w] !== undefined) {
        const v = SMALL[t.w]!;
        const rem = current % 100;
        if (rem === 0) current += v;
        else if (rem >= 20 && rem % 10 === 0 && v < 10) current += v;
        else break;
      } else if (t.w === 'hundred') current = (current || 1) * 100;
      else if (t.w === 'thousand') {
        total += (current || 1) * 1000;
        current = 0;
      } else if (t.w === 'dozen') {
        current = (current || 1) * 12;
        dozen = true;
      } else if (t.w === 'and' && j > i && SMALL[tokens[j + 1]?.w ?? ''] !== undefined) {
        lastEnd = t.end;
        j++;
        continue;
      } else break;
      lastEnd = t.end;
      j++;
    }
    // nlu6: "one" after a determiner is a pronoun ("that one", "the one from Acme", "which one"), no count.
    if (j === i + 1 && first.w === 'one' && PRONOUN_ONE.test(text.slice(0, first.start))) {
      i++;
      continue;
    }
    if (j > i) {
      out.push({ value: total + current, start: first.start, end: lastEnd, dozen });
      i = j;
    } else i++;
  }
  return out;
}
