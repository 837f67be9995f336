import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * card_nonces — the proof that a card button which runs a write (`verb: 'do'`, e.g. an approver's
 * Approve / Reject) was really shown to that user (src/bot/cards/cardNonces.ts). Issued when the
 * card is sent, bound to the conversation, the user, the actions the card offers and a hash of
 * their slots; consumed once, atomically, when a button is pressed. A submit whose nonce is
 * unknown, used, expired or bound to something else never runs the write.
 */
export class CardNonces1797250000000 implements MigrationInterface {
  name = 'CardNonces1797250000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE card_nonces (
        nonce           text        PRIMARY KEY,
        channel_id      text        NOT NULL,
        conversation_id text        NOT NULL,
        user_id         text,
        actions         text[]      NOT NULL,
        slots_hash      text        NOT NULL,
        created_at      timestamptz NOT NULL DEFAULT now(),
        expires_at      timestamptz NOT NULL,
        used_at         timestamptz,
        used_by         text,
        used_action     text
      )`);
    await q.query('CREATE INDEX card_nonces_expires_idx ON card_nonces (expires_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS card_nonces');
  }
}
