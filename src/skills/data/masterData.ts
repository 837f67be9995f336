import type { DataSource } from 'typeorm';
import { execute } from '../../db/sql.js';
import type { MasterData } from '../../nlu/entities/masterData.js';
import { editDistance, normalizeName } from '../../nlu/entities/nameMatcher.js';

export interface SupplierRecord {
  id: number;
  name: string;
  aliases: string[];
  currency: string;
}

export interface ProductRecord {
  sku: string;
  name: string;
  aliases: string[];
  unit: string;
  unitPrice: number;
  currency: string;
  hsCode: string;
}

export interface WarehouseRecord {
  code: string;
  name: string;
  aliases: string[];
  city: string | null;
}

export interface MasterRecords {
  suppliers: SupplierRecord[];
  products: ProductRecord[];
  warehouses: WarehouseRecord[];
}

export async function loadMasterRecords(db: DataSource): Promise<MasterRecords> {
  const suppliers = await execute<{ id: number; name: string; aliases: string[]; currency: string }>(
    db,
    'SELECT id, name, aliases, currency FROM suppliers WHERE active ORDER BY name',
  );
  const products = await execute<{
    sku: string;
    name: string;
    aliases: string[];
    unit: string;
    unit_price: string;
    currency: string;
    hs_code: string;
  }>(db, 'SELECT sku, name, aliases, unit, unit_price, currency, hs_code FROM products WHERE active ORDER BY sku');
  const warehouses = await execute<{ code: string; name: string; aliases: string[]; city: string | null }>(
    db,
    'SELECT code, name, aliases, city FROM warehouses WHERE active ORDER BY code',
  );
  return {
    suppliers: suppliers.rows.map((r) => ({ id: r.id, name: r.name, aliases: r.aliases, currency: r.currency })),
    products: products.rows.map((r) => ({
      sku: r.sku,
      name: r.name,
      aliases: r.aliases,
      unit: r.unit,
      unitPrice: Number(r.unit_price),
      currency: r.currency,
      hsCode: r.hs_code,
    })),
    warehouses: warehouses.rows,
  };
}

/** The shape the NLU's entity matcher takes (`NluPipeline.setMasterData`). */
export function toNluMasterData(records: MasterRecords): MasterData {
  return {
    suppliers: records.suppliers.map((s) => ({ name: s.name, aliases: s.aliases })),
    products: records.products.map((p) => ({ sku: p.sku, name: p.name, aliases: p.aliases })),
    warehouses: records.warehouses.map((w) => ({ code: w.code, name: w.name, aliases: w.aliases })),
  };
}

/**
 * Master data for validation, cached (it changes rarely). `get()` may query: never call it while
 * holding a transaction (the embedded database has one connection).
 */
export class MasterDataStore {
  private cached?: { at: number; records: MasterRecords };
  private loading?: Promise<MasterRecords>;

  private readonly ttlMs: number;
  private readonly onLoad?: (records: MasterRecords) => void;

  /** `onLoad` sees every (re)load, e.g. to refresh the NLU's name matching. */
  constructor(
    private readonly db: DataSource,
    options: { ttlMs?: number; onLoad?: (records: MasterRecords) => void } = {},
  ) {
    this.ttlMs = options.ttlMs ?? 60_000;
    this.onLoad = options.onLoad;
  }

  async get(): Promise<MasterRecords> {
    if (this.cached && Date.now() - this.cached.at < this.ttlMs) return this.cached.records;
    this.loading ??= loadMasterRecords(this.db)
      .then((records) => {
        // An empty system of record is one not seeded yet: keep asking, so `npm run db:seed`
        // takes effect on the next message instead of after the TTL or a restart.
        const empty = records.products.length === 0 && records.suppliers.length === 0;
        this.cached = empty ? undefined : { at: Date.now(), records };
        this.onLoad?.(records);
        return records;
      })
      .finally(() => (this.loading = undefined));
    return this.loading;
  }

  invalidate(): void {
    this.cached = undefined;
  }
}

export function findSupplier(records: MasterRecords, name: string): SupplierRecord | undefined {
  const norm = normalizeName(name);
  return records.suppliers.find(
    (s) => normalizeName(s.name) === norm || s.aliases.some((a) => normalizeName(a) === norm),
  );
}

export function findProduct(records: MasterRecords, sku: string): ProductRecord | undefined {
  return records.products.find((p) => p.sku === sku.toUpperCase());
}

export function findWarehouse(records: MasterRecords, code: string): WarehouseRecord | undefined {
  return records.warehouses.find((w) => w.code === code.toUpperCase());
}

/**
 * The supplier whose name (or alias, or first word) is closest to what the user wrote, if it is
 * close enough to be worth a "Did you mean …?" (about a third of the letters may differ).
 */
export function closestSupplier(records: MasterRecords, written: string): SupplierRecord | undefined {
  const norm = normalizeName(written);
  if (norm.length < 2) return undefined;
  let best: { s: SupplierRecord; score: number } | undefined;
  for (const s of records.suppliers) {
    const spellings = [s.name, ...s.aliases].map(normalizeName);
    spellings.push(...spellings.map((n) => n.split(' ')[0] ?? n));
    for (const spelling of spellings) {
      if (!spelling) continue;
      const prefix = spelling.startsWith(norm) && norm.length >= 3 ? 0.5 : Infinity;
      const d = Math.min(prefix, editDistance(norm, spelling));
      const budget = Math.max(1, Math.floor(spelling.replace(/ /g, '').length / 3));
      if (d <= budget && (!best || d < best.score)) best = { s, score: d };
    }
  }
  return best?.s;
}

/** The product code closest to an unknown one (one or two digits off), for "Did you mean …?". */
export function closestProduct(records: MasterRecords, sku: string): ProductRecord | undefined {
  let best: { p: ProductRecord; d: number } | undefined;
  for (const p of records.products) {
    const d = editDistance(sku.toUpperCase(), p.sku);
    if (d <= 1 && (!best || d < best.d)) best = { p, d };
  }
  return best?.p;
}
