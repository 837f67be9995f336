/**
 * Reference data the entity extractor matches names against. The demo set lives in
 * demoMasterData.ts; the database provides the same shape later.
 */
export interface Supplier {
  /** Canonical name; the entity value. */
  name: string;
  /** Extra spellings ("Acme" for "Acme Corp" is derived automatically; list others here). */
  aliases?: readonly string[];
}

export interface Product {
  /** e.g. "SKU-1001"; the entity value. */
  sku: string;
  name: string;
  aliases?: readonly string[];
}

export interface Warehouse {
  /** e.g. "WH-B"; the entity value. */
  code: string;
  /** e.g. "Dallas". */
  name: string;
  aliases?: readonly string[];
}

export interface MasterData {
  suppliers: readonly Supplier[];
  products: readonly Product[];
  warehouses: readonly Warehouse[];
}
