import type { DataSource, QueryRunner } from 'typeorm';
import { execute } from '../../db/sql.js';

/** Shipments and customs declarations in the system of record: reading, filing, the lifecycle. */

type Target = DataSource | QueryRunner;

export const DECLARATION_STATUSES = ['draft', 'submitted', 'accepted', 'under_review', 'held', 'cleared', 'rejected', 'cancelled'] as const;
export type DeclarationStatus = (typeof DECLARATION_STATUSES)[number];

/** The decisions customs can take on a declaration. */
export const DECISIONS = ['cleared', 'held', 'rejected'] as const;
export type Decision = (typeof DECISIONS)[number];

/** Still with customs: a shipment with one of these can't get another declaration. */
export const IN_PROGRESS: readonly DeclarationStatus[] = ['draft', 'submitted', 'accepted', 'under_review'];
/** Final: nothing more will happen to it (`held` can still be replaced or decided). */
export const FINAL: readonly DeclarationStatus[] = ['cleared', 'rejected', 'cancelled'];

/** The lifecycle (which event moves which status where) is the table in lifecycle.ts. */

// ------------------------------------------------------------------------------------ shipments

export interface ShipmentLine {
  lineNo: number;
  sku: string;
  productName: string;
  productAliases: string[];
  unit: string;
  quantity: number;
  /** From the product master; null when the product is not classified yet. */
  hsCode: string | null;
  /** The goods' origin: the product's, else the country the shipment left from. */
  originCountry: string | null;
  /** Per unit: the purchase order line's price, else the product's list price. */
  unitValue: number;
  value: number;
}

export interface Shipment {
  id: number;
  number: string;
  direction: 'inbound' | 'outbound';
  status: string;
  mode: string | null;
  carrier: string | null;
  originCountry: string | null;
  originPort: string | null;
  warehouse: string | null;
  warehouseName: string | null;
  warehouseCity: string | null;
  warehouseCountry: string | null;
  supplier: string | null;
  po: string | null;
  eta: string | null;
  lines: ShipmentLine[];
}

interface ShipmentRow {
  id: string;
  number: string;
  direction: 'inbound' | 'outbound';
  status: string;
  mode: string | null;
  carrier: string | null;
  origin_country: string | null;
  origin_port: string | null;
  warehouse_code: string | null;
  warehouse_name: string | null;
  warehouse_city: string | null;
  warehouse_country: string | null;
  supplier: string | null;
  po: string | null;
  eta: string | null;
}

const SHIPMENT_SELECT = `SELECT s.id, s.number, s.direction, s.status, s.mode, s.carrier, s.origin_country, s.origin_port,
    s.warehouse_code, w.name AS warehouse_name, w.city AS warehouse_city, w.country AS warehouse_country,
    sup.name AS supplier, po.number AS po, to_char(s.eta, 'YYYY-MM-DD') AS eta
  FROM shipments s
  LEFT JOIN warehouses w ON w.code = s.warehouse_code
  LEFT JOIN suppliers sup ON sup.id = s.supplier_id
  LEFT JOIN purchase_orders po ON po.id = s.po_id`;

const trimmed = (v: string | null) => (v === null ? null : v.trim());

async function withLines(target: Target, rows: ShipmentRow[]): Promise<Shipment[]> {
  if (rows.length === 0) return [];
  const lines = await execute<{
    shipment_id: string;
    line_no: number;
    sku: string;
    name: string;
    aliases: string[];
    unit: string;
    quantity: string;
    hs_code: string | null;
    origin_country: string | null;
    unit_value: string;
  }>(
    target,
    `SELECT l.shipment_id, l.line_no, l.sku, p.name, p.aliases, p.unit, l.quantity, p.hs_code, p.origin_country,
            COALESCE(pol.unit_price, p.unit_price) AS unit_value
     FROM shipment_lines l
     JOIN products p ON p.sku = l.sku
     LEFT JOIN purchase_order_lines pol ON pol.po_id = l.po_id AND pol.line_no = l.po_line_no
     WHERE l.shipment_id = ANY($1::bigint[]) ORDER BY l.shipment_id, l.line_no`,
    [rows.map((r) => r.id)],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    number: r.number,
    direction: r.direction,
    status: r.status,
    mode: r.mode,
    carrier: r.carrier,
    originCountry: trimmed(r.origin_country),
    originPort: r.origin_port,
    warehouse: r.warehouse_code,
    warehouseName: r.warehouse_name,
    warehouseCity: r.warehouse_city,
    warehouseCountry: trimmed(r.warehouse_country),
    supplier: r.supplier,
    po: r.po,
    eta: r.eta,
    lines: lines.rows
      .filter((l) => l.shipment_id === r.id)
      .map((l) => {
        const quantity = Number(l.quantity);
        const unitValue = Number(l.unit_value);
        return {
          lineNo: l.line_no,
          sku: l.sku,
          productName: l.name,
          productAliases: l.aliases,
          unit: l.unit,
          quantity,
          hsCode: l.hs_code,
          originCountry: trimmed(l.origin_country) ?? trimmed(r.origin_country),
          unitValue,
          value: round2(quantity * unitValue),
        };
      }),
  }));
}

