import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The system of record the skills work on, and the tables automations need.
 *
 * Master data: suppliers, products (SKU, unit, price, HS code), warehouses with bins.
 * Procurement: purchase_orders + purchase_order_lines with a status lifecycle enforced by CHECK
 *   draft → pending_approval → approved → sent → confirmed → partially_received → received,
 *   or cancelled / rejected.
 * Storage (designed now, used by the storage skill next): stock_movements is the ledger, one row
 *   per movement (signed quantity); stock_balances is maintained from it by a trigger in the same
 *   transaction, and its CHECK (quantity >= 0) makes an over-issue fail instead of going negative.
 * Customs (designed now): shipments + shipment_lines, customs_declarations + lines.
 * Automations: automation_jobs (one row per requested write, `idempotency_key` UNIQUE), their
 *   events, idempotency_keys (the first outcome of a request, replayed to any repeat),
 *   notifications (an outbox for proactive messages), conversation_references (where to send
 *   them, surviving restarts) and audit_log (who, what, when, from which message).
 *
 * pg-boss keeps its own queue tables in the `pgboss` schema and installs/upgrades them itself at
 * start-up (advisory-locked, idempotent); they are not part of these migrations.
 */
export class SystemOfRecord1796000000000 implements MigrationInterface {
  name = 'SystemOfRecord1796000000000';

