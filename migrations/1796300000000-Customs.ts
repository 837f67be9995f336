import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The customs skill on top of the tables SystemOfRecord designed for it:
 *
 * - customs_declarations get the lifecycle the skill runs, draft → submitted → under_review →
 *   cleared / held / rejected (held → cleared / rejected / cancelled when replaced), the reason
 *   customs gave, the duty estimated at filing, who filed it (name) and when it was decided.
 *   At most one declaration per shipment may be open or cleared (partial unique index): two
 *   concurrent filings for one shipment cannot both succeed.
 * - declaration lines keep the goods description, unit and duty rate used at filing; their HS code
 *   may be missing (filed without one, customs holds it).
 * - products may be unclassified (no HS code yet): filing asks for the code.
 * - shipments get the port or city they left from ("the Shenzhen container").
 */
export class Customs1796300000000 implements MigrationInterface {
  name = 'Customs1796300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE products ALTER COLUMN hs_code DROP NOT NULL`);
    await q.query(`ALTER TABLE shipments ADD COLUMN origin_port text`);

    await q.query(`ALTER TABLE customs_declarations DROP CONSTRAINT customs_declarations_status_check`);
    await q.query(`
      ALTER TABLE customs_declarations ADD CONSTRAINT customs_declarations_status_check CHECK (status IN (
        'draft', 'submitted', 'accepted', 'under_review', 'held', 'cleared', 'rejected', 'cancelled'))`);
    await q.query(`
      ALTER TABLE customs_declarations
        ADD COLUMN status_reason text,
        ADD COLUMN filed_by_name text,
        ADD COLUMN duty_estimate numeric(14, 2) CHECK (duty_estimate >= 0),
        ADD COLUMN decided_at    timestamptz`);
    await q.query(`
      CREATE UNIQUE INDEX customs_declarations_one_open_idx ON customs_declarations (shipment_id)
      WHERE status IN ('draft', 'submitted', 'accepted', 'under_review', 'held', 'cleared')`);

    await q.query(`ALTER TABLE customs_declaration_lines ALTER COLUMN hs_code DROP NOT NULL`);
    await q.query(`
      ALTER TABLE customs_declaration_lines
        ADD COLUMN description text,
        ADD COLUMN unit        text,
        ADD COLUMN duty_rate   numeric(6, 3) CHECK (duty_rate >= 0)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE customs_declaration_lines DROP COLUMN IF EXISTS duty_rate, DROP COLUMN IF EXISTS unit, DROP COLUMN IF EXISTS description`);
    await q.query(`DELETE FROM customs_declaration_lines WHERE hs_code IS NULL`);
    await q.query(`ALTER TABLE customs_declaration_lines ALTER COLUMN hs_code SET NOT NULL`);
    await q.query(`DROP INDEX IF EXISTS customs_declarations_one_open_idx`);
    await q.query(`
      ALTER TABLE customs_declarations
        DROP COLUMN IF EXISTS decided_at, DROP COLUMN IF EXISTS duty_estimate,
        DROP COLUMN IF EXISTS filed_by_name, DROP COLUMN IF EXISTS status_reason`);
    await q.query(`UPDATE customs_declarations SET status = 'accepted' WHERE status = 'under_review'`);
    await q.query(`ALTER TABLE customs_declarations DROP CONSTRAINT customs_declarations_status_check`);
    await q.query(`
      ALTER TABLE customs_declarations ADD CONSTRAINT customs_declarations_status_check CHECK (status IN (
        'draft', 'submitted', 'accepted', 'held', 'cleared', 'rejected', 'cancelled'))`);
    await q.query(`ALTER TABLE shipments DROP COLUMN IF EXISTS origin_port`);
    await q.query(`UPDATE products SET hs_code = '000000' WHERE hs_code IS NULL`);
    await q.query(`ALTER TABLE products ALTER COLUMN hs_code SET NOT NULL`);
  }
}
