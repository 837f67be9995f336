import { createHash, randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { execute } from '../../db/sql.js';
import type { CardSpec, CardSubmit } from '../../skills/types.js';

/**
 * Proof that a write button was really shown to the user who pressed it.
 *
 * A card button that runs a write at once (`{verb: 'do', action, …slots}`, an approver's
 * Approve / Reject) is an HTTP POST anyone can forge: on an anonymous local server a page on
 * another origin can post one as any `from.id`. So every such button carries a nonce issued here
 * when the card is sent, stored in `card_nonces` and bound to the channel, the conversation, the
 * user it was sent to, the actions the card offers and a hash of their slots. Pressing a button
 * consumes it in one conditional UPDATE: the first valid press wins, a second press, a copy in
 * another conversation, another user, another action or other slots, and anything past
 * `ttlMs` find nothing to consume. Without a consumed nonce the bot never runs the write (it
 * starts the normal dialog, which asks to confirm). One nonce per card: pressing Approve also
 * retires Reject.
 */

/** Where a card goes, and who may press it (absent user: anyone in the conversation, e.g. a channel). */
export interface CardAudience {
  channelId: string;
  conversationId: string;
  userId?: string;
}

/** A button press to check against the nonce it carries. */
export interface CardPress {
  channelId: string;
  conversationId: string;
  userId: string;
  action: string;
  slots: Record<string, unknown>;
}

/** Issued nonces stay valid this long (an approval can wait a few days). */
const DEFAULT_TTL_MS = 7 * 24 * 3_600_000;

export class CardNonceStore {
  constructor(
    private readonly db: DataSource,
    private readonly ttlMs = DEFAULT_TTL_MS,
  ) {}

  /** Issues one nonce for `actions` on `slots`, valid for `audience`. */
  async issue(audience: CardAudience, actions: string[], slots: Record<string, unknown>): Promise<string> {
    const nonce = randomBytes(18).toString('base64url');
    await execute(
      this.db,
      `INSERT INTO card_nonces (nonce, channel_id, conversation_id, user_id, actions, slots_hash, expires_at)
       VALUES ($1, $2, $3, $4, $5::text[], $6, now() + make_interval(secs => $7::double precision / 1000))`,
      [nonce, audience.channelId, audience.conversationId, audience.userId ?? null, actions, slotsHash(slots), this.ttlMs],
    );
    return nonce;
  }

  /** Consumes `nonce` for this press; true once for the first matching press, false otherwise. */
  async consume(nonce: unknown, press: CardPress): Promise<boolean> {
    if (typeof nonce !== 'string' || nonce.length === 0 || nonce.length > 200) return false;
    const { rows } = await execute<{ nonce: string }>(
      this.db,
      `UPDATE card_nonces SET used_at = now(), used_by = $4, used_action = $5
        WHERE nonce = $1 AND used_at IS NULL AND expires_at > now()
          AND channel_id = $2 AND conversation_id = $3 AND (user_id IS NULL OR user_id = $4)
          AND $5 = ANY(actions) AND slots_hash = $6
        RETURNING nonce`,
      [nonce, press.channelId, press.conversationId, press.userId, press.action, slotsHash(press.slots)],
    );
    return rows.length === 1;
  }

  /**
   * The card with every `verb: 'do'` button carrying a nonce issued for `audience` (buttons with
   * the same slots share one nonce, so pressing one retires the others). Other buttons unchanged.
   */
  async bind(card: CardSpec, audience: CardAudience): Promise<CardSpec> {
    if (!card.actions?.some((a) => a.data.verb === 'do')) return card;
    const groups = new Map<string, { actions: string[]; slots: Record<string, unknown> }>();
    for (const { data } of card.actions) {
      if (data.verb !== 'do' || typeof data.action !== 'string') continue;
      const slots = submitSlots(data);
      const hash = slotsHash(slots);
      const group = groups.get(hash) ?? { actions: [], slots };
      group.actions.push(data.action);
      groups.set(hash, group);
    }
    const nonces = new Map<string, string>();
    for (const [hash, group] of groups) nonces.set(hash, await this.issue(audience, group.actions, group.slots));
    return {
      ...card,
      actions: card.actions.map((a) =>
        a.data.verb === 'do' ? { ...a, data: { ...a.data, nonce: nonces.get(slotsHash(submitSlots(a.data))) ?? '' } } : a,
      ),
    };
  }

  /** Drops nonces that expired more than a day ago (their presses are refused anyway). */
  async prune(): Promise<number> {
    const { rows } = await execute<{ n: number }>(
      this.db,
      `WITH gone AS (DELETE FROM card_nonces WHERE expires_at < now() - interval '1 day' RETURNING 1) SELECT count(*)::int AS n FROM gone`,
    );
    return rows[0]?.n ?? 0;
  }
}

/** What a `do` button acts on: its data without the envelope (verb, action, nonce, ref). */
export function submitSlots(data: CardSubmit): Record<string, unknown> {
  const { verb: _verb, action: _action, nonce: _nonce, ref: _ref, ...slots } = data;
  return slots;
}

/** Order-independent hash of the slots, values compared as text (a channel may turn 5 into "5"). */
function slotsHash(slots: Record<string, unknown>): string {
  const canonical = Object.keys(slots)
    .filter((k) => slots[k] !== undefined && slots[k] !== null)
    .sort()
    .map((k) => [k, String(slots[k])]);
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}