  async up(q: QueryRunner): Promise<void> {
    // ------------------------------------------------------------------ master data
    await q.query(`
      CREATE TABLE suppliers (
        id         serial      PRIMARY KEY,
        name       text        NOT NULL UNIQUE,
        aliases    text[]      NOT NULL DEFAULT '{}',
        email      text,
        country    char(2),
        currency   char(3)     NOT NULL DEFAULT 'USD',
        active     boolean     NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE products (
        sku        text           PRIMARY KEY CHECK (sku ~ '^SKU-[0-9]+$'),
        name       text           NOT NULL,
        aliases    text[]         NOT NULL DEFAULT '{}',
        unit       text           NOT NULL,
        unit_price numeric(12, 2) NOT NULL CHECK (unit_price >= 0),
        currency   char(3)        NOT NULL DEFAULT 'USD',
        hs_code    text           NOT NULL CHECK (hs_code ~ '^[0-9]{6,10}$'),
        origin_country char(2),
        default_supplier_id integer REFERENCES suppliers (id),
        active     boolean        NOT NULL DEFAULT true,
        created_at timestamptz    NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE warehouses (
        code    text    PRIMARY KEY CHECK (code ~ '^WH-[A-Z0-9]+$'),
        name    text    NOT NULL,
        aliases text[]  NOT NULL DEFAULT '{}',
        city    text,
        country char(2),
        active  boolean NOT NULL DEFAULT true
      )`);
    await q.query(`
      CREATE TABLE bins (
        warehouse_code text NOT NULL REFERENCES warehouses (code),
        code           text NOT NULL,
        kind           text NOT NULL DEFAULT 'rack' CHECK (kind IN ('receiving', 'rack', 'floor', 'shipping', 'quarantine')),
        PRIMARY KEY (warehouse_code, code)
      )`);

    // ------------------------------------------------------------------ procurement
    await q.query(`CREATE SEQUENCE purchase_order_number_seq START 1101`);
    await q.query(`
      CREATE TABLE purchase_orders (
        id                bigserial      PRIMARY KEY,
        number            text           NOT NULL UNIQUE CHECK (number ~ '^PO-[0-9]+$'),
        supplier_id       integer        NOT NULL REFERENCES suppliers (id),
        status            text           NOT NULL DEFAULT 'draft' CHECK (status IN (
                            'draft', 'pending_approval', 'approved', 'sent', 'confirmed',
                            'partially_received', 'received', 'cancelled', 'rejected')),
        currency          char(3)        NOT NULL DEFAULT 'USD',
        total             numeric(14, 2) NOT NULL DEFAULT 0 CHECK (total >= 0),
        ship_to           text           REFERENCES warehouses (code),
        need_by           date,
        requested_by      text           NOT NULL,
        requested_by_name text,
        approved_by       text,
        approved_at       timestamptz,
        decided_note      text,
        supplier_reference text,
        status_reason     text,
        created_at        timestamptz    NOT NULL DEFAULT now(),
        updated_at        timestamptz    NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX purchase_orders_requested_by_idx ON purchase_orders (requested_by, created_at DESC)`);
    await q.query(`CREATE INDEX purchase_orders_status_idx ON purchase_orders (status, created_at DESC)`);
    await q.query(`CREATE INDEX purchase_orders_supplier_idx ON purchase_orders (supplier_id, created_at DESC)`);
    await q.query(`
      CREATE TABLE purchase_order_lines (
        po_id        bigint         NOT NULL REFERENCES purchase_orders (id) ON DELETE CASCADE,
        line_no      integer        NOT NULL CHECK (line_no > 0),
        sku          text           NOT NULL REFERENCES products (sku),
        quantity     numeric(14, 3) NOT NULL CHECK (quantity > 0),
        unit         text           NOT NULL,
        unit_price   numeric(12, 2) NOT NULL CHECK (unit_price >= 0),
        amount       numeric(14, 2) NOT NULL CHECK (amount >= 0),
        received_quantity numeric(14, 3) NOT NULL DEFAULT 0 CHECK (received_quantity >= 0),
        PRIMARY KEY (po_id, line_no)
      )`);

    // ------------------------------------------------------------------ customs (next issue)
    await q.query(`
      CREATE TABLE shipments (
        id              bigserial   PRIMARY KEY,
        number          text        NOT NULL UNIQUE CHECK (number ~ '^SH-[0-9]+$'),
        direction       text        NOT NULL DEFAULT 'inbound' CHECK (direction IN ('inbound', 'outbound')),
        po_id           bigint      REFERENCES purchase_orders (id),
        supplier_id     integer     REFERENCES suppliers (id),
        carrier         text,
        mode            text        CHECK (mode IN ('sea', 'air', 'road', 'rail', 'courier')),
        origin_country  char(2),
        warehouse_code  text        REFERENCES warehouses (code),
        status          text        NOT NULL DEFAULT 'planned' CHECK (status IN (
                          'planned', 'in_transit', 'at_customs', 'cleared', 'delivered', 'cancelled')),
        eta             date,
        created_at      timestamptz NOT NULL DEFAULT now(),
        updated_at      timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE shipment_lines (
        shipment_id bigint         NOT NULL REFERENCES shipments (id) ON DELETE CASCADE,
        line_no     integer        NOT NULL CHECK (line_no > 0),
        sku         text           NOT NULL REFERENCES products (sku),
        quantity    numeric(14, 3) NOT NULL CHECK (quantity > 0),
        po_id       bigint,
        po_line_no  integer,
        PRIMARY KEY (shipment_id, line_no),
        FOREIGN KEY (po_id, po_line_no) REFERENCES purchase_order_lines (po_id, line_no)
      )`);
    await q.query(`CREATE SEQUENCE customs_declaration_number_seq START 3101`);
    await q.query(`
      CREATE TABLE customs_declarations (
        id            bigserial      PRIMARY KEY,
        number        text           NOT NULL UNIQUE CHECK (number ~ '^CD-[0-9]+$'),
        shipment_id   bigint         NOT NULL REFERENCES shipments (id),
        kind          text           NOT NULL DEFAULT 'import' CHECK (kind IN ('import', 'export', 'transit')),
        status        text           NOT NULL DEFAULT 'draft' CHECK (status IN (
                        'draft', 'submitted', 'accepted', 'held', 'cleared', 'rejected', 'cancelled')),
        broker        text,
        customs_value numeric(14, 2) CHECK (customs_value >= 0),
        currency      char(3)        NOT NULL DEFAULT 'USD',
        duty_amount   numeric(14, 2) CHECK (duty_amount >= 0),
        authority_reference text,
        filed_by      text,
        filed_at      timestamptz,
        cleared_at    timestamptz,
        created_at    timestamptz    NOT NULL DEFAULT now(),
        updated_at    timestamptz    NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX customs_declarations_shipment_idx ON customs_declarations (shipment_id)`);
    await q.query(`
      CREATE TABLE customs_declaration_lines (
        declaration_id bigint         NOT NULL REFERENCES customs_declarations (id) ON DELETE CASCADE,
        line_no        integer        NOT NULL CHECK (line_no > 0),
        sku            text           NOT NULL REFERENCES products (sku),
        hs_code        text           NOT NULL CHECK (hs_code ~ '^[0-9]{6,10}$'),
        quantity       numeric(14, 3) NOT NULL CHECK (quantity > 0),
        value          numeric(14, 2) NOT NULL CHECK (value >= 0),
        origin_country char(2),
        PRIMARY KEY (declaration_id, line_no)
      )`);

    // ------------------------------------------------------------------ storage (next issue)
    await q.query(`
      CREATE TABLE stock_movements (
        id             bigserial      PRIMARY KEY,
        occurred_at    timestamptz    NOT NULL DEFAULT now(),
        sku            text           NOT NULL REFERENCES products (sku),
        warehouse_code text           NOT NULL,
        bin_code       text           NOT NULL,
        quantity       numeric(14, 3) NOT NULL CHECK (quantity <> 0),
        kind           text           NOT NULL CHECK (kind IN (
                         'opening', 'receipt', 'issue', 'transfer_out', 'transfer_in', 'adjustment')),
        reference_type text,
        reference_id   text,
        job_id         bigint,
        actor          text           NOT NULL,
        note           text,
        FOREIGN KEY (warehouse_code, bin_code) REFERENCES bins (warehouse_code, code)
      )`);
    await q.query(`CREATE INDEX stock_movements_sku_idx ON stock_movements (sku, warehouse_code, occurred_at)`);
    await q.query(`
      CREATE TABLE stock_balances (
        warehouse_code text           NOT NULL,
        bin_code       text           NOT NULL,
        sku            text           NOT NULL REFERENCES products (sku),
        quantity       numeric(14, 3) NOT NULL CHECK (quantity >= 0),
        updated_at     timestamptz    NOT NULL DEFAULT now(),
        PRIMARY KEY (warehouse_code, bin_code, sku),
        FOREIGN KEY (warehouse_code, bin_code) REFERENCES bins (warehouse_code, code)
      )`);
    await q.query(`
      CREATE FUNCTION apply_stock_movement() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO stock_balances (warehouse_code, bin_code, sku, quantity, updated_at)
        VALUES (NEW.warehouse_code, NEW.bin_code, NEW.sku, NEW.quantity, NEW.occurred_at)
        ON CONFLICT (warehouse_code, bin_code, sku)
        DO UPDATE SET quantity = stock_balances.quantity + EXCLUDED.quantity, updated_at = EXCLUDED.updated_at;
        RETURN NEW;
      END $$`);
    await q.query(`
      CREATE TRIGGER stock_movements_apply AFTER INSERT ON stock_movements
      FOR EACH ROW EXECUTE FUNCTION apply_stock_movement()`);

    // ------------------------------------------------------------------ automations
    await q.query(`
      CREATE TABLE automation_jobs (
        id                bigserial   PRIMARY KEY,
        skill             text        NOT NULL,
        action            text        NOT NULL,
        status            text        NOT NULL DEFAULT 'queued' CHECK (status IN (
                            'queued', 'running', 'waiting', 'succeeded', 'failed', 'dead_letter', 'cancelled')),
        idempotency_key   text        NOT NULL UNIQUE,
        input             jsonb       NOT NULL,
        result            jsonb,
        error             text,
        attempts          integer     NOT NULL DEFAULT 0,
        connector         text,
        subject_type      text,
        subject_id        text,
        requested_by      text        NOT NULL,
        requested_by_name text,
        channel_id        text        NOT NULL,
        conversation_id   text        NOT NULL,
        activity_id       text,
        created_at        timestamptz NOT NULL DEFAULT now(),
        started_at        timestamptz,
        finished_at       timestamptz,
        updated_at        timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX automation_jobs_requested_by_idx ON automation_jobs (requested_by, created_at DESC)`);
    await q.query(`CREATE INDEX automation_jobs_status_idx ON automation_jobs (status, created_at DESC)`);
    await q.query(`CREATE INDEX automation_jobs_subject_idx ON automation_jobs (subject_type, subject_id)`);
    await q.query(`
      CREATE TABLE automation_job_events (
        id      bigserial   PRIMARY KEY,
        job_id  bigint      NOT NULL REFERENCES automation_jobs (id) ON DELETE CASCADE,
        at      timestamptz NOT NULL DEFAULT clock_timestamp(),
        kind    text        NOT NULL,
        message text        NOT NULL,
        data    jsonb
      )`);
    await q.query(`CREATE INDEX automation_job_events_job_idx ON automation_job_events (job_id, id)`);
    await q.query(`
      CREATE TABLE idempotency_keys (
        key        text        PRIMARY KEY,
        action     text        NOT NULL,
        actor_id   text        NOT NULL,
        job_id     bigint      REFERENCES automation_jobs (id),
        outcome    jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        replied_at timestamptz
      )`);
    await q.query(`
      CREATE TABLE conversation_references (
        channel_id      text        NOT NULL,
        conversation_id text        NOT NULL,
        user_id         text,
        user_name       text,
        service_url     text        NOT NULL,
        reference       jsonb       NOT NULL,
        updated_at      timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (channel_id, conversation_id)
      )`);
    await q.query(`CREATE INDEX conversation_references_user_idx ON conversation_references (user_id, updated_at DESC)`);
    await q.query(`
      CREATE TABLE notifications (
        id              bigserial   PRIMARY KEY,
        job_id          bigint      REFERENCES automation_jobs (id) ON DELETE CASCADE,
        kind            text        NOT NULL,
        channel_id      text,
        conversation_id text,
        user_id         text,
        reply           jsonb       NOT NULL,
        status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'undeliverable')),
        attempts        integer     NOT NULL DEFAULT 0,
        error           text,
        created_at      timestamptz NOT NULL DEFAULT now(),
        sent_at         timestamptz,
        CHECK (conversation_id IS NOT NULL OR user_id IS NOT NULL)
      )`);
    await q.query(`CREATE INDEX notifications_pending_idx ON notifications (status) WHERE status = 'pending'`);
    await q.query(`
      CREATE TABLE audit_log (
        id              bigserial   PRIMARY KEY,
        at              timestamptz NOT NULL DEFAULT now(),
        actor_id        text        NOT NULL,
        actor_name      text,
        channel_id      text,
        conversation_id text,
        activity_id     text,
        action          text        NOT NULL,
        outcome         text        NOT NULL,
        subject_type    text,
        subject_id      text,
        job_id          bigint,
        details         jsonb       NOT NULL DEFAULT '{}'::jsonb
      )`);
    await q.query(`CREATE INDEX audit_log_subject_idx ON audit_log (subject_type, subject_id, at)`);
    await q.query(`CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'audit_log',
      'notifications',
      'conversation_references',
      'idempotency_keys',
      'automation_job_events',
      'automation_jobs',
      'stock_balances',
      'stock_movements',
      'customs_declaration_lines',
      'customs_declarations',
      'shipment_lines',
      'shipments',
      'purchase_order_lines',
      'purchase_orders',
      'bins',
      'warehouses',
      'products',
      'suppliers',
    ]) {
      await q.query(`DROP TABLE IF EXISTS ${table}`);
    }
    await q.query(`DROP FUNCTION IF EXISTS apply_stock_movement()`);
    await q.query(`DROP SEQUENCE IF EXISTS customs_declaration_number_seq`);
    await q.query(`DROP SEQUENCE IF EXISTS purchase_order_number_seq`);
  }
}
