import type { Draft, ExtractInput, SkillEntity } from '../types.js';
import { originIn } from './countries.js';
import { NO_CODE, type HsCodes } from './filing.js';
import { descriptionWords } from './matching.js';
import { parseHsCode } from './tariff.js';

/** Reading customs slots out of utterances: first requests, answers and corrections. */

const byStart = (a: SkillEntity, b: SkillEntity) => a.start - b.start;

function entitiesOf(input: ExtractInput, type: string): SkillEntity[] {
  return input.entities.filter((e) => e.type === type).sort(byStart);
}

function firstString(input: ExtractInput, type: string): string | undefined {
  const e = entitiesOf(input, type)[0];
  return e && typeof e.value === 'string' ? e.value : undefined;
}

/** Text with some spans blanked out (ids, amounts, the origin phrase). */
function without(text: string, spans: readonly { start: number; end: number }[]): string {
  let out = text;
  for (const s of spans) out = out.slice(0, s.start) + ' '.repeat(s.end - s.start) + out.slice(s.end);
  return out;
}

/** A bare number answering "which shipment?" ("2003") or a declaration id typed loosely. */
function bareId(text: string): number | undefined {
  const m = /^\s*#?\s*(\d{3,10})\s*[.!?]?\s*$/.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** "skip", "none", "file it without", "I don't know": file the line without a code. */
const SKIP = /\b(skip|none|no code|without(?: (?:a |an |the )?(?:hs )?code)?|file (?:it )?anyway|don'?t know|do not know|no idea|unknown|leave it (?:blank|empty|out))\b/i;

// ------------------------------------------------------------------------------------ file_declaration

/** Shipment (id or description) and HS codes for lines without one. */
export function extractFileDeclaration(input: ExtractInput, draft: Draft): Draft {
  const d: Draft = { ...draft };
  const shipment = firstString(input, 'shipment');
  if (shipment) {
    d.shipment = shipment;
    delete d.shipmentHint;
  } else if (input.expecting === 'shipment') {
    const n = bareId(input.text);
    if (n !== undefined) {
      d.shipment = `SH-${n}`;
      delete d.shipmentHint;
    } else if (descriptionWords(input.text).length > 0) {
      delete d.shipment;
      d.shipmentHint = clip(input.text);
    }
  } else if (!d.shipment && !input.expecting && descriptionWords(withoutRequestWords(input.text)).length > 0) {
    d.shipmentHint = clip(input.text);
  }

  const expectingSku = input.expecting?.startsWith('hs:') ? input.expecting.slice(3) : undefined;
  const codes: HsCodes = { ...((d.hsCodes as HsCodes | undefined) ?? {}) };
  const code = parseHsCode(without(input.text, input.entities.filter((e) => e.type === 'sku' || e.type === 'shipment')));
  const skus = entitiesOf(input, 'sku')
    .map((e) => e.value)
    .filter((v): v is string => typeof v === 'string');
  if (expectingSku) {
    delete d.hsInvalid;
    if (code) codes[expectingSku] = code;
    else if (SKIP.test(input.text)) codes[expectingSku] = NO_CODE;
    else if (/\d/.test(input.text)) d.hsInvalid = clip(input.text, 40);
  } else if (code && (skus.length === 1 || input.expecting === 'edit')) {
    // A correction: "use 8504.40 for SKU-1006", or (at the confirmation) the one code the filer gave.
    const sku = skus[0] ?? (Object.keys(codes).length === 1 ? Object.keys(codes)[0] : undefined);
    if (sku) codes[sku] = code;
  }
  if (Object.keys(codes).length > 0) d.hsCodes = codes;
  return d;
}

/** The request words of "file a declaration for …", leaving what describes the shipment. */
function withoutRequestWords(text: string): string {
  return text.replace(/\b(file|submit|lodge|make|raise|prepare|create|do|an?|the|new|import|export|customs|declarations?|entry|for|please|pls|i|need|want|to|would|like|can|you)\b/gi, ' ');
}

/** Stored user text: bounded, without markup or control characters. */
export function clip(text: string, max = 120): string {
  return text
    .replace(/<[^>]*>/g, ' ')
    .replace(/[\p{Cc}[\]()*_`|\\<>{}]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, max);
}

// ------------------------------------------------------------------------------------ declaration_status

export function extractDeclarationStatus(input: ExtractInput, draft: Draft): Draft {
  const d: Draft = { ...draft };
  if (/\bclear(?:ed|ance|s)?\b/i.test(input.text) && !input.expecting) d.question = 'cleared';
  const declaration = firstString(input, 'declaration');
  const shipment = firstString(input, 'shipment');
  if (declaration || shipment) {
    delete d.declaration;
    delete d.shipment;
    delete d.description;
    if (declaration) d.declaration = declaration;
    else d.shipment = shipment;
    return d;
  }
  const n = input.expecting ? bareId(input.text) : undefined;
  if (n !== undefined) {
    delete d.description;
    d.shipment = `SH-${n}`;
    return d;
  }
  if (descriptionWords(input.text).length > 0) {
    delete d.declaration;
    delete d.shipment;
    d.description = clip(input.text);
  }
  return d;
}

// ------------------------------------------------------------------------------------ classify_goods

const CLASSIFY_WORDS =
  /\b(what(?:'s| is| are)?|which|tell me|find|give me|look ?up|get|show|please|pls|could you|can you|i need|the|a|an|hs|harmoni[sz]ed(?: system)?|tariff|commodity|customs|codes?|classif(?:y|ication|ied)|duty|duties|rates?|and|for|of|on|is|are|to|estimate|how much|would|be|worth|valued at|value|goods|shipment of)\b/gi;

/** Goods description, value and origin from "HS code for 2,000 dollars of coffee beans from Brazil". */
export function extractClassifyGoods(input: ExtractInput, draft: Draft): Draft {
  const d: Draft = { ...draft };
  const money = entitiesOf(input, 'money')[0];
  const amount = (money?.value as { amount?: unknown; currency?: unknown } | undefined) ?? undefined;
  if (typeof amount?.amount === 'number') {
    d.value = amount.amount;
    if (typeof amount.currency === 'string') d.currency = amount.currency;
  }
  const origin = originIn(input.text);
  if (origin) d.origin = origin.code;
  const sku = firstString(input, 'sku');
  const spans = [...(money ? [money] : []), ...(origin ? [origin] : [])];
  const rest = without(input.text, spans).replace(CLASSIFY_WORDS, ' ');
  const description = clip(rest, 200)
    .replace(/^[\s,.;:!?'"-]+|[\s,.;:!?'"-]+$/g, '')
    .replace(/\s+/g, ' ');
  if (description.length >= 2) {
    d.description = description;
    if (sku) d.sku = sku;
    else delete d.sku;
  } else if (input.expecting === 'description' && sku) {
    d.sku = sku;
  }
  return d;
}
