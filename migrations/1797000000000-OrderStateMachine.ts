import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Purchase orders as a state machine (src/skills/procurement/orderMachine.ts):
 * - `cancelling`: a cancel was asked for while the supplier may hold the order (a send in flight
 *   or done); the order stays there until the supplier's answer to `cancel_purchase_order`.
 * - `cancel_request`: who asked for that cancel, from where and why, so the cancel job that starts
 *   once the in-flight send has its outcome can tell them.
 */
export class OrderStateMachine1797000000000 implements MigrationInterface {
  name = 'OrderStateMachine1797000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE purchase_orders DROP CONSTRAINT purchase_orders_status_check`);
    await q.query(`
      ALTER TABLE purchase_orders ADD CONSTRAINT purchase_orders_status_check CHECK (status IN (
        'draft', 'pending_approval', 'approved', 'sent', 'confirmed',
        'partially_received', 'received', 'cancelling', 'cancelled', 'rejected'))`);
    await q.query(`ALTER TABLE purchase_orders ADD COLUMN cancel_request jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE purchase_orders DROP COLUMN cancel_request`);
    await q.query(`UPDATE purchase_orders SET status = 'cancelled' WHERE status = 'cancelling'`);
    await q.query(`ALTER TABLE purchase_orders DROP CONSTRAINT purchase_orders_status_check`);
    await q.query(`
      ALTER TABLE purchase_orders ADD CONSTRAINT purchase_orders_status_check CHECK (status IN (
        'draft', 'pending_approval', 'approved', 'sent', 'confirmed',
        'partially_received', 'received', 'cancelled', 'rejected'))`);
  }
}
