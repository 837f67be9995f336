import type { JobRecord } from '../../jobs/types.js';
import { ago, listing, money, quantity, statusLabel } from '../format.js';
import type { CardSpec, SkillReply } from '../types.js';
import { countryName } from './countries.js';
import type { Declaration, DeclarationStatus, Shipment } from './declarations.js';
import { routeText, type Filing } from './filing.js';
import { dutyOf, formatHs, type Classification, type TariffMatch } from './tariff.js';

/** Wording and cards of the customs skill. */

export const RATES_NOTE = 'Duty rates are illustrative, from the tariff table shipped with the assistant (a subset of HS 2022), not an official tariff.';

export function shipmentLabel(s: Shipment): string {
  return `${s.number} (${routeText(s)})`;
}

export const shipmentNotFound = (number: string): SkillReply => ({
  text: `I can't find shipment ${number}. Give me a shipment number like SH-2003, or describe it ("the Shenzhen container").`,
});

export const declarationNotFound = (number: string): SkillReply => ({
  text: `I can't find declaration ${number}. Ask by its shipment instead (e.g. "has SH-2003 cleared?").`,
});

/** "SH-2003 (Shenzhen (China) → WH-B Dallas)" for a choice list. */
export function shipmentChoice(s: Shipment): string {
  return `${s.number}${s.originPort ? ` from ${s.originPort}` : s.originCountry ? ` from ${countryName(s.originCountry)}` : ''}`;
}

// ------------------------------------------------------------------------------------ filing

function hsCell(code: string | null): string {
  return code ? formatHs(code) : 'missing';
}

function dutyCell(rate: number | null, duty: number, currency: string): string {
  return rate === null ? '—' : `${rate}% = ${money(duty, currency)}`;
}

const sentence = (w: string) => `${w[0]!.toUpperCase()}${w.slice(1)}`;

function replacesText(replaces: Declaration): string {
  return `It replaces ${replaces.number}, which customs ${statusLabel(replaces.status)}${replaces.statusReason ? ` (${replaces.statusReason})` : ''}; I'll withdraw that one.`;
}

export function filingCard(f: Filing, filedBy: string, replaces?: Declaration): CardSpec {
  const s = f.shipment;
  const facts = [
    { title: 'Shipment', value: `${s.number}${s.po ? ` (${s.po}${s.supplier ? `, ${s.supplier}` : ''})` : s.supplier ? ` (${s.supplier})` : ''}` },
    { title: 'Customs value', value: money(f.customsValue, f.currency) },
    { title: 'Estimated duty', value: money(f.dutyEstimate, f.currency) },
    { title: 'Filed by', value: filedBy },
  ];
  return {
    title: `File this ${f.kind} declaration for ${s.number}?`,
    subtitle: routeText(s),
    facts,
    table: {
      columns: ['SKU', 'Goods', 'HS code', 'Origin', 'Qty', 'Value', 'Duty'],
      rows: f.lines.map((l) => [
        l.sku,
        l.description,
        hsCell(l.hsCode),
        l.originCountry ?? '?',
        quantity(l.quantity, l.unit),
        money(l.value, f.currency),
        dutyCell(l.dutyRate, l.duty, f.currency),
      ]),
    },
    notes: [...f.warnings.map((w) => `⚠️ ${sentence(w)}`), ...(replaces ? [replacesText(replaces)] : []), RATES_NOTE],
  };
}

export function filingLines(f: Filing): string[] {
  return f.lines.map(
    (l) =>
      `• ${quantity(l.quantity, l.unit)} of ${l.description} (${l.sku}): HS ${hsCell(l.hsCode)}, origin ${l.originCountry ?? 'unknown'}, ${money(l.value, f.currency)}`,
  );
}

export function confirmationText(f: Filing, replaces?: Declaration): string {
  const parts = [
    `File an ${f.kind} declaration for ${shipmentLabel(f.shipment)}?`,
    ...filingLines(f),
    `Customs value ${money(f.customsValue, f.currency)}; estimated duty ${money(f.dutyEstimate, f.currency)} (illustrative rates).`,
    ...f.warnings.map((w) => `⚠️ ${sentence(w)}`),
  ];
  if (replaces) parts.push(replacesText(replaces));
  parts.push("I'll submit it to customs and tell you when they acknowledge it and when they decide. Shall I go ahead?");
  return parts.join('\n');
}

// ------------------------------------------------------------------------------------ declarations

