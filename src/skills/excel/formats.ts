import { findProduct, findWarehouse, type MasterRecords } from '../data/masterData.js';
import { money, quantity } from '../format.js';
import { normalizeName } from '../../nlu/entities/nameMatcher.js';
import type { Draft, SkillSettings } from '../types.js';
import { UncomputedFormula, type CellValue } from './workbook.js';

/**
 * The spreadsheets the assistant imports. Each format names the write action every row becomes a
 * draft for (validated with that action's own `check`, run with its own `submit`), the columns it
 * reads (header names matched case-insensitively, with synonyms), and how a row reads back.
 */

export type ColumnKind = 'text' | 'code' | 'quantity' | 'date';

export interface ColumnSpec {
  key: string;
  /** The name the replies and the sample file use. */
  label: string;
  /** Accepted header names, normalised (lower case, words only). */
  names: readonly string[];
  required: boolean;
  kind: ColumnKind;
}

export type RowValues = Record<string, string | number | undefined>;

export interface ImportFormat {
  id: 'orders' | 'receiving';
  /** The write action each row becomes. */
  action: string;
  /** "purchase order lines". */
  label: string;
  /** Button and question: "Place 3 orders". */
  verb: string;
  noun: { one: string; many: string };
  /** Words in the message that ask for this format when the columns fit more than one. */
  hint: RegExp;
  columns: readonly ColumnSpec[];
  /** A row's values as a draft for the action. */
  toDraft(values: RowValues, md: MasterRecords): Draft;
  /** One line for a valid row (the action's slots). */
  describe(slots: unknown, md: MasterRecords, settings: SkillSettings): string;
}

const skuColumn: ColumnSpec = {
  key: 'sku',
  label: 'SKU',
  names: ['sku', 'item', 'item code', 'item number', 'product', 'product code', 'part', 'part number', 'article', 'material'],
  required: true,
  kind: 'code',
};

const quantityColumn: ColumnSpec = {
  key: 'quantity',
  label: 'Quantity',
  names: ['quantity', 'qty', 'units', 'count', 'order qty', 'order quantity', 'received', 'received qty', 'qty received', 'quantity received'],
  required: true,
  kind: 'quantity',
};

/** An order line per row: one purchase order (one job) each. */
export const ORDER_LINES: ImportFormat = {
  id: 'orders',
  action: 'procurement.create_order',
  label: 'purchase order lines',
  verb: 'Place',
  noun: { one: 'order', many: 'orders' },
  hint: /\b(orders?|purchase|buy|po lines|order lines)\b/i,
  columns: [
    skuColumn,
    quantityColumn,
    { key: 'supplier', label: 'Supplier', names: ['supplier', 'vendor', 'supplier name', 'vendor name'], required: true, kind: 'text' },
    {
      key: 'shipTo',
      label: 'Ship to',
      names: ['ship to', 'shipto', 'deliver to', 'delivery to', 'destination', 'warehouse', 'ship to warehouse'],
      required: false,
      kind: 'text',
    },
    {
      key: 'needBy',
      label: 'Need by',
      names: ['need by', 'needed by', 'needby', 'due', 'due date', 'delivery date', 'required by', 'date needed', 'wanted by'],
      required: false,
      kind: 'date',
    },
  ],
  toDraft(values, md) {
    const draft: Draft = {
      lines: [{ sku: productCode(String(values.sku), md), quantity: values.quantity }],
      supplier: String(values.supplier),
    };
    if (values.shipTo !== undefined) draft.shipTo = warehouseCode(String(values.shipTo), md);
    if (values.needBy !== undefined) draft.needBy = values.needBy;
    return draft;
  },
  describe(slots, md, settings) {
    const s = slots as { supplier: string; lines: { sku: string; quantity: number }[]; shipTo?: string; needBy?: string };
    const line = s.lines[0]!;
    const product = findProduct(md, line.sku);
    const amount = product ? Math.round(product.unitPrice * line.quantity * 100) / 100 : undefined;
    const approval = amount !== undefined && amount > settings.approvalThreshold ? ' (needs approval)' : '';
    return (
      `${quantity(line.quantity, product?.unit)} of ${line.sku}${product ? ` ${product.name}` : ''} from ${s.supplier} to ${s.shipTo ?? 'WH-A'}` +
      `${s.needBy ? ` by ${s.needBy}` : ''}${amount !== undefined ? `, ${money(amount, settings.currency)}` : ''}${approval}`
    );
  },
};

