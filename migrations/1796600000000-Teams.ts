import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Teams channel support.
 *
 * conversation_references.retired_at / retired_reason — a conversation the channel refused with 403
 * (app uninstalled, bot removed or blocked): no more proactive sends go there until the next
 * inbound activity from it revives the row (src/bot/proactive/conversationReferences.ts).
 *
 * inbound_activities — de-duplication of Bot Framework activities the channel re-sends (Teams
 * re-posts what was not answered within 15 s) on (channel, conversation, activity id): the first
 * delivery claims the row (`processing`), then `done` or `failed`; a re-delivery of a `done` or
 * still-`processing` activity is acknowledged and dropped, a `failed` or abandoned one is processed
 * again (src/bot/teams/redelivery.ts). Rows expire after a TTL and are deleted in passing.
 */
export class Teams1796600000000 implements MigrationInterface {
  name = 'Teams1796600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE conversation_references ADD COLUMN retired_at timestamptz`);
    await q.query(`ALTER TABLE conversation_references ADD COLUMN retired_reason text`);
    await q.query(`
      CREATE TABLE inbound_activities (
        channel_id      text        NOT NULL,
        conversation_id text        NOT NULL,
        activity_id     text        NOT NULL,
        status          text        NOT NULL CHECK (status IN ('processing', 'done', 'failed')),
        attempts        integer     NOT NULL DEFAULT 1 CHECK (attempts >= 1),
        first_seen_at   timestamptz NOT NULL DEFAULT now(),
        claimed_at      timestamptz NOT NULL DEFAULT now(),
        finished_at     timestamptz,
        expires_at      timestamptz NOT NULL,
        error           text,
        PRIMARY KEY (channel_id, conversation_id, activity_id)
      )`);
    await q.query('CREATE INDEX inbound_activities_expires_at_idx ON inbound_activities (expires_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS inbound_activities');
    await q.query('ALTER TABLE conversation_references DROP COLUMN IF EXISTS retired_reason');
    await q.query('ALTER TABLE conversation_references DROP COLUMN IF EXISTS retired_at');
  }
}
