import { bareNumber, entitiesOf, isCorrection, pairLines, quantityValue, withoutEntities, type DraftLine } from '../procurement/extract.js';
import type { Draft, ExtractInput, SkillEntity } from '../types.js';

export type { DraftLine };

/** Reading storage slots out of utterances: first requests, answers and corrections. */

/** "everything", "all goods", "in full", "the rest": receive what is still expected. */
const ALL = /\b(everything|every ?thing|all|in full|the rest|full (?:delivery|order|shipment|quantity)|complete(?:ly)?)\b/i;

/** Bin codes as the demo warehouses write them: A-01-01, RCV-01, C-03-01. */
const BIN_CODE = '[A-Za-z]{1,4}-\\d{2}(?:-\\d{2}){0,2}';
const BIN = new RegExp(`(?:\\b(from|to|into|in|out of)\\s+)?(?:\\bbin\\s+)?\\b(${BIN_CODE})\\b`, 'gi');

function quantityUnit(e: SkillEntity): string | undefined {
  const v = e.value as { unit?: unknown } | undefined;
  return typeof v?.unit === 'string' ? v.unit : undefined;
}

export interface BinMention {
  code: string;
  direction?: 'from' | 'to';
}

export function binMentions(input: ExtractInput): BinMention[] {
  const out: BinMention[] = [];
  for (const m of withoutEntities(input).matchAll(BIN)) {
    const word = m[1]?.toLowerCase();
    out.push({ code: m[2]!.toUpperCase(), direction: word === 'from' || word === 'out of' ? 'from' : word ? 'to' : undefined });
  }
  return out;
}

/** Which line an answer is for: `quantity:1` asks about the second line. */
function lineIndex(expecting: string | undefined, prefix: string): number | undefined {
  if (!expecting?.startsWith(`${prefix}:`)) return undefined;
  const i = Number(expecting.slice(prefix.length + 1));
  return Number.isInteger(i) && i >= 0 ? i : undefined;
}