/** One shipment with its lines; `lock` takes a row lock (inside a transaction). */
export async function findShipment(target: Target, number: string, options: { lock?: boolean } = {}): Promise<Shipment | undefined> {
  const { rows } = await execute<ShipmentRow>(target, `${SHIPMENT_SELECT} WHERE s.number = $1 ${options.lock ? 'FOR UPDATE OF s' : ''}`, [
    number.toUpperCase(),
  ]);
  return (await withLines(target, rows))[0];
}

export async function findShipmentById(target: Target, id: number): Promise<Shipment | undefined> {
  const { rows } = await execute<ShipmentRow>(target, `${SHIPMENT_SELECT} WHERE s.id = $1`, [id]);
  return (await withLines(target, rows))[0];
}

/** Shipments people may still ask about (not delivered or cancelled), newest first. */
export async function activeShipments(target: Target, limit = 200): Promise<Shipment[]> {
  const { rows } = await execute<ShipmentRow>(
    target,
    `${SHIPMENT_SELECT} WHERE s.status NOT IN ('delivered', 'cancelled') ORDER BY s.id DESC LIMIT $1`,
    [limit],
  );
  return withLines(target, rows);
}

/** Customs released the goods: the shipment is ready to receive (the storage skill receives `cleared` shipments). */
export async function markShipmentCleared(tx: QueryRunner, shipmentId: number): Promise<boolean> {
  const { rowCount } = await execute(
    tx,
    `UPDATE shipments SET status = 'cleared', updated_at = now() WHERE id = $1 AND status IN ('planned', 'in_transit', 'at_customs')`,
    [shipmentId],
  );
  return rowCount > 0;
}

// ------------------------------------------------------------------------------------ declarations

export interface DeclarationLine {
  lineNo: number;
  sku: string;
  description: string;
  hsCode: string | null;
  originCountry: string | null;
  quantity: number;
  unit: string | null;
  value: number;
  dutyRate: number | null;
}

export interface Declaration {
  id: number;
  number: string;
  shipmentId: number;
  shipment: string;
  kind: 'import' | 'export' | 'transit';
  status: DeclarationStatus;
  currency: string;
  customsValue: number;
  dutyEstimate: number | null;
  dutyAmount: number | null;
  authorityReference: string | null;
  statusReason: string | null;
  filedBy: string | null;
  filedByName: string | null;
  filedAt: Date | null;
  decidedAt: Date | null;
  clearedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  lines: DeclarationLine[];
}

interface DeclarationRow {
  id: string;
  number: string;
  shipment_id: string;
  shipment: string;
  kind: Declaration['kind'];
  status: DeclarationStatus;
  currency: string;
  customs_value: string | null;
  duty_estimate: string | null;
  duty_amount: string | null;
  authority_reference: string | null;
  status_reason: string | null;
  filed_by: string | null;
  filed_by_name: string | null;
  filed_at: Date | null;
  decided_at: Date | null;
  cleared_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const DECLARATION_SELECT = `SELECT d.id, d.number, d.shipment_id, s.number AS shipment, d.kind, d.status, d.currency, d.customs_value,
    d.duty_estimate, d.duty_amount, d.authority_reference, d.status_reason, d.filed_by, d.filed_by_name, d.filed_at,
    d.decided_at, d.cleared_at, d.created_at, d.updated_at
  FROM customs_declarations d JOIN shipments s ON s.id = d.shipment_id`;

const num = (v: string | null) => (v === null ? null : Number(v));
const date = (v: Date | null) => (v ? new Date(v) : null);

async function withDeclarationLines(target: Target, rows: DeclarationRow[]): Promise<Declaration[]> {
  if (rows.length === 0) return [];
  const lines = await execute<{
    declaration_id: string;
    line_no: number;
    sku: string;
    description: string | null;
    name: string;
    hs_code: string | null;
    origin_country: string | null;
    quantity: string;
    unit: string | null;
    value: string;
    duty_rate: string | null;
  }>(
    target,
    `SELECT l.declaration_id, l.line_no, l.sku, l.description, p.name, l.hs_code, l.origin_country, l.quantity, COALESCE(l.unit, p.unit) AS unit,
            l.value, l.duty_rate
     FROM customs_declaration_lines l JOIN products p ON p.sku = l.sku
     WHERE l.declaration_id = ANY($1::bigint[]) ORDER BY l.declaration_id, l.line_no`,
    [rows.map((r) => r.id)],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    number: r.number,
    shipmentId: Number(r.shipment_id),
    shipment: r.shipment,
    kind: r.kind,
    status: r.status,
    currency: r.currency.trim(),
    customsValue: Number(r.customs_value ?? 0),
    dutyEstimate: num(r.duty_estimate),
    dutyAmount: num(r.duty_amount),
    authorityReference: r.authority_reference,
    statusReason: r.status_reason,
    filedBy: r.filed_by,
    filedByName: r.filed_by_name,
    filedAt: date(r.filed_at),
    decidedAt: date(r.decided_at),
    clearedAt: date(r.cleared_at),
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
    lines: lines.rows
      .filter((l) => l.declaration_id === r.id)
      .map((l) => ({
        lineNo: l.line_no,
        sku: l.sku,
        description: l.description ?? l.name,
        hsCode: l.hs_code,
        originCountry: trimmed(l.origin_country),
        quantity: Number(l.quantity),
        unit: l.unit,
        value: Number(l.value),
        dutyRate: num(l.duty_rate),
      })),
  }));
}

