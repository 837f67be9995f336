import { countryName } from './countries.js';
import { round2, type Declaration, type Shipment, type ShipmentLine } from './declarations.js';
import { checkHsCode, dutyOf, formatHs, type HsCheck } from './tariff.js';

/**
 * What a declaration for a shipment says, before it is filed: one line per shipment line with the
 * goods description, HS code, origin, quantity and value, the duty the tariff table estimates, and
 * what customs will probably object to.
 */

/** HS codes the filer gave for products that have none (or to override), by SKU; `none` = file without. */
export type HsCodes = Record<string, string>;
export const NO_CODE = 'none';

export interface FilingLine {
  lineNo: number;
  sku: string;
  description: string;
  quantity: number;
  unit: string;
  hsCode: string | null;
  /** Where the code came from: the product master, the filer, or nowhere. */
  hsSource: 'product' | 'filer' | 'none';
  check: HsCheck;
  originCountry: string | null;
  value: number;
  /** Illustrative ad valorem rate from the tariff table; null when the code is not in it. */
  dutyRate: number | null;
  duty: number;
}

export interface Filing {
  shipment: Shipment;
  kind: 'import' | 'export';
  currency: string;
  lines: FilingLine[];
  customsValue: number;
  dutyEstimate: number;
  /** What customs will likely object to (shown on the confirmation). */
  warnings: string[];
}

export function kindOf(shipment: Shipment): 'import' | 'export' {
  return shipment.direction === 'outbound' ? 'export' : 'import';
}

/** A shipment that stays within one country crosses no border (the storage skill receives it from transit). */
export function isDomestic(shipment: Shipment): boolean {
  const destination = shipment.warehouseCountry;
  return !!shipment.originCountry && !!destination && shipment.originCountry === destination;
}

/** The HS code a line is declared with: the filer's, else the product master's. */
export function lineCode(line: ShipmentLine, codes: HsCodes | undefined): { code: string | null; source: FilingLine['hsSource'] } {
  const given = codes?.[line.sku];
  if (given === NO_CODE) return { code: null, source: 'none' };
  if (given) return { code: given, source: 'filer' };
  return line.hsCode ? { code: line.hsCode, source: 'product' } : { code: null, source: 'none' };
}

/** Lines that still need an HS code from the filer (no product code, no answer yet). */
export function linesMissingCode(shipment: Shipment, codes: HsCodes | undefined): ShipmentLine[] {
  return shipment.lines.filter((l) => !l.hsCode && !codes?.[l.sku]);
}

export function buildFiling(shipment: Shipment, codes: HsCodes | undefined): Filing {
  const kind = kindOf(shipment);
  const warnings: string[] = [];
  const lines = shipment.lines.map((l): FilingLine => {
    const { code, source } = lineCode(l, codes);
    const check = checkHsCode(code);
    const dutyRate = check.status === 'known' ? check.entry.rate : null;
    const duty = kind === 'import' && dutyRate !== null ? dutyOf(l.value, dutyRate) : 0;
    const what = `line ${l.lineNo} (${l.productName})`;
    if (!code) warnings.push(`${what} has no HS code: customs will hold the declaration until it has one.`);
    else if (check.status === 'invalid') warnings.push(`${what}: ${check.reason}; customs will hold the declaration.`);
    else if (check.status === 'unknown') {
      warnings.push(`${what}: ${formatHs(code)} is not in my tariff table (a subset of HS 2022), so I can't check it or estimate its duty.`);
    }
    if (!l.originCountry) warnings.push(`${what} has no country of origin.`);
    return {
      lineNo: l.lineNo,
      sku: l.sku,
      description: l.productName,
      quantity: l.quantity,
      unit: l.unit,
      hsCode: code,
      hsSource: source,
      check,
      originCountry: l.originCountry,
      value: l.value,
      dutyRate,
      duty,
    };
  });
  const customsValue = round2(lines.reduce((sum, l) => sum + l.value, 0));
  const dutyEstimate = round2(lines.reduce((sum, l) => sum + l.duty, 0));
  return { shipment, kind, currency: 'USD', lines, customsValue, dutyEstimate, warnings };
}

/** "sea, COSCO, Shenzhen (China) → WH-B Dallas". */
export function routeText(s: Shipment): string {
  const country = countryName(s.originCountry);
  const from = s.originPort && s.originPort !== country ? `${s.originPort} (${country})` : (s.originPort ?? country);
  const to = s.warehouse ? `${s.warehouse}${s.warehouseName ? ` ${s.warehouseName}` : ''}` : 'unknown destination';
  const how = [s.mode, s.carrier].filter(Boolean).join(', ');
  return `${how ? `${how}, ` : ''}${from} → ${to}`;
}

/**
 * The declaration as the connector carries it to the broker / customs system (and the simulator
 * reads it): everything a customs entry needs, in plain JSON.
 */
export function declarationPayload(d: Declaration, s: Shipment | undefined): Record<string, unknown> {
  return {
    declaration: d.number,
    shipment: d.shipment,
    kind: d.kind,
    currency: d.currency,
    customsValue: d.customsValue,
    dutyEstimate: d.dutyEstimate,
    authorityReference: d.authorityReference,
    filedBy: d.filedByName ?? d.filedBy,
    transport: s ? { mode: s.mode, carrier: s.carrier, originCountry: s.originCountry, originPort: s.originPort } : undefined,
    destination: s ? { warehouse: s.warehouse, city: s.warehouseCity, country: s.warehouseCountry } : undefined,
    purchaseOrder: s?.po ?? undefined,
    lines: d.lines.map((l) => ({
      lineNo: l.lineNo,
      sku: l.sku,
      description: l.description,
      hsCode: l.hsCode,
      originCountry: l.originCountry,
      quantity: l.quantity,
      unit: l.unit,
      value: l.value,
    })),
  };
}
