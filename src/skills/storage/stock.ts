import type { DataSource, QueryRunner } from 'typeorm';
import { execute } from '../../db/sql.js';
import { transferMachine, transitionTransfer, type TransferStatus } from './lifecycle.js';

/**
 * The stock ledger: `stock_movements` holds one row per movement (append-only), and the trigger
 * of SystemOfRecord keeps `stock_balances` in step in the same transaction, with
 * CHECK (quantity >= 0). Reads come from the balances; every write here is a ledger row.
 */

type Target = DataSource | QueryRunner;

/** Bins stock is kept in (put-away targets); `receiving` is the dock, used when no rack is free. */
const STORAGE_KINDS = ['rack', 'floor'];

export interface StockBalance {
  warehouse: string;
  warehouseName: string;
  bin: string;
  binKind: string;
  sku: string;
  productName: string;
  unit: string;
  quantity: number;
  updatedAt: Date;
}

export interface StockFilter {
  warehouse?: string;
  sku?: string;
}

/**
 * On-hand stock per bin (only bins that hold some), by warehouse and/or SKU, ordered by
 * warehouse, SKU and bin. The Excel exporter reuses this.
 */
export async function stockBalances(target: Target, filter: StockFilter = {}): Promise<StockBalance[]> {
  const params: unknown[] = [];
  const where = ['b.quantity > 0'];
  if (filter.warehouse) {
    params.push(filter.warehouse.toUpperCase());
    where.push(`b.warehouse_code = $${params.length}`);
  }
  if (filter.sku) {
    params.push(filter.sku.toUpperCase());
    where.push(`b.sku = $${params.length}`);
  }
  const { rows } = await execute<{
    warehouse_code: string;
    warehouse_name: string;
    bin_code: string;
    kind: string;
    sku: string;
    product_name: string;
    unit: string;
    quantity: string;
    updated_at: Date;
  }>(
    target,
    `SELECT b.warehouse_code, w.name AS warehouse_name, b.bin_code, bn.kind, b.sku, p.name AS product_name, p.unit,
            b.quantity, b.updated_at
     FROM stock_balances b
     JOIN warehouses w ON w.code = b.warehouse_code
     JOIN bins bn ON bn.warehouse_code = b.warehouse_code AND bn.code = b.bin_code
     JOIN products p ON p.sku = b.sku
     WHERE ${where.join(' AND ')}
     ORDER BY b.warehouse_code, b.sku, b.bin_code`,
    params,
  );
  return rows.map((r) => ({
    warehouse: r.warehouse_code,
    warehouseName: r.warehouse_name,
    bin: r.bin_code,
    binKind: r.kind,
    sku: r.sku,
    productName: r.product_name,
    unit: r.unit,
    quantity: Number(r.quantity),
    updatedAt: new Date(r.updated_at),
  }));
}

export interface BinRecord {
  warehouse: string;
  code: string;
  kind: string;
}

export async function binsOf(target: Target, warehouse: string): Promise<BinRecord[]> {
  const { rows } = await execute<{ warehouse_code: string; code: string; kind: string }>(
    target,
    'SELECT warehouse_code, code, kind FROM bins WHERE warehouse_code = $1 ORDER BY code',
    [warehouse.toUpperCase()],
  );
  return rows.map((r) => ({ warehouse: r.warehouse_code, code: r.code, kind: r.kind }));
}

/** The warehouses that have a bin with this code (bin codes like A-01-01 usually name one). */
export async function warehousesWithBin(target: Target, bin: string): Promise<string[]> {
  const { rows } = await execute<{ warehouse_code: string }>(
    target,
    'SELECT warehouse_code FROM bins WHERE code = $1 ORDER BY warehouse_code',
    [bin.toUpperCase()],
  );
  return rows.map((r) => r.warehouse_code);
}

export type PutAwayReason = 'chosen' | 'same_sku' | 'free' | 'receiving';