/** A receiving list: what arrived per row (PO, SKU, quantity), one goods receipt (one job) each. */
export const RECEIVING_LIST: ImportFormat = {
  id: 'receiving',
  action: 'storage.receive_goods',
  label: 'a receiving list',
  verb: 'Receive',
  noun: { one: 'line', many: 'lines' },
  hint: /\b(receiv\w*|receipts?|arrived|arrivals?|goods in|delivered|deliveries|grn)\b/i,
  columns: [
    {
      key: 'po',
      label: 'PO',
      names: ['po', 'po number', 'po no', 'purchase order', 'purchase order number', 'purchase order no'],
      required: true,
      kind: 'code',
    },
    skuColumn,
    quantityColumn,
    { key: 'warehouse', label: 'Warehouse', names: ['warehouse', 'wh', 'site', 'warehouse code', 'receiving warehouse'], required: false, kind: 'text' },
    { key: 'bin', label: 'Bin', names: ['bin', 'bin code', 'location', 'slot', 'put away bin', 'putaway bin'], required: false, kind: 'code' },
    { key: 'shipment', label: 'Shipment', names: ['shipment', 'shipment number', 'shipment no'], required: false, kind: 'code' },
  ],
  toDraft(values, md) {
    const draft: Draft = {
      po: String(values.po).toUpperCase(),
      lines: [{ sku: productCode(String(values.sku), md), quantity: values.quantity }],
    };
    if (values.warehouse !== undefined) draft.warehouse = warehouseCode(String(values.warehouse), md);
    if (values.bin !== undefined) draft.bin = String(values.bin).toUpperCase();
    if (values.shipment !== undefined) draft.shipment = String(values.shipment).toUpperCase();
    return draft;
  },
  describe(slots, md) {
    const s = slots as { po: string; lines: { sku: string; quantity: number }[]; warehouse?: string; bin?: string; shipment?: string };
    const line = s.lines[0]!;
    const product = findProduct(md, line.sku);
    return (
      `${quantity(line.quantity, product?.unit)} of ${line.sku}${product ? ` ${product.name}` : ''} against ${s.po}` +
      `${s.shipment ? ` (shipment ${s.shipment})` : ''} into ${s.warehouse ?? 'its warehouse'}${s.bin ? ` bin ${s.bin}` : ''}`
    );
  },
};

/** A sheet that fits more than one: the one the message names ("receive …"), else the one with more columns. */
export const ALL_FORMATS: readonly ImportFormat[] = [ORDER_LINES, RECEIVING_LIST];

/** "Ship To (optional)" → "ship to". */
export function normalizeHeader(text: string): string {
  return text
    .toLowerCase()
    .replace(/\(.*?\)/g, ' ')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

/** A product named by SKU, name or alias → its SKU; anything else as written (the check explains). */
function productCode(written: string, md: MasterRecords): string {
  const trimmed = written.trim();
  if (findProduct(md, trimmed)) return trimmed.toUpperCase();
  const norm = normalizeName(trimmed);
  const byName = md.products.find((p) => normalizeName(p.name) === norm || p.aliases.some((a) => normalizeName(a) === norm));
  return byName?.sku ?? trimmed.toUpperCase();
}

/** A warehouse named by code, name or alias ("Dallas") → its code; anything else as written. */
export function warehouseCode(written: string, md: MasterRecords): string {
  const trimmed = written.trim();
  if (findWarehouse(md, trimmed)) return trimmed.toUpperCase();
  const norm = normalizeName(trimmed);
  const byName = md.warehouses.find((w) => normalizeName(w.name) === norm || w.aliases.some((a) => normalizeName(a) === norm));
  return byName?.code ?? trimmed;
}

// ------------------------------------------------------------------------------ cell reading

/** A cell read as the column's kind, or the reason it can't be. */
export function readCell(column: ColumnSpec, cell: CellValue): { value?: string | number; problem?: string } {
  if (cell instanceof UncomputedFormula) {
    return { problem: `${column.label} is a formula with no saved result (open the file in Excel, save it, and send it again)` };
  }
  if (cell === undefined || cell === '') return column.required ? { problem: `${column.label} is empty` } : {};
  switch (column.kind) {
    case 'quantity': {
      if (typeof cell === 'number') return Number.isFinite(cell) ? { value: cell } : { problem: `${column.label} is not a number` };
      const text = String(cell).trim();
      const match = /^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$/.exec(text);
      if (!match) return { problem: `${column.label} "${clip(text)}" is not a number` };
      return { value: Number(text.replace(/,/g, '')) };
    }
    case 'date': {
      if (cell instanceof Date) return { value: cell.toISOString().slice(0, 10) };
      const text = String(cell).trim();
      const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
      if (iso && !Number.isNaN(Date.parse(`${text}T00:00:00Z`)) && new Date(`${text}T00:00:00Z`).toISOString().startsWith(text)) {
        return { value: text };
      }
      return { problem: `${column.label} "${clip(text)}" is not a date (use a date cell or YYYY-MM-DD)` };
    }
    case 'code': {
      const text = cell instanceof Date ? cell.toISOString().slice(0, 10) : String(cell).trim();
      return text.length > 64 ? { problem: `${column.label} "${clip(text)}" is too long to be one` } : { value: text };
    }
    default:
      return { value: cell instanceof Date ? cell.toISOString().slice(0, 10) : String(cell).trim().slice(0, 200) };
  }
}

export function clip(text: string, max = 40): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
