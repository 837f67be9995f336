import { B_END, B_START, PRIORITY, makeEntity, type Candidate } from './candidate.js';
import { NUMBER_PATTERN, findWordNumbers, parseNumber } from './numbers.js';
import { UNIT_ALTERNATION, canonicalUnit } from './units.js';

/**
 * A number with nothing around it that says it is a quantity ("order 50 euro pallets"). Kept only
 * when a product follows it (decided by the EntityExtractor once product names are known), or, with
 * a k/m suffix and no product, read as money without currency ("a budget of 20k").
 */
export interface BareNumber {
  start: number;
  end: number;
  amount: number;
  /** "k"/"m" was written after the digits. */
  scaled: boolean;
}

export interface QuantityScan {
  candidates: Candidate[];
  bare: BareNumber[];
}

/** Not part of a longer token: no letter/digit/separator glued on either side ("A4", "PO-500", "15/07", "1.5.2"). */
const NUM_START = '(?<![\\p{L}\\p{N}#\\-/.,:$€£¥])';
const NUM_END = '(?![\\p{N}]|[.,/:\\-]\\p{N})';

const WITH_UNIT = new RegExp(
  `${NUM_START}(${NUMBER_PATTERN})\\s?([km])?\\s*(?:-\\s*)?(dozen\\s+)?(${UNIT_ALTERNATION})${B_END}`,
  'giu',
);
/** "qty 500", "qty: 500", "quantity of 500", "x 300", "×300", "x300" (optionally with a unit). */
const PREFIXED = new RegExp(
  `${B_START}(?:qty|quantity|amount)\\s*(?:[:=]|of)?\\s*(${NUMBER_PATTERN})${NUM_END}(?:\\s*(${UNIT_ALTERNATION})${B_END})?` +
    `|(?:${B_START}x|×)\\s*(${NUMBER_PATTERN})${NUM_END}(?:\\s*(${UNIT_ALTERNATION})${B_END})?`,
  'giu',
);
const BARE = new RegExp(`${NUM_START}(${NUMBER_PATTERN})([km])?${B_END}${NUM_END}`, 'giu');
const UNIT_AFTER = new RegExp(`^\\s*(?:-\\s*)?(${UNIT_ALTERNATION})${B_END}`, 'iu');

export function extractQuantities(text: string): QuantityScan {
  const candidates: Candidate[] = [];
  const bare: BareNumber[] = [];
  const qty = (start: number, end: number, amount: number, unit: string | null, penalty = 0): void => {
    candidates.push({
      entity: makeEntity(text, start, end, 'quantity', { amount, unit }),
      priority: PRIORITY.quantity,
      penalty,
    });
  };

  for (const m of text.matchAll(WITH_UNIT)) {
    const dozen = m[3] !== undefined;
    const unit = canonicalUnit(m[4]!) ?? null;
    let amount = parseNumber(m[1]!, m[2]);
    if (dozen) amount *= 12;
    // "2 dozen" alone: dozen is the multiplier, not the unit.
    if (unit === 'dozen') qty(m.index, m.index + m[0].length, amount * 12, null);
    else qty(m.index, m.index + m[0].length, amount, unit);
  }
  for (const m of text.matchAll(PREFIXED)) {
    const digits = m[1] ?? m[3]!;
    const unitWord = m[2] ?? m[4];
    qty(m.index, m.index + m[0].length, parseNumber(digits), unitWord ? (canonicalUnit(unitWord) ?? null) : null);
  }
  for (const m of text.matchAll(BARE)) {
    bare.push({ start: m.index, end: m.index + m[0].length, amount: parseNumber(m[1]!, m[2]), scaled: m[2] !== undefined });
  }
  for (const w of findWordNumbers(text)) {
    const after = UNIT_AFTER.exec(text.slice(w.end));
    if (after) {
      const unit = canonicalUnit(after[1]!) ?? null;
      const end = w.end + after[0].length;
      if (unit === 'dozen') qty(w.start, end, w.value * 12, null);
      else qty(w.start, end, w.value, unit);
    } else if (w.dozen) {
      qty(w.start, w.end, w.value, null);
    } else {
      bare.push({ start: w.start, end: w.end, amount: w.value, scaled: false });
    }
  }
  return { candidates, bare };
}
