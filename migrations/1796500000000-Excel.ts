import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Excel workflows (src/skills/excel, src/bot/files).
 *
 * excel_imports — an uploaded spreadsheet waiting for (or past) its confirmation: the per-row plan
 *   (validated slots, idempotency key per row, problems), who sent it and where. Kept in the
 *   database so a confirmation still works after a restart; each row's key (file hash + sheet +
 *   row) goes through idempotency_keys when it runs, so a file is never imported twice.
 * file_downloads — files the bot hands out by link (exports to Teams / Web Chat / the terminal):
 *   only the SHA-256 of the link's token is stored, with the bytes and an expiry.
 */
export class Excel1796500000000 implements MigrationInterface {
  name = 'Excel1796500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE excel_imports (
        id              text        PRIMARY KEY,
        channel_id      text        NOT NULL,
        conversation_id text        NOT NULL,
        actor_id        text        NOT NULL,
        actor_name      text,
        file_name       text        NOT NULL,
        file_sha256     text        NOT NULL CHECK (file_sha256 ~ '^[0-9a-f]{64}$'),
        sheet           text        NOT NULL,
        format          text        NOT NULL,
        action          text        NOT NULL,
        plan            jsonb       NOT NULL,
        status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'done', 'cancelled')),
        result          jsonb,
        created_at      timestamptz NOT NULL DEFAULT now(),
        expires_at      timestamptz NOT NULL,
        decided_at      timestamptz
      )`);
    await q.query(`CREATE INDEX excel_imports_conversation_idx ON excel_imports (conversation_id, created_at DESC)`);
    await q.query(`
      CREATE TABLE file_downloads (
        token_sha256    text        PRIMARY KEY CHECK (token_sha256 ~ '^[0-9a-f]{64}$'),
        file_name       text        NOT NULL,
        content_type    text        NOT NULL,
        bytes           bytea       NOT NULL,
        conversation_id text,
        created_at      timestamptz NOT NULL DEFAULT now(),
        expires_at      timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX file_downloads_expires_at_idx ON file_downloads (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS file_downloads');
    await q.query('DROP TABLE IF EXISTS excel_imports');
  }
}