/** Order/shipment, lines, warehouse and bin of a goods receipt, merged into the draft. */
export function extractReceipt(input: ExtractInput, draft: Draft): Draft {
  const d: Draft = { ...draft };
  const po = entitiesOf(input, 'purchase_order')[0];
  if (po && typeof po.value === 'string') d.po = po.value;
  const shipment = entitiesOf(input, 'shipment')[0];
  if (shipment && typeof shipment.value === 'string') d.shipment = shipment.value;
  if (!po && !shipment && input.expecting === 'po') {
    // "1007" answers "which purchase order?": an order number, not a quantity.
    const n = bareNumber(input);
    if (n !== undefined && Number.isInteger(n) && /^\s*#?\d+\s*$/.test(input.text)) return { ...d, po: `PO-${n}` };
  }
  const warehouse = entitiesOf(input, 'warehouse')[0];
  if (warehouse && typeof warehouse.value === 'string') d.warehouse = warehouse.value;
  const bin = binMentions(input)[0];
  if (bin) d.bin = bin.code;

  const lines: DraftLine[] = Array.isArray(d.lines) ? (d.lines as DraftLine[]).map((l) => ({ ...l })) : [];
  const { found, leftover } = pairLines(input);
  const skuAnswer = lineIndex(input.expecting, 'sku');
  if (found.length === 1 && skuAnswer !== undefined && lines[skuAnswer]) {
    // "Which product is the 5 for?" → "SKU-1005".
    lines[skuAnswer] = { sku: found[0]!.sku, quantity: found[0]!.quantity ?? lines[skuAnswer]!.quantity };
  } else {
    for (const f of found) {
      const same = lines.findIndex((l) => l.sku === f.sku);
      if (same >= 0) lines[same] = { ...lines[same], quantity: f.quantity ?? lines[same]!.quantity };
      else lines.push(f);
    }
  }
  let number = leftover;
  const qtyAnswer = lineIndex(input.expecting, 'quantity');
  const bareAnswer = /^\s*\d[\d,.]*\s*$/.test(input.text);
  if (number === undefined && found.length === 0 && (qtyAnswer !== undefined || isCorrection(input.text) || input.expecting === 'edit' || bareAnswer)) {
    number = bareNumber(input);
  }
  if (number !== undefined) {
    // "30" answers "how many?"; "make it 30" corrects the last line; a bare "40" may stand for the only line.
    const target = qtyAnswer ?? lines.findIndex((l) => l.quantity === undefined);
    if (target >= 0 && lines[target]) lines[target]!.quantity = number;
    else if (lines.length > 0) lines[lines.length - 1]!.quantity = number;
    else lines.push({ quantity: number });
  }
  if (lines.length > 0) {
    d.lines = lines;
    delete d.all;
  } else if (ALL.test(withoutEntities(input))) {
    d.all = true;
  }
  return d;
}

/** Product, quantity, source and destination of a stock transfer, merged into the draft. */
export function extractTransfer(input: ExtractInput, draft: Draft): Draft {
  const d: Draft = { ...draft };
  const sku = entitiesOf(input, 'sku')[0];
  if (sku && typeof sku.value === 'string') {
    d.sku = sku.value;
    delete d.unitHint;
  }
  const qty = entitiesOf(input, 'quantity')[0];
  if (qty && quantityValue(qty) !== undefined) {
    d.quantity = quantityValue(qty);
    const unit = quantityUnit(qty);
    // "move 20 pallets": no product named, but the unit may tell which one.
    if (unit && !sku && typeof d.sku !== 'string') d.unitHint = unit;
  } else if (input.expecting === 'quantity' || isCorrection(input.text) || input.expecting === 'edit' || /^\s*\d[\d,.]*\s*$/.test(input.text)) {
    const n = bareNumber(input);
    if (n !== undefined) d.quantity = n;
  }

  let unassigned: string[] = [];
  for (const w of entitiesOf(input, 'warehouse')) {
    if (typeof w.value !== 'string') continue;
    const before = input.text.slice(Math.max(0, w.start - 12), w.start).toLowerCase();
    if (/\b(from|out of)\s*$/.test(before)) d.fromWarehouse = w.value;
    else if (/\b(to|into|towards?)\s*$/.test(before)) d.toWarehouse = w.value;
    else unassigned.push(w.value);
  }
  if (unassigned.length > 0 && input.expecting === 'from') d.fromWarehouse = unassigned.shift();
  if (unassigned.length > 0 && input.expecting === 'to') d.toWarehouse = unassigned.shift();
  for (const code of unassigned) {
    if (typeof d.fromWarehouse !== 'string') d.fromWarehouse = code;
    else if (typeof d.toWarehouse !== 'string') d.toWarehouse = code;
  }
  unassigned = [];

  for (const b of binMentions(input)) {
    if (b.direction === 'from' || (!b.direction && input.expecting === 'fromBin')) d.fromBin = b.code;
    else if (b.direction === 'to' || input.expecting === 'toBin') d.toBin = b.code;
    else if (typeof d.fromBin !== 'string' && typeof d.toBin === 'string') d.fromBin = b.code;
    else d.toBin = b.code;
  }
  return d;
}

/** Product and/or warehouse of a stock question ("in all warehouses" drops the warehouse). */
export function extractStockQuery(input: ExtractInput, draft: Draft): Draft {
  const d: Draft = { ...draft };
  const sku = entitiesOf(input, 'sku')[0];
  if (sku && typeof sku.value === 'string') d.sku = sku.value;
  const warehouse = entitiesOf(input, 'warehouse')[0];
  if (warehouse && typeof warehouse.value === 'string') d.warehouse = warehouse.value;
  if (/\b(all|every|any)\s+(warehouses?|sites?|locations?)\b|\beverywhere\b/i.test(input.text)) delete d.warehouse;
  return d;
}
