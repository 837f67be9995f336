import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The storage skill's documents, on top of the stock ledger of SystemOfRecord:
 *
 * - goods_receipts + goods_receipt_lines: one receipt per confirmed "receive goods" job
 *   (`job_id` UNIQUE: a job can book its receipt once), each line against a purchase order line,
 *   with what was ordered / already received at the time, how much of it was over the order, and
 *   the bin it was put away in. The stock itself moves through `stock_movements` rows
 *   (kind `receipt`, reference GR-…), in the same transaction.
 * - stock_transfers: one per confirmed transfer job (`job_id` UNIQUE); its ledger rows are a
 *   `transfer_out` per source bin and a `transfer_in` per destination bin (reference TR-…).
 * - stock_movements becomes append-only: balances are derived from it by trigger, so an UPDATE or
 *   DELETE would leave them out of step; a mistake is corrected by a new `adjustment` row.
 * - apply_stock_movement() is replaced. The first version did `INSERT … ON CONFLICT DO UPDATE`,
 *   but PostgreSQL checks CHECK constraints on the row proposed for insertion before it looks for
 *   a conflict, so every outgoing (negative) movement failed `quantity >= 0` even with stock on
 *   hand. Now it updates the existing balance (the CHECK then applies to the new total, and the
 *   UPDATE waits for a concurrent one on the same row), and inserts only a first balance.
 */
export class Storage1796400000000 implements MigrationInterface {
  name = 'Storage1796400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE SEQUENCE goods_receipt_number_seq START 5001`);
    await q.query(`
      CREATE TABLE goods_receipts (
        id               bigserial   PRIMARY KEY,
        number           text        NOT NULL UNIQUE CHECK (number ~ '^GR-[0-9]+$'),
        po_id            bigint      NOT NULL REFERENCES purchase_orders (id),
        shipment_id      bigint      REFERENCES shipments (id),
        warehouse_code   text        NOT NULL REFERENCES warehouses (code),
        job_id           bigint      UNIQUE REFERENCES automation_jobs (id),
        received_by      text        NOT NULL,
        received_by_name text,
        created_at       timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX goods_receipts_po_idx ON goods_receipts (po_id, created_at)`);
    await q.query(`CREATE INDEX goods_receipts_shipment_idx ON goods_receipts (shipment_id)`);
    await q.query(`
      CREATE TABLE goods_receipt_lines (
        receipt_id          bigint         NOT NULL REFERENCES goods_receipts (id) ON DELETE CASCADE,
        line_no             integer        NOT NULL CHECK (line_no > 0),
        po_id               bigint         NOT NULL,
        po_line_no          integer        NOT NULL,
        sku                 text           NOT NULL REFERENCES products (sku),
        quantity            numeric(14, 3) NOT NULL CHECK (quantity > 0),
        ordered_quantity    numeric(14, 3) NOT NULL,
        previously_received numeric(14, 3) NOT NULL CHECK (previously_received >= 0),
        over_quantity       numeric(14, 3) NOT NULL DEFAULT 0 CHECK (over_quantity >= 0),
        warehouse_code      text           NOT NULL,
        bin_code            text           NOT NULL,
        PRIMARY KEY (receipt_id, line_no),
        FOREIGN KEY (po_id, po_line_no) REFERENCES purchase_order_lines (po_id, line_no),
        FOREIGN KEY (warehouse_code, bin_code) REFERENCES bins (warehouse_code, code)
      )`);

    await q.query(`CREATE SEQUENCE stock_transfer_number_seq START 6001`);
    await q.query(`
      CREATE TABLE stock_transfers (
        id             bigserial      PRIMARY KEY,
        number         text           NOT NULL UNIQUE CHECK (number ~ '^TR-[0-9]+$'),
        sku            text           NOT NULL REFERENCES products (sku),
        quantity       numeric(14, 3) NOT NULL CHECK (quantity > 0),
        from_warehouse text           NOT NULL REFERENCES warehouses (code),
        to_warehouse   text           NOT NULL REFERENCES warehouses (code),
        to_bin         text           NOT NULL,
        job_id         bigint         UNIQUE REFERENCES automation_jobs (id),
        moved_by       text           NOT NULL,
        moved_by_name  text,
        created_at     timestamptz    NOT NULL DEFAULT now(),
        FOREIGN KEY (to_warehouse, to_bin) REFERENCES bins (warehouse_code, code)
      )`);

    // Look-ups by product and by document (stock level by SKU; a receipt's or transfer's rows).
    await q.query(`CREATE INDEX stock_balances_sku_idx ON stock_balances (sku, warehouse_code)`);
    await q.query(`CREATE INDEX stock_movements_reference_idx ON stock_movements (reference_type, reference_id)`);

    await q.query(`
      CREATE OR REPLACE FUNCTION apply_stock_movement() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE stock_balances SET quantity = quantity + NEW.quantity, updated_at = NEW.occurred_at
        WHERE warehouse_code = NEW.warehouse_code AND bin_code = NEW.bin_code AND sku = NEW.sku;
        IF NOT FOUND THEN
          -- A first balance; two first receipts at once meet in ON CONFLICT (both positive).
          INSERT INTO stock_balances (warehouse_code, bin_code, sku, quantity, updated_at)
          VALUES (NEW.warehouse_code, NEW.bin_code, NEW.sku, NEW.quantity, NEW.occurred_at)
          ON CONFLICT (warehouse_code, bin_code, sku)
          DO UPDATE SET quantity = stock_balances.quantity + EXCLUDED.quantity, updated_at = EXCLUDED.updated_at;
        END IF;
        RETURN NEW;
      END $$`);

    await q.query(`
      CREATE FUNCTION stock_movements_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'stock_movements is append-only: book a correcting movement instead'
          USING ERRCODE = 'restrict_violation';
      END $$`);
    await q.query(`
      CREATE TRIGGER stock_movements_no_change BEFORE UPDATE OR DELETE ON stock_movements
      FOR EACH ROW EXECUTE FUNCTION stock_movements_append_only()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER IF EXISTS stock_movements_no_change ON stock_movements`);
    await q.query(`DROP FUNCTION IF EXISTS stock_movements_append_only()`);
    await q.query(`
      CREATE OR REPLACE FUNCTION apply_stock_movement() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO stock_balances (warehouse_code, bin_code, sku, quantity, updated_at)
        VALUES (NEW.warehouse_code, NEW.bin_code, NEW.sku, NEW.quantity, NEW.occurred_at)
        ON CONFLICT (warehouse_code, bin_code, sku)
        DO UPDATE SET quantity = stock_balances.quantity + EXCLUDED.quantity, updated_at = EXCLUDED.updated_at;
        RETURN NEW;
      END $$`);
    await q.query(`DROP INDEX IF EXISTS stock_movements_reference_idx`);
    await q.query(`DROP INDEX IF EXISTS stock_balances_sku_idx`);
    await q.query(`DROP TABLE IF EXISTS stock_transfers`);
    await q.query(`DROP SEQUENCE IF EXISTS stock_transfer_number_seq`);
    await q.query(`DROP TABLE IF EXISTS goods_receipt_lines`);
    await q.query(`DROP TABLE IF EXISTS goods_receipts`);
    await q.query(`DROP SEQUENCE IF EXISTS goods_receipt_number_seq`);
  }
}
