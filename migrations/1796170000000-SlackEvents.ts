import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * slack_events — Slack Events API de-duplication (src/bot/slack/eventStore.ts).
 *
 * One row per `event_id` Slack delivered: claimed (`processing`) by the first delivery in one
 * atomic INSERT … ON CONFLICT, then `done` or `failed`. A re-delivery of a `done` or still
 * `processing` event is acknowledged and dropped; a `failed` one (or one abandoned past its lease)
 * is claimed again. Rows are kept until `expires_at` (the TTL; Slack stops retrying after minutes)
 * and deleted in passing; the index serves that delete.
 */
export class SlackEvents1796170000000 implements MigrationInterface {
  name = 'SlackEvents1796170000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE slack_events (
        event_id      text        PRIMARY KEY,
        team_id       text,
        event_type    text,
        status        text        NOT NULL CHECK (status IN ('processing', 'done', 'failed')),
        attempts      integer     NOT NULL DEFAULT 1 CHECK (attempts >= 1),
        first_seen_at timestamptz NOT NULL DEFAULT now(),
        claimed_at    timestamptz NOT NULL DEFAULT now(),
        finished_at   timestamptz,
        expires_at    timestamptz NOT NULL,
        error         text
      )`);
    await q.query('CREATE INDEX slack_events_expires_at_idx ON slack_events (expires_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS slack_events');
  }
}
