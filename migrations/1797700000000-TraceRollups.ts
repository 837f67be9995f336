import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Rollups of turn_traces for the dashboard's long windows (src/tracing/rollups.ts). The worker
 * rolls up each completed minute (and recomputes the hour that holds it) so a 24-hour or 7-day
 * query reads thousands of rollup rows instead of sorting millions of turns.
 *
 * - turn_rollups: per span ('minute' | 'hour') × bucket start × channel × intent: turns, errors,
 *   rejected, the sum of total_ms and a sparse latency histogram of total_ms (hist_idx: bucket
 *   numbers of the fixed log-spaced histogram, ascending; hist_count: turns in each).
 * - turn_stage_rollups: per span × bucket start × stage: turns that ran the stage, the sum of its
 *   milliseconds and its histogram.
 * - turn_total_rollups: per span × bucket start: the same for total_ms over all channels and
 *   intents (the latency chart and the percentile tiles read one row per minute or hour instead
 *   of one per channel × intent).
 * - turn_rollup_state: one row; rolled_until = every minute before it is rolled up. Readers take
 *   rollups before it and raw rows from it on. No row: nothing is rolled up yet (all raw).
 *
 * A NULL channel or intent is a value of its own (turns without one), hence NULLS NOT DISTINCT
 * (PostgreSQL ≥ 15, as the rest of the app requires).
 */
export class TraceRollups1797700000000 implements MigrationInterface {
  name = 'TraceRollups1797700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE turn_rollups (
        span         text             NOT NULL CHECK (span IN ('minute', 'hour')),
        bucket_start timestamptz      NOT NULL,
        channel_id   text,
        intent       text,
        turns        integer          NOT NULL,
        errors       integer          NOT NULL,
        rejected     integer          NOT NULL,
        total_ms_sum double precision NOT NULL,
        hist_idx     smallint[]       NOT NULL,
        hist_count   integer[]        NOT NULL
      )`);
    await q.query(`CREATE UNIQUE INDEX turn_rollups_key ON turn_rollups (span, bucket_start, channel_id, intent) NULLS NOT DISTINCT`);
    await q.query(`CREATE TABLE turn_stage_rollups (
        span         text             NOT NULL CHECK (span IN ('minute', 'hour')),
        bucket_start timestamptz      NOT NULL,
        stage        text             NOT NULL,
        turns        integer          NOT NULL,
        ms_sum       double precision NOT NULL,
        hist_idx     smallint[]       NOT NULL,
        hist_count   integer[]        NOT NULL,
        PRIMARY KEY (span, bucket_start, stage)
      )`);
    await q.query(`CREATE TABLE turn_total_rollups (
        span         text             NOT NULL CHECK (span IN ('minute', 'hour')),
        bucket_start timestamptz      NOT NULL,
        turns        integer          NOT NULL,
        total_ms_sum double precision NOT NULL,
        hist_idx     smallint[]       NOT NULL,
        hist_count   integer[]        NOT NULL,
        PRIMARY KEY (span, bucket_start)
      )`);
    await q.query(`CREATE TABLE turn_rollup_state (
        id           integer     PRIMARY KEY CHECK (id = 1),
        rolled_until timestamptz NOT NULL,
        updated_at   timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE turn_rollup_state`);
    await q.query(`DROP TABLE turn_total_rollups`);
    await q.query(`DROP TABLE turn_stage_rollups`);
    await q.query(`DROP TABLE turn_rollups`);
  }
}
