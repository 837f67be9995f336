import type { DataSource, QueryRunner } from 'typeorm';
import { execute } from '../../db/sql.js';
import { inTransaction } from '../../jobs/store.js';
import { seedCustomsDemoData } from '../customs/demoData.js';

/** The demo company: what `npm run db:seed` and the first embedded start load. */
export const DEMO_SUPPLIERS = [
  { name: 'Acme Corp', aliases: ['Acme Corporation'], email: 'orders@acme.example', country: 'US', currency: 'USD' },
  { name: 'Globex', aliases: ['Globex Corporation', 'Globex Corp'], email: 'sales@globex.example', country: 'DE', currency: 'USD' },
  { name: 'Initech', aliases: [], email: 'purchasing@initech.example', country: 'US', currency: 'USD' },
  { name: 'Northwind Traders', aliases: ['Northwind'], email: 'trade@northwind.example', country: 'GB', currency: 'USD' },
] as const;

export const DEMO_PRODUCTS = [
  {
    sku: 'SKU-1001',
    name: 'steel bearings 6204',
    aliases: ['6204 bearings', 'bearings 6204', 'ball bearings', 'bearings'],
    unit: 'piece',
    unitPrice: 4.5,
    hsCode: '848210',
    origin: 'CN',
    supplier: 'Acme Corp',
  },
  {
    sku: 'SKU-1002',
    name: 'A4 copy paper (box)',
    aliases: ['A4 copy paper', 'copy paper', 'A4 paper', 'printer paper', 'paper'],
    unit: 'box',
    unitPrice: 28,
    hsCode: '480256',
    origin: 'DE',
    supplier: 'Globex',
  },
  {
    sku: 'SKU-1003',
    name: 'nitrile gloves (box of 100)',
    aliases: ['nitrile gloves', 'blue nitrile gloves', 'gloves'],
    unit: 'box',
    unitPrice: 9.9,
    hsCode: '401519',
    origin: 'MY',
    supplier: 'Northwind Traders',
  },
  {
    sku: 'SKU-1004',
    name: 'euro pallets',
    aliases: ['EPAL pallets', 'euro pallet', 'pallets'],
    unit: 'pallet',
    unitPrice: 14,
    hsCode: '441520',
    origin: 'PL',
    supplier: 'Initech',
  },
  {
    sku: 'SKU-1005',
    name: 'lithium-ion battery packs',
    aliases: ['li-ion battery packs', 'battery packs', 'li-ion batteries', 'lithium batteries', 'batteries'],
    unit: 'piece',
    unitPrice: 189,
    hsCode: '850760',
    origin: 'CN',
    supplier: 'Acme Corp',
  },
] as const;

export const DEMO_WAREHOUSES = [
  { code: 'WH-A', name: 'Main', aliases: ['main warehouse', 'main site', 'main DC'], city: 'Chicago', country: 'US' },
  { code: 'WH-B', name: 'Dallas', aliases: ['Dallas DC', 'Dallas warehouse', 'Dallas site'], city: 'Dallas', country: 'US' },
  {
    code: 'WH-C',
    name: 'Rotterdam',
    aliases: ['Rotterdam DC', 'Rotterdam warehouse', 'Rotterdam site'],
    city: 'Rotterdam',
    country: 'NL',
  },
] as const;

const BINS: [warehouse: string, bin: string, kind: string][] = [
  ['WH-A', 'RCV-01', 'receiving'],
  ['WH-A', 'A-01-01', 'rack'],
  ['WH-A', 'A-01-02', 'rack'],
  ['WH-A', 'A-02-01', 'rack'],
  ['WH-A', 'A-03-01', 'rack'],
  ['WH-B', 'RCV-01', 'receiving'],
  ['WH-B', 'B-01-01', 'floor'],
  ['WH-B', 'B-01-02', 'rack'],
  ['WH-B', 'B-02-01', 'rack'],
  ['WH-C', 'RCV-01', 'receiving'],
  ['WH-C', 'C-01-01', 'rack'],
  ['WH-C', 'C-02-01', 'rack'],
  // Empty racks: where the storage skill puts away a product no bin holds yet.
  ['WH-C', 'C-03-01', 'rack'],
];

const OPENING_STOCK: [warehouse: string, bin: string, sku: string, quantity: number][] = [
  ['WH-A', 'A-01-01', 'SKU-1001', 1200],
  ['WH-A', 'A-01-02', 'SKU-1002', 340],
  ['WH-A', 'A-02-01', 'SKU-1003', 150],
  ['WH-B', 'B-01-01', 'SKU-1004', 60],
  ['WH-B', 'B-01-02', 'SKU-1001', 400],
  ['WH-C', 'C-01-01', 'SKU-1005', 24],
  ['WH-C', 'C-02-01', 'SKU-1003', 80],
];

interface DemoOrder {
  number: string;
  supplier: string;
  status: string;
  daysAgo: number;
  shipTo: string;
  lines: [sku: string, quantity: number, received?: number][];
  supplierReference?: string;
  approvedBy?: string;
  reason?: string;
}

