import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * purchase_orders.approved_by keeps the approver's channel user id (the self-approval rule compares
 * ids); approved_by_name keeps how to show them ("Bob", not "29:1aBcD…"). The unused decided_note
 * column goes (status_reason says why an order was approved, rejected or cancelled).
 */
export class ApproverName1796180000000 implements MigrationInterface {
  name = 'ApproverName1796180000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE purchase_orders ADD COLUMN approved_by_name text`);
    await q.query(`ALTER TABLE purchase_orders DROP COLUMN decided_note`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE purchase_orders ADD COLUMN decided_note text`);
    await q.query(`ALTER TABLE purchase_orders DROP COLUMN approved_by_name`);
  }
}
