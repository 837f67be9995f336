import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { execute } from '../../db/sql.js';
import type { Logger } from '../../logger.js';
import { ACTIVITY_CHANNEL, type ActivityFeed } from './activityFeed.js';
import type {
  ActivitySet,
  ConversationListener,
  DirectLineStore,
  StoredFile,
  WebchatConversation,
  WebchatLimits,
  WebchatUser,
  WireActivity,
} from './conversations.js';

/** Serialises uploads so that the total-bytes cap holds across replicas (transaction-scoped). */
const UPLOAD_LOCK_KEY = 727_318_040;

interface ConversationRow {
  id: string;
  token_hash: Buffer;
  user_id: string;
  user_name: string | null;
  started: boolean;
}

const CONVERSATION_COLUMNS = 'id, token_hash, user_id, user_name, started';

/**
 * The Direct Line store in the database (tables: migrations/1797750000000-WebchatDirectLine.ts),
 * on PostgreSQL or the embedded PGlite. Every replica reads and writes the same rows, so a poll, a
 * token refresh, a file link or a stream may land on any of them, and a restart keeps everything.
 *
 * Ordering: an append is ONE statement that bumps the conversation's `watermark` (an UPDATE of its
 * row, which holds the row lock until commit) and inserts the activity under that number. Appends
 * to one conversation therefore commit in sequence order, from whatever process: a poller never
 * sees seq n+1 before seq n (no gaps it would skip), and two appends never get the same seq.
 * `since()` reads the counter and the log in one statement (one snapshot), so the watermark it
 * returns never runs ahead of the activities it returns.
 *
 * Expiry is measured with the database's clock (replicas' clocks may differ). A request marks its
 * conversation active at most once per `touchEveryMs`, not on every poll. Expired conversations are
 * deleted (with their log, ids and files) by a sweep that requests start at most every `sweepEveryMs`
 * per process (the streams of a deleted conversation hear that it ended, on every replica).
 */
export class DatabaseDirectLineStore implements DirectLineStore {
  private lastSweep = 0;
  private sweeping?: Promise<void>;
  private readonly touchEveryMs: number;
  private readonly sweepEveryMs: number;

  constructor(
    private readonly dataSource: DataSource,
    readonly limits: WebchatLimits,
    private readonly feed: ActivityFeed,
    private readonly logger: Logger,
  ) {
    this.touchEveryMs = Math.max(1, Math.min(60_000, Math.floor(limits.idleTtlMs / 10)));
    this.sweepEveryMs = Math.max(1, Math.min(60_000, Math.floor(limits.idleTtlMs / 2)));
  }

  async create(user: WebchatUser): Promise<{ conversation: WebchatConversation; token: string }> {
    this.maybeSweep();
    // Least recently active first, as many as needed to stay within maxConversations with this one.
    await this.forget(
      `SELECT id FROM webchat_conversations ORDER BY last_active_at DESC, id OFFSET $1`,
      [Math.max(0, this.limits.maxConversations - 1)],
    );
    const id = randomBytes(16).toString('base64url');
    const token = randomBytes(32).toString('base64url');
    const tokenHash = hashToken(token);
    await execute(this.dataSource, 'INSERT INTO webchat_conversations (id, token_hash, user_id, user_name) VALUES ($1, $2, $3, $4)', [
      id,
      tokenHash,
      user.id,
      user.name ?? null,
    ]);
    return { conversation: { id, tokenHash, user, started: false }, token };
  }

  get(id: string): Promise<WebchatConversation | undefined> {
    return this.findActive('id = $1', id);
  }

  byBearer(token: string): Promise<WebchatConversation | undefined> {
    return this.findActive('token_hash = $1', hashToken(token));
  }

  tokenMatches(conversation: WebchatConversation, token: string): boolean {
    return timingSafeEqual(hashToken(token), conversation.tokenHash);
  }

  async claimStart(conversationId: string): Promise<boolean> {
    const { rowCount } = await execute(this.dataSource, 'UPDATE webchat_conversations SET started = true WHERE id = $1 AND NOT started', [conversationId]);
    return rowCount > 0;
  }