export function declarationCard(d: Declaration, s: Shipment | undefined, title = `${d.number} — ${statusLabel(d.status)}`): CardSpec {
  const facts = [
    { title: 'Shipment', value: s ? shipmentLabel(s) : d.shipment },
    { title: 'Type', value: d.kind },
    { title: 'Status', value: statusLabel(d.status) },
    { title: 'Customs value', value: money(d.customsValue, d.currency) },
  ];
  if (d.dutyAmount !== null) facts.push({ title: 'Duty assessed', value: money(d.dutyAmount, d.currency) });
  else if (d.dutyEstimate !== null) facts.push({ title: 'Estimated duty', value: money(d.dutyEstimate, d.currency) });
  if (d.authorityReference) facts.push({ title: 'Customs ref', value: d.authorityReference });
  if (d.statusReason) facts.push({ title: 'Reason', value: d.statusReason });
  facts.push({ title: 'Filed by', value: d.filedByName ?? d.filedBy ?? '—' });
  return {
    title,
    facts,
    table: {
      columns: ['SKU', 'Goods', 'HS code', 'Origin', 'Qty', 'Value'],
      rows: d.lines.map((l) => [l.sku, l.description, hsCell(l.hsCode), l.originCountry ?? '?', quantity(l.quantity, l.unit), money(l.value, d.currency)]),
    },
  };
}

/** What a status means for the goods, in one sentence. */
function meaning(d: Declaration, s: Shipment | undefined, now: Date): string {
  const ref = d.authorityReference ? `customs ref ${d.authorityReference}` : undefined;
  switch (d.status) {
    case 'cleared': {
      const duty = d.dutyAmount !== null ? `duty ${money(d.dutyAmount, d.currency)}` : undefined;
      const details = [ref, duty].filter(Boolean).join('; ');
      const where = s?.warehouse ? ` into ${s.warehouse}${s.warehouseName ? ` ${s.warehouseName}` : ''}` : '';
      const ready = s && s.status === 'delivered' ? `${d.shipment} has been received.` : `${d.shipment} is ready to receive${where}.`;
      return `Customs cleared it ${ago(d.clearedAt ?? d.updatedAt, now)}${details ? ` (${details})` : ''}. ${ready}`;
    }
    case 'held':
      return `Customs is holding it${ref ? ` (${ref})` : ''}: ${d.statusReason ?? 'no reason given'}.`;
    case 'rejected':
      return `Customs rejected it${ref ? ` (${ref})` : ''}: ${d.statusReason ?? 'no reason given'}.`;
    case 'cancelled':
      return `It was withdrawn${d.statusReason ? `: ${d.statusReason}` : ''}.`;
    case 'under_review':
    case 'accepted':
      return `Customs is reviewing it${ref ? ` (${ref})` : ''}; no decision yet.`;
    case 'submitted':
      return `It was submitted ${ago(d.filedAt ?? d.updatedAt, now)}; customs hasn't reported back yet.`;
    case 'draft':
      return 'It is drafted and about to be submitted.';
  }
}

function answerPrefix(status: DeclarationStatus, question: string | undefined): string {
  if (question !== 'cleared') return '';
  if (status === 'cleared') return 'Yes — ';
  if (status === 'held' || status === 'rejected' || status === 'cancelled') return 'No — ';
  return 'Not yet — ';
}

export function declarationStatusReply(
  d: Declaration,
  s: Shipment | undefined,
  job: { job: JobRecord; last?: string } | undefined,
  question: string | undefined,
  now: Date,
): SkillReply {
  const first = `${answerPrefix(d.status, question)}${d.number} for ${s ? shipmentLabel(s) : d.shipment} is ${statusLabel(d.status)}.`;
  const parts = [
    first,
    meaning(d, s, now),
    `${d.kind === 'import' ? 'Import' : d.kind === 'export' ? 'Export' : 'Transit'} of ${d.lines.length === 1 ? '1 line' : `${d.lines.length} lines`}, customs value ${money(d.customsValue, d.currency)}; filed by ${d.filedByName ?? d.filedBy ?? 'unknown'}${d.filedAt ? ` ${ago(d.filedAt, now)}` : ''}.`,
  ];
  const card = declarationCard(d, s);
  if (job) {
    const line = `Latest automation: job ${job.job.id} (${job.job.action.split('.')[1]?.replace(/_/g, ' ')}) ${statusLabel(job.job.status)}${job.last ? ` — ${job.last}` : ''}.`;
    parts.push(line);
    card.notes = [line];
  }
  return { text: parts.join(' '), cardText: `${first} ${meaning(d, s, now)}`, card };
}