const DEMO_BUYER = { id: 'demo-buyer', name: 'Dana (demo buyer)' };
const DEMO_APPROVER = { id: 'demo-approver', name: 'Sam (demo approver)' };

const DEMO_ORDERS: DemoOrder[] = [
  { number: 'PO-1001', supplier: 'Acme Corp', status: 'received', daysAgo: 30, shipTo: 'WH-A', lines: [['SKU-1001', 500, 500]], supplierReference: 'ACME-48110', approvedBy: 'auto' },
  { number: 'PO-1002', supplier: 'Globex', status: 'confirmed', daysAgo: 12, shipTo: 'WH-C', lines: [['SKU-1002', 40]], supplierReference: 'GLX-55102', approvedBy: 'auto' },
  { number: 'PO-1003', supplier: 'Northwind Traders', status: 'sent', daysAgo: 6, shipTo: 'WH-A', lines: [['SKU-1003', 100]], approvedBy: 'auto' },
  { number: 'PO-1004', supplier: 'Acme Corp', status: 'pending_approval', daysAgo: 2, shipTo: 'WH-C', lines: [['SKU-1005', 80]] },
  { number: 'PO-1005', supplier: 'Initech', status: 'draft', daysAgo: 1, shipTo: 'WH-B', lines: [['SKU-1004', 200]] },
  { number: 'PO-1006', supplier: 'Globex', status: 'cancelled', daysAgo: 20, shipTo: 'WH-A', lines: [['SKU-1002', 10]], reason: 'Duplicate of PO-1002' },
  {
    number: 'PO-1007',
    supplier: 'Acme Corp',
    status: 'partially_received',
    daysAgo: 15,
    shipTo: 'WH-B',
    lines: [['SKU-1001', 1000, 600], ['SKU-1005', 10, 0]],
    supplierReference: 'ACME-48377',
    approvedBy: DEMO_APPROVER.id,
  },
];

export interface SeedReport {
  suppliers: number;
  products: number;
  warehouses: number;
  bins: number;
  stockMovements: number;
  purchaseOrders: number;
  shipments: number;
  declarations: number;
}

/**
 * Loads the demo data. Idempotent: every row has a natural key and is inserted with
 * ON CONFLICT DO NOTHING, and opening stock is booked only once; running it again (or on every
 * start of the embedded database) adds nothing and changes nothing it already added.
 */