export interface PutAway {
  bin: string;
  reason: PutAwayReason;
}

/**
 * Where goods of `sku` go in `warehouse`: the storage bin that already holds most of that SKU;
 * else an empty storage bin (not one in `taken`, the bins other lines of the same receipt got);
 * else the receiving dock, to be put away by hand later. Undefined if the warehouse has no bins.
 */
export async function putAwayBin(target: Target, warehouse: string, sku: string, taken: ReadonlySet<string> = new Set()): Promise<PutAway | undefined> {
  const { rows } = await execute<{ code: string; kind: string; same: string; total: string }>(
    target,
    `SELECT bn.code, bn.kind,
            COALESCE(SUM(sb.quantity) FILTER (WHERE sb.sku = $2), 0) AS same,
            COALESCE(SUM(sb.quantity), 0) AS total
     FROM bins bn
     LEFT JOIN stock_balances sb ON sb.warehouse_code = bn.warehouse_code AND sb.bin_code = bn.code
     WHERE bn.warehouse_code = $1
     GROUP BY bn.code, bn.kind
     ORDER BY bn.code`,
    [warehouse.toUpperCase(), sku.toUpperCase()],
  );
  const bins = rows.map((r) => ({ code: r.code, kind: r.kind, same: Number(r.same), total: Number(r.total) }));
  const storage = bins.filter((b) => STORAGE_KINDS.includes(b.kind));
  const holding = storage.filter((b) => b.same > 0).sort((a, b) => b.same - a.same || a.code.localeCompare(b.code));
  if (holding[0]) return { bin: holding[0].code, reason: 'same_sku' };
  const free = storage.find((b) => b.total === 0 && !taken.has(b.code));
  if (free) return { bin: free.code, reason: 'free' };
  const dock = bins.find((b) => b.kind === 'receiving');
  return dock ? { bin: dock.code, reason: 'receiving' } : undefined;
}

export type MovementKind = 'opening' | 'receipt' | 'issue' | 'transfer_out' | 'transfer_in' | 'adjustment';

export interface Movement {
  sku: string;
  warehouse: string;
  bin: string;
  /** Signed: positive adds stock, negative takes it out. */
  quantity: number;
  kind: MovementKind;
  referenceType: string;
  referenceId: string;
  jobId: number | null;
  actor: string;
  note?: string;
}