export function noDeclarationReply(s: Shipment, domestic: boolean, question: string | undefined): SkillReply {
  const prefix = question === 'cleared' && !domestic ? 'Not yet — ' : '';
  const status = statusLabel(s.status);
  const text = domestic
    ? `${shipmentLabel(s)} is ${status}. It stays within ${countryName(s.originCountry)}, so it needs no customs declaration.`
    : `${prefix}${shipmentLabel(s)} is ${status} and has no customs declaration yet. A broker can file one: "file a declaration for ${s.number}".`;
  return { text };
}

// ------------------------------------------------------------------------------------ classification

function matchLine(m: TariffMatch, value?: number, currency = 'USD'): string {
  const duty = value !== undefined ? `; duty ${money(dutyOf(value, m.entry.rate), currency)}` : '';
  return `• ${formatHs(m.entry.hs)} — ${m.entry.description} (${m.entry.rate}%${duty})`;
}

export interface ClassifyContext {
  description: string;
  value?: number;
  currency?: string;
  origin?: string;
  /** Our product the words named, with its master-data HS code. */
  product?: { sku: string; name: string; hsCode: string | null };
  tableSize: number;
}

export function classificationReply(c: Classification, x: ClassifyContext): SkillReply {
  const currency = x.currency ?? 'USD';
  const quoted = `"${x.description.slice(0, 60)}"`;
  const parts: string[] = [];
  let card: CardSpec | undefined;
  if (c.status === 'confident') {
    const e = c.best.entry;
    parts.push(`HS ${formatHs(e.hs)} — ${e.description}. Illustrative duty rate: ${e.rate}%.`);
    if (x.value !== undefined) {
      const origin = x.origin ? `goods of origin ${countryName(x.origin)}` : 'goods of any origin';
      parts.push(
        `Duty estimate: ${e.rate}% of ${money(x.value, currency)} = ${money(dutyOf(x.value, e.rate), currency)} for ${origin} (the table's general rate; preferential rates, anti-dumping or other extra duties and VAT are not included).`,
      );
    }
    if (c.alternatives.length > 0) parts.push(`Also close: ${c.alternatives.map((a) => `${formatHs(a.entry.hs)} (${a.entry.description}, ${a.entry.rate}%)`).join('; ')}.`);
    card = {
      title: `HS ${formatHs(e.hs)}`,
      subtitle: e.description,
      facts: [
        { title: 'Goods', value: x.description },
        { title: 'Duty rate', value: `${e.rate}% (illustrative)` },
        ...(x.value !== undefined ? [{ title: 'Duty estimate', value: `${money(dutyOf(x.value, e.rate), currency)} on ${money(x.value, currency)}` }] : []),
        ...(x.origin ? [{ title: 'Origin', value: `${countryName(x.origin)} (${x.origin})` }] : []),
      ],
      notes: [RATES_NOTE],
    };
  } else if (c.status === 'unsure') {
    parts.push(`I'm not sure which subheading fits ${quoted}. The closest in the tariff table:`);
    parts.push(...c.candidates.map((m) => matchLine(m, x.value, currency)));
    if (x.value !== undefined) parts.push(`Duty on ${money(x.value, currency)} depends on which one it is${x.origin ? ` (origin ${countryName(x.origin)})` : ''}.`);
    parts.push('Tell me more — what it is made of or used for — e.g. "HS code for nitrile gloves".');
  } else {
    parts.push(
      `I couldn't find anything close to ${quoted} in the tariff table — it covers ${x.tableSize} common HS 2022 subheadings, not the whole nomenclature. Try other words (what it is, what it is made of), or check the official tariff.`,
    );
  }
  if (x.product) {
    parts.push(
      x.product.hsCode
        ? `Your product master lists ${x.product.name} (${x.product.sku}) under ${formatHs(x.product.hsCode)}.`
        : `${x.product.name} (${x.product.sku}) has no HS code in your product master yet.`,
    );
  }
  if (c.status !== 'none') parts.push(RATES_NOTE);
  const text = parts.join(c.status === 'unsure' ? '\n' : ' ');
  // The card repeats the code, rate and estimate as facts; the text keeps every sentence but the rates note (a card note).
  return card ? { text, cardText: parts.filter((p) => p !== RATES_NOTE).join(' '), card } : { text };
}

export function listingOf(shipments: readonly Shipment[]): string {
  return listing(shipments.map(shipmentChoice));
}