export async function seedDemoData(db: DataSource): Promise<SeedReport> {
  return inTransaction(db, async (tx) => {
    const report: SeedReport = {
      suppliers: 0,
      products: 0,
      warehouses: 0,
      bins: 0,
      stockMovements: 0,
      purchaseOrders: 0,
      shipments: 0,
      declarations: 0,
    };
    for (const s of DEMO_SUPPLIERS) {
      report.suppliers += (
        await execute(
          tx,
          `INSERT INTO suppliers (name, aliases, email, country, currency) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING`,
          [s.name, [...s.aliases], s.email, s.country, s.currency],
        )
      ).rowCount;
    }
    for (const p of DEMO_PRODUCTS) {
      report.products += (
        await execute(
          tx,
          `INSERT INTO products (sku, name, aliases, unit, unit_price, hs_code, origin_country, default_supplier_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, (SELECT id FROM suppliers WHERE name = $8)) ON CONFLICT (sku) DO NOTHING`,
          [p.sku, p.name, [...p.aliases], p.unit, p.unitPrice, p.hsCode, p.origin, p.supplier],
        )
      ).rowCount;
    }
    for (const w of DEMO_WAREHOUSES) {
      report.warehouses += (
        await execute(
          tx,
          `INSERT INTO warehouses (code, name, aliases, city, country) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO NOTHING`,
          [w.code, w.name, [...w.aliases], w.city, w.country],
        )
      ).rowCount;
    }
    for (const [warehouse, bin, kind] of BINS) {
      report.bins += (
        await execute(tx, `INSERT INTO bins (warehouse_code, code, kind) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [
          warehouse,
          bin,
          kind,
        ])
      ).rowCount;
    }
    const opened = await execute(tx, `SELECT 1 FROM stock_movements WHERE kind = 'opening' AND reference_type = 'demo_seed' LIMIT 1`);
    if (opened.rows.length === 0) {
      for (const [warehouse, bin, sku, quantity] of OPENING_STOCK) {
        await execute(
          tx,
          `INSERT INTO stock_movements (occurred_at, sku, warehouse_code, bin_code, quantity, kind, reference_type, reference_id, actor, note)
           VALUES (now() - interval '45 days', $1, $2, $3, $4, 'opening', 'demo_seed', 'opening', 'system:seed', 'Opening balance (demo data)')`,
          [sku, warehouse, bin, quantity],
        );
        report.stockMovements += 1;
      }
    }
    for (const order of DEMO_ORDERS) {
      if (await insertDemoOrder(tx, order)) report.purchaseOrders += 1;
    }
    report.shipments += await insertDemoShipment(tx, 'SH-2001', 'PO-1002', 'sea', 'DE', 'WH-C', 'at_customs', 3, 'Maersk');
    report.shipments += await insertDemoShipment(tx, 'SH-2002', 'PO-1003', 'air', 'GB', 'WH-A', 'in_transit', 2, 'DHL Aviation');
    report.declarations += (
      await execute(
        tx,
        `INSERT INTO customs_declarations (number, shipment_id, kind, status, broker, customs_value, duty_amount, filed_by, filed_by_name, filed_at)
         SELECT 'CD-3001', s.id, 'import', 'submitted', 'Rotterdam Customs Services', 1120, 0, $1, $2, now() - interval '1 day'
         FROM shipments s WHERE s.number = 'SH-2001'
         ON CONFLICT (number) DO NOTHING`,
        [DEMO_BUYER.id, DEMO_BUYER.name],
      )
    ).rowCount;
    // Databases seeded before the demo declaration carried a name show "Filed by: demo-buyer": name it.
    await execute(tx, `UPDATE customs_declarations SET filed_by_name = $2 WHERE filed_by = $1 AND filed_by_name IS NULL`, [DEMO_BUYER.id, DEMO_BUYER.name]);
    if (report.declarations > 0) {
      await execute(
        tx,
        `INSERT INTO customs_declaration_lines (declaration_id, line_no, sku, hs_code, quantity, value, origin_country)
         SELECT d.id, 1, 'SKU-1002', '480256', 40, 1120, 'DE' FROM customs_declarations d WHERE d.number = 'CD-3001'`,
      );
    }
    const customs = await seedCustomsDemoData(tx);
    report.products += customs.products;
    report.shipments += customs.shipments;
    return report;
  });
}

async function insertDemoOrder(tx: QueryRunner, order: DemoOrder): Promise<boolean> {
  const { rows } = await execute<{ id: string }>(
    tx,
    `INSERT INTO purchase_orders (number, supplier_id, status, currency, total, ship_to, need_by, requested_by, requested_by_name,
                                  approved_by, approved_by_name, approved_at, supplier_reference, status_reason, created_at, updated_at)
     VALUES ($1, (SELECT id FROM suppliers WHERE name = $2), $3, 'USD', 0, $4, (now() + interval '14 days')::date, $5, $6,
             $7, $11, CASE WHEN $7::text IS NULL THEN NULL ELSE now() - make_interval(days => $8) END, $9, $10,
             now() - make_interval(days => $8), now() - make_interval(days => $8))
     ON CONFLICT (number) DO NOTHING RETURNING id`,
    [
      order.number,
      order.supplier,
      order.status,
      order.shipTo,
      DEMO_BUYER.id,
      DEMO_BUYER.name,
      order.approvedBy ?? null,
      order.daysAgo,
      order.supplierReference ?? null,
      order.reason ?? null,
      order.approvedBy === DEMO_APPROVER.id ? DEMO_APPROVER.name : null,
    ],
  );
  const id = rows[0]?.id;
  if (!id) return false;
  let lineNo = 0;
  for (const [sku, quantity, received] of order.lines) {
    lineNo += 1;
    await execute(
      tx,
      `INSERT INTO purchase_order_lines (po_id, line_no, sku, quantity, unit, unit_price, amount, received_quantity)
       SELECT $1, $2, p.sku, $4, p.unit, p.unit_price, round(p.unit_price * $4, 2), $5 FROM products p WHERE p.sku = $3`,
      [id, lineNo, sku, quantity, received ?? 0],
    );
  }
  await execute(tx, `UPDATE purchase_orders SET total = (SELECT sum(amount) FROM purchase_order_lines WHERE po_id = $1) WHERE id = $1`, [id]);
  return true;
}

async function insertDemoShipment(
  tx: QueryRunner,
  number: string,
  po: string,
  mode: string,
  origin: string,
  warehouse: string,
  status: string,
  etaDays: number,
  carrier: string,
): Promise<number> {
  const { rows } = await execute<{ id: string }>(
    tx,
    `INSERT INTO shipments (number, direction, po_id, supplier_id, carrier, mode, origin_country, warehouse_code, status, eta)
     SELECT $1, 'inbound', po.id, po.supplier_id, $3, $4, $5, $6, $7, (now() + make_interval(days => $8))::date
     FROM purchase_orders po WHERE po.number = $2
     ON CONFLICT (number) DO NOTHING RETURNING id`,
    [number, po, carrier, mode, origin, warehouse, status, etaDays],
  );
  const id = rows[0]?.id;
  if (!id) return 0;
  await execute(
    tx,
    `INSERT INTO shipment_lines (shipment_id, line_no, sku, quantity, po_id, po_line_no)
     SELECT $1, l.line_no, l.sku, l.quantity, l.po_id, l.line_no
     FROM purchase_order_lines l JOIN purchase_orders po ON po.id = l.po_id WHERE po.number = $2`,
    [id, po],
  );
  return 1;
}