  async nextActivityId(conversationId: string): Promise<{ id: string; sequence: number } | undefined> {
    const { rows } = await execute<{ n: number }>(
      this.dataSource,
      'UPDATE webchat_conversations SET last_activity_id = last_activity_id + 1 WHERE id = $1 RETURNING last_activity_id AS n',
      [conversationId],
    );
    const n = rows[0]?.n;
    return n === undefined ? undefined : { id: `${conversationId}|${String(n).padStart(7, '0')}`, sequence: n };
  }

  async append(conversationId: string, activity: WireActivity, aliases: string[] = []): Promise<number | undefined> {
    const ids = [...new Set([activity.id, ...aliases].filter((x): x is string => typeof x === 'string' && x.length > 0))];
    // One statement, one implicit transaction: the row lock taken by `bumped` orders concurrent
    // appends; the log and the id index are trimmed to maxActivities; the NOTIFY goes out at commit.
    // `trimmed_ids` spares the ids this append points at (one statement must not touch a row twice).
    const { rows } = await execute<{ seq: string }>(
      this.dataSource,
      `WITH bumped AS (
         UPDATE webchat_conversations SET watermark = watermark + 1 WHERE id = $1 RETURNING watermark
       ), inserted AS (
         INSERT INTO webchat_activities (conversation_id, seq, activity) SELECT $1, watermark, $2::json FROM bumped RETURNING seq
       ), ids AS (
         INSERT INTO webchat_activity_ids (conversation_id, activity_id, seq)
         SELECT $1, a, inserted.seq FROM inserted, unnest($3::text[]) AS a
         ON CONFLICT (conversation_id, activity_id) DO UPDATE SET seq = EXCLUDED.seq
       ), trimmed AS (
         DELETE FROM webchat_activities WHERE conversation_id = $1 AND seq <= (SELECT seq FROM inserted) - $4::bigint
       ), trimmed_ids AS (
         DELETE FROM webchat_activity_ids
          WHERE conversation_id = $1 AND seq <= (SELECT seq FROM inserted) - $4::bigint AND NOT (activity_id = ANY ($3::text[]))
       )
       SELECT seq, pg_notify('${ACTIVITY_CHANNEL}', 'a:' || $1) FROM inserted`,
      [conversationId, JSON.stringify(activity), ids, this.limits.maxActivities],
    );
    const seq = rows[0]?.seq;
    if (seq === undefined) return undefined;
    this.feed.appended(conversationId);
    return Number(seq);
  }

  async since(conversationId: string, watermark: string | null | undefined): Promise<ActivitySet | undefined> {
    const after = watermark && /^\d{1,15}$/.test(watermark) ? watermark : '0';
    // One statement: the counter and the rows come from the same snapshot.
    const { rows } = await execute<{ watermark: string; activity: WireActivity | null }>(
      this.dataSource,
      `SELECT c.watermark, a.activity
         FROM webchat_conversations c
         LEFT JOIN webchat_activities a ON a.conversation_id = c.id AND a.seq > $2::bigint
        WHERE c.id = $1
        ORDER BY a.seq`,
      [conversationId, after],
    );
    if (rows.length === 0) return undefined;
    const activities = rows.flatMap((r) => (r.activity ? [r.activity] : []));
    return { activities, watermark: String(rows[0]!.watermark) };
  }

  async activity(conversationId: string, activityId: string): Promise<WireActivity | undefined> {
    const { rows } = await execute<{ activity: WireActivity }>(
      this.dataSource,
      `SELECT a.activity FROM webchat_activity_ids i
         JOIN webchat_activities a ON a.conversation_id = i.conversation_id AND a.seq = i.seq
        WHERE i.conversation_id = $1 AND i.activity_id = $2`,
      [conversationId, activityId],
    );
    return rows[0]?.activity;
  }

