import type { Draft, ExtractInput, SkillEntity } from '../types.js';
import { OPEN_STATUSES, type PoStatus } from './orders.js';

/** Reading procurement slots out of utterances: first requests, answers and corrections. */

export interface DraftLine {
  sku?: string;
  quantity?: number;
}

const CORRECTION = /\b(make\s+(?:it|that)|change|instead|actually|rather|switch|should\s+be|not\s+\d|correction|update)\b/i;
const SUPPLIER_PHRASE =
  /\b(?:from|supplier|vendor)\s+(?:supplier\s+)?([A-Za-z][\w&.'’ -]{0,40}?)\s*(?=$|[,.!?;]|\s+(?:to|for|by|into|please|pls|asap|and|at|on|deliver|ship)\b)/i;

const byStart = (a: SkillEntity, b: SkillEntity) => a.start - b.start;

export function entitiesOf(input: ExtractInput, type: string): SkillEntity[] {
  return input.entities.filter((e) => e.type === type).sort(byStart);
}

/** The text with every entity span blanked out (so numbers inside ids don't count). */
export function withoutEntities(input: ExtractInput): string {
  let text = input.text;
  for (const e of input.entities) text = text.slice(0, e.start) + ' '.repeat(e.end - e.start) + text.slice(e.end);
  return text;
}

/** A number standing on its own ("300", "make it 300", "1,500 please"). */
export function bareNumber(input: ExtractInput): number | undefined {
  const rest = withoutEntities(input);
  const m = /(?<![\w.-])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?![\w-])/.exec(rest);
  if (!m) return undefined;
  return Number(`${m[1]!.replace(/,/g, '')}${m[2] ? `.${m[2]}` : ''}`);
}

export function isCorrection(text: string): boolean {
  return CORRECTION.test(text);
}

export function quantityValue(e: SkillEntity): number | undefined {
  const v = e.value as { amount?: unknown } | undefined;
  return typeof v?.amount === 'number' ? v.amount : undefined;
}

/** Quantities paired with the product that follows them: "20 SKU-1001 and 5 gloves". */
export function pairLines(input: ExtractInput): { found: DraftLine[]; leftover?: number } {
  const found: DraftLine[] = [];
  let pending: number | undefined;
  for (const e of input.entities.slice().sort(byStart)) {
    if (e.type === 'quantity') pending = quantityValue(e);
    else if (e.type === 'sku' && typeof e.value === 'string') {
      found.push({ sku: e.value, quantity: pending });
      pending = undefined;
    }
  }
  return { found, leftover: pending };
}

/** Order lines, supplier, warehouse and date from an utterance, merged into the draft. */
export function extractCreateOrder(input: ExtractInput, draft: Draft): Draft {
  const d: Draft = { ...draft };
  const lines: DraftLine[] = Array.isArray(d.lines) ? (d.lines as DraftLine[]).map((l) => ({ ...l })) : [];
  const correction = isCorrection(input.text) || input.expecting === 'edit';

  const paired = pairLines(input);
  const found = paired.found;
  let leftover = paired.leftover;
  if (leftover === undefined && found.length === 0 && (input.expecting === 'quantity' || correction || /^\s*\d[\d,.]*\s*$/.test(input.text))) {
    leftover = bareNumber(input);
  }

  if (found.length > 0) {
    const missingSku = lines.findIndex((l) => !l.sku);
    if (missingSku >= 0 && found.length === 1) {
      lines[missingSku] = { ...lines[missingSku], sku: found[0]!.sku, quantity: found[0]!.quantity ?? lines[missingSku]!.quantity };
    } else if (correction && lines.length > 0 && found.length === 1) {
      // "make it gloves", "SKU-1002 instead": replace the product of the last line.
      const last = lines.length - 1;
      lines[last] = { sku: found[0]!.sku, quantity: found[0]!.quantity ?? lines[last]!.quantity };
    } else {
      for (const f of found) {
        const same = lines.findIndex((l) => l.sku === f.sku);
        if (same >= 0) lines[same] = { ...lines[same], quantity: f.quantity ?? lines[same]!.quantity };
        else if (input.expecting === 'sku' && lines.length === 1 && lines[0]!.sku && !found.some((x) => x.quantity)) {
          lines[0] = { ...lines[0], sku: f.sku };
        } else lines.push(f);
      }
    }
  }
  if (leftover !== undefined) {
    // "300" answers "how many?"; "make it 300" corrects the last line.
    const missing = lines.findIndex((l) => l.sku && l.quantity === undefined);
    if (missing >= 0) lines[missing]!.quantity = leftover;
    else if (lines.length > 0) lines[lines.length - 1]!.quantity = leftover;
    else lines.push({ quantity: leftover });
  }
  if (lines.length > 0) d.lines = lines;

  const supplier = entitiesOf(input, 'supplier')[0];
  if (supplier && typeof supplier.value === 'string') {
    d.supplier = supplier.value;
    delete d.supplierRaw;
  } else {
    const raw = supplierPhrase(input);
    if (raw) {
      delete d.supplier;
      d.supplierRaw = raw;
    }
  }
  const warehouse = entitiesOf(input, 'warehouse')[0];
  if (warehouse && typeof warehouse.value === 'string') d.shipTo = warehouse.value;
  const date = entitiesOf(input, 'date')[0];
  if (date && typeof date.value === 'string') d.needBy = date.value.slice(0, 10);
  return d;
}

/** Supplier written but not recognised: "from Acmee", or the whole answer to "which supplier?". */
function supplierPhrase(input: ExtractInput): string | undefined {
  const rest = withoutEntities(input);
  const m = SUPPLIER_PHRASE.exec(rest);
  if (m?.[1]?.trim()) return m[1].trim();
  if (input.expecting === 'supplier') {
    const answer = rest
      .replace(/\b(?:from|supplier|vendor|please|pls|use|the|order|it|with)\b/gi, ' ')
      .replace(/[^\p{L}\p{N}&.' -]/gu, ' ')
      .replace(/\s+/g, ' ')
      .trim();
    if (answer.length >= 2 && answer.length <= 40) return answer;
  }
  return undefined;
}

/** A purchase order number: an entity, or a bare number when we asked for the order. */
export function extractOrderRef(input: ExtractInput, draft: Draft): Draft {
  const po = entitiesOf(input, 'purchase_order')[0];
  if (po && typeof po.value === 'string') return { ...draft, order: po.value };
  if (input.expecting === 'order') {
    const n = bareNumber(input);
    if (n !== undefined && Number.isInteger(n)) return { ...draft, order: `PO-${n}` };
  }
  return draft;
}

const STATUS_WORDS: [RegExp, readonly PoStatus[]][] = [
  [/\b(pending|awaiting approval|waiting for approval|needs? approval|to approve|unapproved)\b/i, ['pending_approval']],
  [/\b(open|active|outstanding|in progress|not (?:yet )?received)\b/i, OPEN_STATUSES],
  [/\bdrafts?\b/i, ['draft']],
  [/\bapproved\b/i, ['approved']],
  [/\bsent\b/i, ['sent']],
  [/\bconfirmed\b/i, ['confirmed']],
  [/\bpartially received\b/i, ['partially_received']],
  [/\b(?<!partially )received\b/i, ['received']],
  [/\bcancel(?:l)?ed\b/i, ['cancelled']],
  [/\brejected\b/i, ['rejected']],
];

/** Filters from "my pending orders this week from Acme". */
export function extractOrderFilters(input: ExtractInput, draft: Draft, now: Date): Draft {
  const d: Draft = { ...draft };
  const text = input.text;
  if (/\b(my|mine|i (?:raised|placed|created|made)|i've)\b/i.test(text)) d.mine = true;
  if (/\b(all|every(?:one|body)|team|everyone's)\b/i.test(text)) d.mine = false;
  const statuses = new Set<PoStatus>();
  for (const [re, list] of STATUS_WORDS) if (re.test(text)) list.forEach((s) => statuses.add(s));
  if (statuses.size > 0) d.statuses = [...statuses];
  const supplier = entitiesOf(input, 'supplier')[0];
  if (supplier && typeof supplier.value === 'string') d.supplier = supplier.value;
  const since = sinceFrom(text, now);
  if (since) d.since = since;
  return d;
}

function sinceFrom(text: string, now: Date): string | undefined {
  const day = (d: Date) => d.toISOString().slice(0, 10);
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  if (/\btoday\b/i.test(text)) return day(start);
  if (/\bthis week\b/i.test(text)) {
    const monday = new Date(start);
    monday.setUTCDate(start.getUTCDate() - ((start.getUTCDay() + 6) % 7));
    return day(monday);
  }
  if (/\b(last|past) (7|seven) days\b|\blast week\b/i.test(text)) {
    const d = new Date(start);
    d.setUTCDate(start.getUTCDate() - 7);
    return day(d);
  }
  if (/\bthis month\b/i.test(text)) return day(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)));
  return undefined;
}