/** Books one ledger row; the trigger updates the balance (and its CHECK refuses a negative one). */
export async function postMovement(tx: QueryRunner, m: Movement): Promise<void> {
  await execute(
    tx,
    `INSERT INTO stock_movements (sku, warehouse_code, bin_code, quantity, kind, reference_type, reference_id, job_id, actor, note)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [m.sku, m.warehouse, m.bin, m.quantity, m.kind, m.referenceType, m.referenceId, m.jobId, m.actor, m.note ?? null],
  );
}

// ------------------------------------------------------------------------------------ transfers

export interface TransferRequest {
  sku: string;
  quantity: number;
  fromWarehouse: string;
  fromBin?: string;
  toWarehouse: string;
  toBin?: string;
}

export interface TransferLeg {
  bin: string;
  quantity: number;
}

export interface TransferPlan {
  /** Where it comes from: the named bin, or the bins holding most first. */
  legs: TransferLeg[];
  to: PutAway;
  /** On hand at the source (the named bin, or the whole warehouse) before the move. */
  onHand: number;
}

export type TransferCheck = { status: 'ok'; plan: TransferPlan } | { status: 'insufficient'; onHand: number } | { status: 'no_bin' };

interface BalanceRow {
  warehouse_code: string;
  bin_code: string;
  quantity: string;
}

function sourceRows(rows: readonly BalanceRow[], req: TransferRequest): { bin: string; quantity: number }[] {
  return rows
    .filter((r) => r.warehouse_code === req.fromWarehouse && Number(r.quantity) > 0)
    .filter((r) => (req.fromBin ? r.bin_code === req.fromBin : true))
    // Within one warehouse, stock already in the destination bin is not a source.
    .filter((r) => !(req.toBin && req.fromWarehouse === req.toWarehouse && r.bin_code === req.toBin))
    .map((r) => ({ bin: r.bin_code, quantity: Number(r.quantity) }))
    .sort((a, b) => b.quantity - a.quantity || a.bin.localeCompare(b.bin));
}

async function planFrom(target: Target, rows: readonly BalanceRow[], req: TransferRequest): Promise<TransferCheck> {
  const sources = sourceRows(rows, req);
  const onHand = sources.reduce((s, r) => s + r.quantity, 0);
  if (onHand < req.quantity) return { status: 'insufficient', onHand };
  let to: PutAway | undefined;
  if (req.toBin) to = { bin: req.toBin, reason: 'chosen' };
  else if (req.toWarehouse !== req.fromWarehouse) to = await putAwayBin(target, req.toWarehouse, req.sku);
  if (!to) return { status: 'no_bin' };
  const legs: TransferLeg[] = [];
  let left = req.quantity;
  for (const s of sources) {
    if (left <= 0) break;
    const take = Math.min(left, s.quantity);
    legs.push({ bin: s.bin, quantity: take });
    left = round3(left - take);
  }
  return { status: 'ok', plan: { legs, to, onHand } };
}

const BALANCE_ROWS = `SELECT warehouse_code, bin_code, quantity FROM stock_balances
  WHERE sku = $1 AND warehouse_code = ANY($2::text[]) ORDER BY warehouse_code, bin_code`;

/** What a transfer could take from its source now (the named bin, or the warehouse less the destination bin). */
export async function availableToMove(target: Target, req: Omit<TransferRequest, 'quantity'>): Promise<number> {
  const { rows } = await execute<BalanceRow>(target, BALANCE_ROWS, [req.sku, [req.fromWarehouse, req.toWarehouse]]);
  return sourceRows(rows, { ...req, quantity: 0 }).reduce((s, r) => s + r.quantity, 0);
}

/** What a transfer would do now (no locks: for the confirmation). */
export async function previewTransfer(target: Target, req: TransferRequest): Promise<TransferCheck> {
  const { rows } = await execute<BalanceRow>(target, BALANCE_ROWS, [req.sku, [req.fromWarehouse, req.toWarehouse]]);
  return planFrom(target, rows, req);
}

export type TransferOutcome =
  | ({ status: 'moved'; number: string } & TransferPlan)
  | Exclude<TransferCheck, { status: 'ok' }>
  /** The transfer was not `requested` any more (booked, refused or abandoned before): nothing moved now. */
  | { status: 'not_requested'; number: string; current: TransferStatus | undefined; reason: string };

export interface TransferMeta {
  jobId: number | null;
  actor: string;
  actorName?: string | null;
}

/** Creates transfer TR-… as `requested` (nothing moves yet); its number names the operation. */
export async function requestTransfer(tx: QueryRunner, req: TransferRequest, meta: TransferMeta): Promise<string> {
  const { rows } = await execute<{ number: string }>(
    tx,
    `INSERT INTO stock_transfers (number, status, sku, quantity, from_warehouse, from_bin, to_warehouse, to_bin, job_id, moved_by, moved_by_name)
     VALUES ('TR-' || nextval('stock_transfer_number_seq'), 'requested', $1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING number`,
    [req.sku, req.quantity, req.fromWarehouse, req.fromBin ?? null, req.toWarehouse, req.toBin ?? null, meta.jobId, meta.actor, meta.actorName ?? null],
  );
  return rows[0]!.number;
}

/** Links a requested transfer to the job that carries it out. */
export async function attachTransferJob(tx: QueryRunner, number: string, jobId: number): Promise<void> {
  await execute(tx, 'UPDATE stock_transfers SET job_id = $2 WHERE number = $1', [number, jobId]);
}

/**
 * Books requested transfer `number` inside `tx`: never below zero even when transfers run at the
 * same time, and never twice. It locks the transfer row, then every balance row of the SKU in both
 * warehouses (always in the same order, so two transfers cannot deadlock), re-reads what is on hand
 * under that lock, and moves the transfer `requested → moved` (or `→ refused`) with a guarded
 * UPDATE before writing any ledger row; a second booking of the same transfer matches no row and
 * moves nothing. The CHECK (quantity >= 0) on stock_balances is the backstop.
 */
export async function bookTransfer(tx: QueryRunner, number: string): Promise<TransferOutcome> {
  const found = await execute<{ sku: string; quantity: string; from_warehouse: string; from_bin: string | null; to_warehouse: string; to_bin: string | null; status: TransferStatus; job_id: string | null; moved_by: string }>(
    tx,
    `SELECT sku, quantity, from_warehouse, from_bin, to_warehouse, to_bin, status, job_id, moved_by FROM stock_transfers WHERE number = $1 FOR UPDATE`,
    [number],
  );
  const t = found.rows[0];
  if (!t || t.status !== 'requested') {
    const decision = t ? transferMachine.decide(t.status, 'book') : undefined;
    return { status: 'not_requested', number, current: t?.status, reason: decision && !decision.ok ? decision.reason : `${number} not found` };
  }
  const req: TransferRequest = {
    sku: t.sku,
    quantity: Number(t.quantity),
    fromWarehouse: t.from_warehouse,
    fromBin: t.from_bin ?? undefined,
    toWarehouse: t.to_warehouse,
    toBin: t.to_bin ?? undefined,
  };
  const { rows } = await execute<BalanceRow>(tx, `${BALANCE_ROWS} FOR UPDATE`, [req.sku, [req.fromWarehouse, req.toWarehouse]]);
  const check = await planFrom(tx, rows, req);
  if (check.status !== 'ok') {
    const reason = check.status === 'insufficient' ? `insufficient stock: ${check.onHand} on hand` : 'no bin to put it in';
    const refused = await transitionTransfer(tx, number, 'refuse', { reason });
    if (!refused.ok) return { status: 'not_requested', number, current: refused.status, reason: refused.reason };
    return check;
  }
  const { plan } = check;
  const booked = await transitionTransfer(tx, number, 'book', { toBin: plan.to.bin });
  if (!booked.ok) return { status: 'not_requested', number, current: booked.status, reason: booked.reason };
  const common = { sku: req.sku, referenceType: 'stock_transfer', referenceId: number, jobId: t.job_id === null ? null : Number(t.job_id), actor: t.moved_by };
  for (const leg of plan.legs) {
    await postMovement(tx, { ...common, warehouse: req.fromWarehouse, bin: leg.bin, quantity: -leg.quantity, kind: 'transfer_out' });
  }
  await postMovement(tx, { ...common, warehouse: req.toWarehouse, bin: plan.to.bin, quantity: req.quantity, kind: 'transfer_in' });
  return { status: 'moved', number, ...plan };
}

/** Requests and books a transfer in one go (inside `tx`): for callers without a confirmation step. */
export async function transferStock(tx: QueryRunner, req: TransferRequest, meta: TransferMeta): Promise<TransferOutcome> {
  return bookTransfer(tx, await requestTransfer(tx, req, meta));
}

/** On hand of one SKU in one warehouse (optionally one bin). */
export async function onHand(target: Target, sku: string, warehouse: string, bin?: string): Promise<number> {
  const { rows } = await execute<{ total: string | null }>(
    target,
    `SELECT SUM(quantity) AS total FROM stock_balances WHERE sku = $1 AND warehouse_code = $2 AND ($3::text IS NULL OR bin_code = $3)`,
    [sku.toUpperCase(), warehouse.toUpperCase(), bin ?? null],
  );
  return Number(rows[0]?.total ?? 0);
}

export function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
