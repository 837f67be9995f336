import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * turn_traces — one row per bot turn, written in batches by the TraceWriter.
 *
 * Stages are a jsonb object `{ "<stage>": <ms>, ... }` in the turn's row, not a child table with
 * one row per stage, because:
 * - the write path is the hot path: one row per turn keeps a batch to one multi-row INSERT into
 *   one table and one index, instead of ~8 rows and a second index per turn;
 * - the stage set is open (`StageName` allows any string), and a stage nobody ran is simply
 *   absent, which an object says directly;
 * - reads are "the last N turns" (no join needed) and "percentiles per stage over a time window",
 *   which `jsonb_each(stages)` over the window's rows answers in one GROUP BY.
 * What we give up: no per-stage index or numeric type check in the database (the writer only
 * writes finite numbers). If per-stage queries over long ranges become hot, add an expression
 * index or a rollup table rather than changing this shape.
 *
 * turn_id is the primary key so a batch re-sent after an ambiguous failure (INSERT committed but
 * the connection dropped before the reply) is absorbed by ON CONFLICT DO NOTHING: no duplicates.
 * It is text, not uuid, because TraceRecord.turnId is a string and a trace must never be lost to
 * a type error. outcome has no CHECK constraint for the same reason (new outcomes may appear).
 */
export class InitialSchema1795963900000 implements MigrationInterface {
  name = 'InitialSchema1795963900000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE turn_traces (
        turn_id         text             PRIMARY KEY,
        conversation_id text,
        channel_id      text,
        activity_id     text,
        user_id         text,
        started_at      timestamptz      NOT NULL,
        total_ms        double precision NOT NULL,
        stages          jsonb            NOT NULL DEFAULT '{}'::jsonb,
        intent          text,
        confidence      double precision,
        attributes      jsonb            NOT NULL DEFAULT '{}'::jsonb,
        outcome         text             NOT NULL,
        error           text
      )`);
    await queryRunner.query(`CREATE INDEX turn_traces_started_at_idx ON turn_traces (started_at)`);

    // Bot Framework state (conversation/user/private-conversation state), one document per storage
    // key. etag implements optimistic concurrency: writes compare-and-set on it.
    await queryRunner.query(`
      CREATE TABLE bot_state (
        key        text        PRIMARY KEY,
        document   jsonb       NOT NULL,
        etag       text        NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE IF EXISTS bot_state`);
    await queryRunner.query(`DROP TABLE IF EXISTS turn_traces`);
  }
}
