import { B_END, B_START, PRIORITY, makeEntity, type Candidate } from './candidate.js';
import { UNIT_ALTERNATION } from './units.js';
import type { EntityType } from '../types.js';

/** Separator between a keyword and its number: "PO-1", "PO#1", "PO 1", "PO1", "PO no. 1", "PO nr 1", "PO: 1". */
const SEP = '\\s*(?:[-#:]|n[oº°]\\.?|nr\\.?|num(?:ber)?\\.?|number)?\\s*#?\\s*';

/** Not followed by a unit or "x": "po 10 boxes" is a quantity, not PO-10. */
const NOT_QTY = `(?!\\s*(?:-\\s*)?(?:${UNIT_ALTERNATION}|x|of)${B_END})`;

/** After a bare "order 10453" only words that make it a reference (not "order 10000 boxes"). */
const REF_FOLLOW =
  '(?=\\s*$|\\s*[.,;:!?)]|\\s+(?:status|is|was|has|have|had|still|yet|been|got|shipped|arrived|delivered|approved|' +
  'cancel(?:l?ed)?|placed|created|due|please|pls|and|or|asap|now|today|tomorrow)' +
  B_END +
  ')';

/**
 * Before a 4-digit "order 1119", words that make "order" the noun (a record), not the verb ("order
 * 1000 of them"): "status of order 1119", "where is order 1119", "cancel order 1119".
 */
const ORDER_NOUN_BEFORE =
  "(?<=\\b(?:of|for|on|about|re:?|the|my|our|your|their|that|this|cancel|approve|reject|decline|track|trace|chase|check|find|is|was|where'?s|with|from)\\s+)";
/** …or, after it, words of a record's state: "order 1119 status", "order 1119 still not here", "order 1124 - received?". */
const ORDER_STATE_AFTER = `(?=\\s*[-–—:]?\\s+(?:status|is|was|has|had|still|been|got|shipped|arrived|delivered|received|approved|rejected|cancel(?:l?ed)?|placed|due|yet)${B_END})`;

interface IdRule {
  type: EntityType;
  prefix: string;
  re: RegExp;
  /** Extra check on the captured number. */
  accept?: (digits: string) => boolean;
}

const rule = (type: EntityType, prefix: string, source: string, accept?: IdRule['accept']): IdRule => ({
  type,
  prefix,
  re: new RegExp(source, 'giu'),
  accept,
});

const DIGITS = '(\\d{2,10})';
const DIGITS3 = '(\\d{3,10})';

const RULES: readonly IdRule[] = [
  // Purchase orders
  rule('purchase_order', 'PO-', `${B_START}p\\.?o\\.?(?:-|#|\\s*(?:#|n[oº°]\\.?|nr\\.?|num(?:ber)?\\.?|:)\\s*#?\\s*)${DIGITS}${B_END}`),
  rule('purchase_order', 'PO-', `${B_START}p\\.?o\\.?\\s*${DIGITS}${B_END}${NOT_QTY}`),
  rule('purchase_order', 'PO-', `${B_START}purchase\\s+order${SEP}(?:p\\.?o\\.?\\s*[-#]?\\s*)?${DIGITS}${B_END}${NOT_QTY}`),
  rule('purchase_order', 'PO-', `${B_START}order\\s*(?:#|n[oº°]\\.?|nr\\.?|number)\\s*#?\\s*${DIGITS3}${B_END}`),
  rule('purchase_order', 'PO-', `${B_START}order\\s+(\\d{5,10})${B_END}${REF_FOLLOW}`),
  // Our order numbers have 4 digits too (PO-1001…): "status of order 1119", "order 1119 status".
  rule('purchase_order', 'PO-', `${ORDER_NOUN_BEFORE}order\\s+(\\d{4})${B_END}${REF_FOLLOW}`),
  rule('purchase_order', 'PO-', `${B_START}order\\s+(\\d{4})${B_END}${ORDER_STATE_AFTER}`),
  // Shipments
  rule('shipment', 'SH-', `${B_START}sh(?:-|#|\\s*(?:#|n[oº°]\\.?|nr\\.?|:)\\s*)?\\s*${DIGITS3}${B_END}`),
  rule('shipment', 'SH-', `${B_START}(?:shipment|consignment|container)${SEP}(?:sh\\s*[-#]?\\s*)?${DIGITS3}${B_END}${NOT_QTY}`),
  // Customs declarations ("dec 2025" is December, not a declaration)
  rule('declaration', 'CD-', `${B_START}cd(?:-|#|\\s*(?:#|n[oº°]\\.?|nr\\.?|:)\\s*)?\\s*${DIGITS3}${B_END}`),
  rule(
    'declaration',
    'CD-',
    `${B_START}(?:customs\\s+)?(?:declaration|entry)${SEP}(?:cd\\s*[-#]?\\s*)?${DIGITS3}${B_END}${NOT_QTY}`,
  ),
  rule('declaration', 'CD-', `${B_START}dec${SEP}${DIGITS3}${B_END}${NOT_QTY}`, (d) => !/^(19|20)\d\d$/.test(d)),
  // SKUs
  rule('sku', 'SKU-', `${B_START}sku${SEP}${DIGITS3}${B_END}`),
  rule('sku', 'SKU-', `${B_START}(?:item|article|part)${SEP}${DIGITS3}${B_END}${NOT_QTY}`),
];

/** "WH-A", "wh b", "WHC", "WH-2"; "warehouse B" (a lowercase "a"/"i" there is usually an article/pronoun). */
const WH_CODE = new RegExp(`${B_START}wh\\s*[-#]?\\s*([a-z]|\\d{1,3})${B_END}`, 'giu');
const WH_WORD = new RegExp(`${B_START}warehouse\\s+([a-z]|\\d{1,3})${B_END}`, 'giu');

/** Extracts explicit reference ids and normalizes them ("purchase order 10452" → PO-10452). */
export function extractIds(text: string): Candidate[] {
  const out: Candidate[] = [];
  for (const r of RULES) {
    for (const m of text.matchAll(r.re)) {
      const digits = m[1]!;
      if (r.accept && !r.accept(digits)) continue;
      const start = m.index;
      out.push({
        entity: makeEntity(text, start, start + m[0].length, r.type, `${r.prefix}${digits}`),
        priority: PRIORITY.id,
      });
    }
  }
  for (const m of text.matchAll(WH_CODE)) {
    // Glued to a letter, only in capitals: "WHC" is a code, "why" and "who" are words.
    if (/^wh[a-z]$/i.test(m[0]) && m[0] !== m[0].toUpperCase()) continue;
    out.push({
      entity: makeEntity(text, m.index, m.index + m[0].length, 'warehouse', `WH-${m[1]!.toUpperCase()}`),
      priority: PRIORITY.id,
    });
  }
  for (const m of text.matchAll(WH_WORD)) {
    const code = m[1]!;
    const end = m.index + m[0].length;
    // "warehouse a few pallets" / "warehouse i think": lowercase a/i followed by more words.
    if ((code === 'a' || code === 'i') && /^\s+[\p{L}]/u.test(text.slice(end))) continue;
    out.push({ entity: makeEntity(text, m.index, end, 'warehouse', `WH-${code.toUpperCase()}`), priority: PRIORITY.id });
  }
  return out;
}
