import { findWordNumbers } from './entities/numbers.js';

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

/** A replacement of the span [start, end) of a text. */
export interface SpanEdit {
  start: number;
  end: number;
  text: string;
}

/** Applies non-overlapping edits (an edit overlapping an earlier one is skipped). */
export function rewriteSpans(text: string, edits: readonly SpanEdit[]): string {
  let out = '';
  let last = 0;
  for (const e of [...edits].sort((a, b) => a.start - b.start)) {
    if (e.start < last) continue;
    out += text.slice(last, e.start) + e.text;
    last = e.end;
  }
  return out + text.slice(last);
}

/**
 * Entity masking for quantities: the digits of every quantity span ("301 units", "200 more
 * bearings") become one number of the same length before the model sees them, so "301" reads like
 * "300" (the BPE splits them into other pieces, and the model learned those pieces as words). Only
 * quantity spans: a bare "cancel 10452" is an order number and keeps its digits.
 */
export function quantityEdits(text: string, spans: readonly { start: number; end: number }[]): SpanEdit[] {
  // One edit per number (not per span), so a word inside the span ("301 unitz") stays free for other edits.
  return spans.flatMap((s) => {
    const span = text.slice(s.start, s.end);
    const digits = [...span.matchAll(/\d[\d,]*/g)].map((m) => ({
      start: s.start + m.index,
      end: s.start + m.index + m[0].length,
      text: CANONICAL[Math.min(m[0].replace(/,/g, '').length, CANONICAL.length) - 1]!,
    }));
    if (digits.length > 0) return digits;
    // nlu6: a quantity in words ("a hundred SKU-1609", "forty boxes", "two dozen") reads like the
    // digits the model learned: "100 SKU-1609", "40 boxes", "40" (24).
    return findWordNumbers(span).map((w) => ({
      start: s.start + w.start,
      end: s.start + w.end,
      text: CANONICAL[Math.min(String(w.value).length, CANONICAL.length) - 1]!,
    }));
  });
}

export function maskQuantities(text: string, spans: readonly { start: number; end: number }[]): string {
  return rewriteSpans(text, quantityEdits(text, spans));
}

const ID_PREFIX: Readonly<Record<string, string>> = { purchase_order: 'PO', shipment: 'SH', declaration: 'CD' };
/** The id's own letters typed before its number ("PO 1119", "po#1119", "SH2003"): nothing to add. */
const TYPED_PREFIX = /(?:\b(?:p\.?o|sh|cd)\.?\s*(?:[-#:]|n[oº°]\.?|nr\.?)?\s*#?\s*)\d+$/i;

/**
 * Ids typed as a bare number after their noun ("status of order 1119", "shipment 2003"): the
 * number gets its prefix in the model's input ("order PO-1119"), as the model learned ids; ids typed
 * with their prefix in another form ("PO 1630", "po#1685", "sh2619") get the canonical form.
 */
export function bareIdEdits(text: string, entities: readonly { type: string; start: number; end: number; value: unknown }[]): SpanEdit[] {
  const out: SpanEdit[] = [];
  for (const e of entities) {
    const prefix = ID_PREFIX[e.type];
    if (typeof e.value !== 'string') continue;
    const span = text.slice(e.start, e.end);
    // nlu5: an id typed in another form ("PO 1630", "po# 1685", "sh2619", "SKU 1642") is read in the
    // form the model learned ("PO-1630"); a product's name read as a SKU ("bearings") stays as typed.
    const canonical = /^[A-Z]{2,3}-\d+$/.test(e.value) && e.value.toUpperCase() !== span.toUpperCase();
    if (canonical && ((prefix && TYPED_PREFIX.test(span) && !/^\s*purchase/i.test(span)) || (e.type === 'sku' && /^sku\W*\d+$/i.test(span)))) {
      out.push({ start: e.start, end: e.end, text: e.value });
      continue;
    }
    if (!prefix) continue;
    const m = /(\d+)\s*$/.exec(span);
    if (!m || TYPED_PREFIX.test(span)) continue;
    const at = e.start + m.index;
    out.push({ start: at, end: at + m[1]!.length, text: `${prefix}-${m[1]}` });
  }
  return out;
}