/** One declaration with its lines; `lock` takes a row lock (inside a transaction). */
export async function findDeclaration(target: Target, number: string, options: { lock?: boolean } = {}): Promise<Declaration | undefined> {
  const { rows } = await execute<DeclarationRow>(target, `${DECLARATION_SELECT} WHERE d.number = $1 ${options.lock ? 'FOR UPDATE OF d' : ''}`, [
    number.toUpperCase(),
  ]);
  return (await withDeclarationLines(target, rows))[0];
}

/** A shipment's declarations, newest first. */
export async function declarationsOf(target: Target, shipmentId: number): Promise<Declaration[]> {
  const { rows } = await execute<DeclarationRow>(target, `${DECLARATION_SELECT} WHERE d.shipment_id = $1 ORDER BY d.id DESC`, [shipmentId]);
  return withDeclarationLines(target, rows);
}

/** The latest declaration of each of these shipments. */
export async function latestDeclarations(target: Target, shipmentIds: readonly number[]): Promise<Map<number, { number: string; status: DeclarationStatus }>> {
  if (shipmentIds.length === 0) return new Map();
  const { rows } = await execute<{ shipment_id: string; number: string; status: DeclarationStatus }>(
    target,
    `SELECT DISTINCT ON (shipment_id) shipment_id, number, status FROM customs_declarations
     WHERE shipment_id = ANY($1::bigint[]) ORDER BY shipment_id, id DESC`,
    [shipmentIds],
  );
  return new Map(rows.map((r) => [Number(r.shipment_id), { number: r.number, status: r.status }]));
}

export interface NewDeclaration {
  number: string;
  shipmentId: number;
  kind: 'import' | 'export';
  currency: string;
  customsValue: number;
  dutyEstimate: number;
  filedBy: string;
  filedByName: string | null;
  lines: Omit<DeclarationLine, 'lineNo'>[];
}

/** The next declaration number (CD-3101, CD-3102, …). */
export async function nextDeclarationNumber(tx: QueryRunner): Promise<string> {
  const { rows } = await execute<{ number: string }>(tx, `SELECT 'CD-' || nextval('customs_declaration_number_seq') AS number`);
  return rows[0]!.number;
}

/** Inserts a draft declaration with its lines. */
export async function insertDeclaration(tx: QueryRunner, d: NewDeclaration): Promise<void> {
  const { rows } = await execute<{ id: string }>(
    tx,
    `INSERT INTO customs_declarations (number, shipment_id, kind, status, currency, customs_value, duty_estimate, filed_by, filed_by_name)
     VALUES ($1, $2, $3, 'draft', $4, $5, $6, $7, $8) RETURNING id`,
    [d.number, d.shipmentId, d.kind, d.currency, round2(d.customsValue), round2(d.dutyEstimate), d.filedBy, d.filedByName],
  );
  const id = rows[0]!.id;
  let lineNo = 0;
  for (const line of d.lines) {
    lineNo += 1;
    await execute(
      tx,
      `INSERT INTO customs_declaration_lines (declaration_id, line_no, sku, description, hs_code, origin_country, quantity, unit, value, duty_rate)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [id, lineNo, line.sku, line.description, line.hsCode, line.originCountry, line.quantity, line.unit, round2(line.value), line.dutyRate],
    );
  }
}

/** Records the authority's reference without changing the status (an acknowledgment that came late). */
export async function setAuthorityReference(tx: QueryRunner, d: Declaration, reference: string): Promise<void> {
  await execute(tx, `UPDATE customs_declarations SET authority_reference = COALESCE(authority_reference, $2), updated_at = now() WHERE id = $1`, [
    d.id,
    reference,
  ]);
  d.authorityReference ??= reference;
}

export function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