  async addFile(conversation: WebchatConversation, file: Omit<StoredFile, 'id' | 'conversationId'>): Promise<StoredFile | undefined> {
    const stored: StoredFile = { ...file, id: randomBytes(18).toString('base64url'), conversationId: conversation.id };
    const runner = this.dataSource.createQueryRunner();
    try {
      await runner.startTransaction();
      await execute(runner, 'SELECT pg_advisory_xact_lock($1)', [UPLOAD_LOCK_KEY]);
      const { rowCount } = await execute(
        runner,
        `INSERT INTO webchat_files (id, conversation_id, name, content_type, bytes, size)
         SELECT $1::text, $2::text, $3::text, $4::text, $5::bytea, $6::integer
          WHERE (SELECT coalesce(sum(size), 0) FROM webchat_files) + $6::integer <= $7::bigint`,
        [stored.id, stored.conversationId, stored.name, stored.contentType, stored.bytes, stored.bytes.length, this.limits.maxStoredBytes],
      );
      await runner.commitTransaction();
      return rowCount > 0 ? stored : undefined;
    } catch (err) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw err;
    } finally {
      await runner.release();
    }
  }

  async getFile(id: string): Promise<StoredFile | undefined> {
    const { rows } = await execute<{ id: string; conversation_id: string; name: string; content_type: string; bytes: Buffer }>(
      this.dataSource,
      `SELECT f.id, f.conversation_id, f.name, f.content_type, f.bytes
         FROM webchat_files f JOIN webchat_conversations c ON c.id = f.conversation_id
        WHERE f.id = $1 AND c.last_active_at > now() - $2::bigint * interval '1 millisecond'`,
      [id, this.limits.idleTtlMs],
    );
    const row = rows[0];
    return row && { id: row.id, conversationId: row.conversation_id, name: row.name, contentType: row.content_type, bytes: row.bytes };
  }

  async redeemTicket(signature: string, expiresAtMs: number): Promise<boolean> {
    const { rowCount } = await execute(
      this.dataSource,
      `INSERT INTO webchat_stream_tickets (signature, expires_at) VALUES ($1, to_timestamp($2::double precision / 1000))
       ON CONFLICT (signature) DO NOTHING`,
      [signature, expiresAtMs],
    );
    return rowCount > 0;
  }

  subscribe(conversationId: string, listener: ConversationListener): () => void {
    return this.feed.subscribe(conversationId, listener);
  }

  async close(): Promise<void> {
    await this.sweeping;
    await this.feed.close();
  }

  /** Deletes expired conversations (cascading to their log, ids and files) and used tickets past their expiry. */
  async sweep(): Promise<void> {
    await this.forget('SELECT id FROM webchat_conversations WHERE last_active_at < now() - $1::bigint * interval \'1 millisecond\'', [this.limits.idleTtlMs]);
    await execute(this.dataSource, 'DELETE FROM webchat_stream_tickets WHERE expires_at < now()');
  }

  private maybeSweep(): void {
    const now = Date.now();
    if (this.sweeping || now - this.lastSweep < this.sweepEveryMs) return;
    this.lastSweep = now;
    this.sweeping = this.sweep()
      .catch((err: unknown) => this.logger.warn({ err }, 'web chat: sweep failed'))
      .finally(() => {
        this.sweeping = undefined;
      });
  }

  /** Deletes the conversations `select` names and tells every replica's streams they ended. */
  private async forget(select: string, params: unknown[]): Promise<void> {
    const { rows } = await execute<{ id: string }>(
      this.dataSource,
      `WITH gone AS (DELETE FROM webchat_conversations WHERE id IN (${select}) RETURNING id)
       SELECT id, pg_notify('${ACTIVITY_CHANNEL}', 'e:' || id) FROM gone`,
      params,
    );
    for (const { id } of rows) this.feed.ended(id);
  }

  /** The conversation if it has not expired; marks it active when its mark is older than `touchEveryMs`. */
  private async findActive(where: string, key: unknown): Promise<WebchatConversation | undefined> {
    this.maybeSweep();
    const { rows } = await execute<ConversationRow>(
      this.dataSource,
      `WITH c AS (
         SELECT ${CONVERSATION_COLUMNS}, last_active_at FROM webchat_conversations
          WHERE ${where} AND last_active_at > now() - $2::bigint * interval '1 millisecond'
       ), touched AS (
         UPDATE webchat_conversations w SET last_active_at = now()
           FROM c WHERE w.id = c.id AND c.last_active_at < now() - $3::bigint * interval '1 millisecond'
       )
       SELECT ${CONVERSATION_COLUMNS} FROM c`,
      [key, this.limits.idleTtlMs, this.touchEveryMs],
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      id: row.id,
      tokenHash: row.token_hash,
      user: { id: row.user_id, ...(row.user_name !== null ? { name: row.user_name } : {}) },
      started: row.started,
    };
  }
}

function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}
