import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Stock transfers get a lifecycle (src/skills/storage/lifecycle.ts): the confirmation creates the
 * transfer as `requested` (its number TR-… names the operation, and its job's idempotency key is
 * `transfer:TR-…`); the job books it (`moved`), or finds too little stock / no bin (`refused`), or
 * gives up (`abandoned`). Rows from before are `moved`. The destination bin is only known once it
 * is booked, so `to_bin` may be empty while requested; `from_bin` keeps the bin the clerk named.
 */
export class StockTransferLifecycle1797100000000 implements MigrationInterface {
  name = 'StockTransferLifecycle1797100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE stock_transfers
        ADD COLUMN status        text        NOT NULL DEFAULT 'moved' CHECK (status IN ('requested', 'moved', 'refused', 'abandoned')),
        ADD COLUMN from_bin      text,
        ADD COLUMN status_reason text,
        ADD COLUMN updated_at    timestamptz NOT NULL DEFAULT now()`);
    await q.query(`ALTER TABLE stock_transfers ALTER COLUMN status SET DEFAULT 'requested'`);
    await q.query(`ALTER TABLE stock_transfers ALTER COLUMN to_bin DROP NOT NULL`);
    await q.query(`ALTER TABLE stock_transfers ADD CONSTRAINT stock_transfers_moved_has_bin CHECK (status <> 'moved' OR to_bin IS NOT NULL)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM stock_transfers WHERE status <> 'moved'`);
    await q.query(`ALTER TABLE stock_transfers DROP CONSTRAINT IF EXISTS stock_transfers_moved_has_bin`);
    await q.query(`ALTER TABLE stock_transfers ALTER COLUMN to_bin SET NOT NULL`);
    await q.query(`
      ALTER TABLE stock_transfers
        DROP COLUMN IF EXISTS status, DROP COLUMN IF EXISTS from_bin,
        DROP COLUMN IF EXISTS status_reason, DROP COLUMN IF EXISTS updated_at`);
  }
}
