import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The local web channel's Direct Line state, shared by every replica (src/bot/webchat/databaseStore.ts;
 * it lived in each process's memory before):
 *
 * - webchat_conversations: one row per conversation, with the hash of its token, its user, and two
 *   counters: `last_activity_id` (the number in the next `<conversation>|0000042` id) and
 *   `watermark` (the sequence of the last appended activity). Appending bumps `watermark` with an
 *   UPDATE of this row in the same statement as the INSERT, so appends to one conversation are
 *   serialised by the row lock and commit in sequence order: no gaps, no duplicates, whichever
 *   process appends.
 * - webchat_activities: the activity log, keyed by (conversation, seq); the Direct Line watermark is seq.
 * - webchat_activity_ids: the latest version (seq) of each activity by any of its ids — a card
 *   update gets a new id, and the bot may still name an older one.
 * - webchat_files: uploads (bytea), capped in total by the store.
 * - webchat_stream_tickets: stream tickets already used (one use across replicas), until they expire.
 * - webchat_keys: random key material created once; the connector secret and the stream-ticket key
 *   are derived from it, so every replica has the same ones.
 */
export class WebchatDirectLine1797750000000 implements MigrationInterface {
  name = 'WebchatDirectLine1797750000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE webchat_conversations (
        id               text        PRIMARY KEY,
        token_hash       bytea       NOT NULL UNIQUE,
        user_id          text        NOT NULL,
        user_name        text,
        started          boolean     NOT NULL DEFAULT false,
        last_activity_id integer     NOT NULL DEFAULT 0,
        watermark        bigint      NOT NULL DEFAULT 0,
        created_at       timestamptz NOT NULL DEFAULT now(),
        last_active_at   timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX webchat_conversations_active_idx ON webchat_conversations (last_active_at)');
    await q.query(`
      CREATE TABLE webchat_activities (
        conversation_id text   NOT NULL REFERENCES webchat_conversations (id) ON DELETE CASCADE,
        seq             bigint NOT NULL,
        activity        json   NOT NULL,
        PRIMARY KEY (conversation_id, seq)
      )`);
    await q.query(`
      CREATE TABLE webchat_activity_ids (
        conversation_id text   NOT NULL REFERENCES webchat_conversations (id) ON DELETE CASCADE,
        activity_id     text   NOT NULL,
        seq             bigint NOT NULL,
        PRIMARY KEY (conversation_id, activity_id)
      )`);
    await q.query(`
      CREATE TABLE webchat_files (
        id              text        PRIMARY KEY,
        conversation_id text        NOT NULL REFERENCES webchat_conversations (id) ON DELETE CASCADE,
        name            text        NOT NULL,
        content_type    text        NOT NULL,
        bytes           bytea       NOT NULL,
        size            integer     NOT NULL,
        created_at      timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX webchat_files_conversation_idx ON webchat_files (conversation_id)');
    await q.query(`
      CREATE TABLE webchat_stream_tickets (
        signature  text        PRIMARY KEY,
        expires_at timestamptz NOT NULL
      )`);
    await q.query('CREATE INDEX webchat_stream_tickets_expires_idx ON webchat_stream_tickets (expires_at)');
    await q.query(`
      CREATE TABLE webchat_keys (
        name       text        PRIMARY KEY,
        secret     bytea       NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS webchat_keys');
    await q.query('DROP TABLE IF EXISTS webchat_stream_tickets');
    await q.query('DROP TABLE IF EXISTS webchat_files');
    await q.query('DROP TABLE IF EXISTS webchat_activity_ids');
    await q.query('DROP TABLE IF EXISTS webchat_activities');
    await q.query('DROP TABLE IF EXISTS webchat_conversations');
  }
}
