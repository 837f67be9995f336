import type { QueryRunner } from 'typeorm';
import { execute } from '../../db/sql.js';

/**
 * Customs demo data, loaded by `seedDemoData` (idempotent, like the rest of it):
 * - SH-2003, "the Shenzhen container": the rest of PO-1007 (400 bearings, 10 battery packs) by sea
 *   from Shenzhen to WH-B Dallas, at customs with no declaration yet;
 * - SH-2004: two solar inverter samples by air from Hong Kong, a product the master has no HS code
 *   for yet (filing asks for it);
 * - the ports SH-2001 and SH-2002 left from.
 */
export async function seedCustomsDemoData(tx: QueryRunner): Promise<{ products: number; shipments: number }> {
  const report = { products: 0, shipments: 0 };
  report.products += (
    await execute(
      tx,
      `INSERT INTO products (sku, name, aliases, unit, unit_price, hs_code, origin_country, default_supplier_id)
       VALUES ('SKU-1006', 'solar inverters', $1, 'piece', 420, NULL, 'CN', (SELECT id FROM suppliers WHERE name = 'Acme Corp'))
       ON CONFLICT (sku) DO NOTHING`,
      [['solar inverter', 'PV inverters', 'inverters']],
    )
  ).rowCount;
  for (const [number, port] of [
    ['SH-2001', 'Hamburg'],
    ['SH-2002', 'London Heathrow'],
  ] as const) {
    await execute(tx, `UPDATE shipments SET origin_port = $2 WHERE number = $1 AND origin_port IS NULL`, [number, port]);
  }

  const container = await execute<{ id: string }>(
    tx,
    `INSERT INTO shipments (number, direction, po_id, supplier_id, carrier, mode, origin_country, origin_port, warehouse_code, status, eta)
     SELECT 'SH-2003', 'inbound', po.id, po.supplier_id, 'COSCO Shipping', 'sea', 'CN', 'Shenzhen', 'WH-B', 'at_customs', (now() + interval '1 day')::date
     FROM purchase_orders po WHERE po.number = 'PO-1007'
     ON CONFLICT (number) DO NOTHING RETURNING id`,
  );
  if (container.rows[0]) {
    report.shipments += 1;
    await execute(
      tx,
      `INSERT INTO shipment_lines (shipment_id, line_no, sku, quantity, po_id, po_line_no)
       SELECT $1, l.line_no, l.sku, l.quantity - l.received_quantity, l.po_id, l.line_no
       FROM purchase_order_lines l JOIN purchase_orders po ON po.id = l.po_id
       WHERE po.number = 'PO-1007' AND l.quantity > l.received_quantity`,
      [container.rows[0].id],
    );
  }

  const samples = await execute<{ id: string }>(
    tx,
    `INSERT INTO shipments (number, direction, supplier_id, carrier, mode, origin_country, origin_port, warehouse_code, status, eta)
     SELECT 'SH-2004', 'inbound', s.id, 'Cathay Cargo', 'air', 'HK', 'Hong Kong', 'WH-A', 'at_customs', now()::date
     FROM suppliers s WHERE s.name = 'Acme Corp'
     ON CONFLICT (number) DO NOTHING RETURNING id`,
  );
  if (samples.rows[0]) {
    report.shipments += 1;
    await execute(tx, `INSERT INTO shipment_lines (shipment_id, line_no, sku, quantity) VALUES ($1, 1, 'SKU-1006', 2)`, [samples.rows[0].id]);
  }
  return report;
}
