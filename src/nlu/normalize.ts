/**
 * Casing normalisation of the model's input (entities are still read from the original text).
 * Chat casing says little about intent, but the BPE splits "HELP" and "Show" into other pieces than
 * "help" and "show", and the model learned mostly lower and sentence case. Ids keep their
 * canonical upper case ("sku-1001" → "SKU-1001"), as the training data writes them.
 */
export type CasingMode = 'none' | 'lower' | 'shouting';

const ID = /\b(sku|po|sh|cd|wh)([- ]?)(\d+|(?<=wh-?)[a-z])\b/gi;
const WORD = /\p{L}+/gu;

/** ALL CAPS or Title Case (most words start upper case): casing that carries no meaning. */
export function isShouting(text: string): boolean {
  const words = (text.replace(ID, ' ').match(WORD) ?? []).filter((w) => w.length >= 2);
  if (words.length === 0) return false;
  const allCaps = words.filter((w) => w === w.toUpperCase() && w !== w.toLowerCase()).length;
  const capitalised = words.filter((w) => w[0] !== w[0]!.toLowerCase()).length;
  return allCaps / words.length >= 0.6 || (words.length >= 2 && capitalised / words.length >= 0.6);
}

export function normalizeCasing(text: string, mode: CasingMode): string {
  if (mode === 'none') return text;
  if (mode === 'shouting' && !isShouting(text)) return text;
  return text.toLowerCase().replace(ID, (_, p: string, sep: string, rest: string) => `${p.toUpperCase()}${sep}${rest.toUpperCase()}`);
}

/** One number of each length, from the most frequent quantities of the training templates. */
const CANONICAL = ['5', '40', '100', '1000', '10000'];

/**
 * Entity masking for quantities: the digits of every quantity span ("301 units", "200 more
 * bearings") become one number of the same length before the model sees them, so "301" reads like
 * "300" (the BPE splits them into other pieces, and the model learned those pieces as words). Only
 * quantity spans: a bare "cancel 10452" is an order number and keeps its digits.
 */
export function maskQuantities(text: string, spans: readonly { start: number; end: number }[]): string {
  let out = '';
  let last = 0;
  for (const s of [...spans].sort((a, b) => a.start - b.start)) {
    if (s.start < last) continue;
    out += text.slice(last, s.start) + text.slice(s.start, s.end).replace(/\d[\d,]*/g, (n) => CANONICAL[Math.min(n.replace(/,/g, '').length, CANONICAL.length) - 1]!);
    last = s.end;
  }
  return out + text.slice(last);
}
