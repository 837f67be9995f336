import { randomUUID } from 'node:crypto';
import type { Storage, StoreItem, StoreItems } from 'botbuilder';
import type { DataSource, QueryRunner } from 'typeorm';
import { execute } from '../../db/sql.js';
import { storableJsonString } from '../../db/text.js';
import { turnStateFor, type TurnStateSession } from './turnStateSession.js';

/** Thrown when a write's eTag no longer matches the stored item (someone else wrote it first). */
export class ETagConflictError extends Error {
  constructor(readonly key: string) {
    super(`Storage: error writing "${key}" due to eTag conflict.`);
    this.name = 'ETagConflictError';
  }
}

/**
 * Bot Framework `Storage` on the `bot_state` table, shareable by several server instances.
 *
 * Same semantics as botbuilder's MemoryStorage:
 * - `read` returns only the keys that exist, each item with its current `eTag`;
 * - `write` of an item whose `eTag` is `'*'`, empty or absent overwrites unconditionally; an item
 *   with any other `eTag` is written only if it matches the stored one (or nothing is stored under
 *   the key), otherwise the write rejects with ETagConflictError and stores nothing. Every stored
 *   item gets a new eTag; the caller's objects are not modified (read again, or use `writeItems`);
 * - `delete` of a missing key is not an error.
 * Each check-and-write is one atomic statement, so concurrent writers with the same eTag produce
 * exactly one winner. A write of several keys is one transaction: all or nothing.
 *
 * BotState (ConversationState, UserState) always saves with `eTag: '*'`, which would make the
 * last of two overlapping turns win silently. So a `'*'` write of the very object `read` returned
 * (BotState's load → change → save cycle) is conditional on the eTag that object was read with,
 * and a write updates the remembered eTag of the object it wrote: a stale save rejects with
 * ETagConflictError instead of overwriting a newer state. Any other object written with `'*'`
 * still overwrites. (State that did not exist when read is created by BotState, not by `read`,
 * so a first save is unconditional; conversation turns are serialized anyway, see
 * conversationLock.ts — this is defence in depth.)
 *
 * Items are stored as jsonb after a JSON round trip, like MemoryStorage (Dates become strings,
 * undefined properties vanish). Strings are cleaned for Postgres: NUL characters are removed and
 * lone surrogates replaced, since jsonb rejects both.
 */
export class PostgresStorage implements Storage {
  /** The eTag each object handed out by `read` (or last written) carries in the database. */
  private readonly knownETags = new WeakMap<object, string>();

  constructor(private readonly dataSource: DataSource) {}

  async read(keys: string[]): Promise<StoreItems> {
    if (!keys) throw new ReferenceError('Keys are required when reading.');
    const items: StoreItems = {};
    if (keys.length === 0) return items;
    // The turn's own conversation row may already have come with its lock (turnStateSession.ts).
    const rows: Array<{ key: string; document: Record<string, unknown>; etag: string }> = [];
    const ask: string[] = [];
    for (const key of keys) {
      const prefetched = turnStateFor(key)?.takePrefetched();
      if (prefetched === undefined) ask.push(key);
      else if (prefetched) rows.push({ key, ...prefetched });
    }
    if (ask.length > 0) {
      const found = await execute<{ key: string; document: Record<string, unknown>; etag: string }>(
        this.dataSource,
        'SELECT key, document, etag FROM bot_state WHERE key = ANY($1::text[])',
        [ask],
      );
      rows.push(...found.rows);
    }
    for (const row of rows) {
      const item = { ...row.document, eTag: row.etag };
      this.knownETags.set(item, row.etag);
      items[row.key] = item;
    }
    return items;
  }

  async write(changes: StoreItems): Promise<void> {
    await this.writeItems(changes);
  }

  /** Like `write`, and returns the new eTag of each written key. */
  async writeItems(changes: StoreItems): Promise<Record<string, string>> {
    if (!changes) throw new ReferenceError('Changes are required when writing.');
    const entries = Object.entries(changes);
    if (entries.length === 0) return {};
    if (entries.length === 1) {
      const [key, item] = entries[0]!;
      const session = turnStateFor(key);
      const etag = session
        ? await writeReleasing(session, this.dataSource, key, item, this.expectedETag(item))
        : await writeOne(this.dataSource, key, item, this.expectedETag(item));
      this.remember(item, etag);
      return { [key]: etag };
    }
    const runner = this.dataSource.createQueryRunner();
    try {
      await runner.startTransaction();
      const etags: Record<string, string> = {};
      for (const [key, item] of entries) etags[key] = await writeOne(runner, key, item, this.expectedETag(item));
      await runner.commitTransaction();
      for (const [key, item] of entries) this.remember(item, etags[key]!);
      return etags;
    } catch (err) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => {});
      throw err;
    } finally {
      await runner.release();
    }
  }

  async delete(keys: string[]): Promise<void> {
    if (!keys) throw new ReferenceError('Keys are required when deleting.');
    if (keys.length === 0) return;
    await execute(this.dataSource, 'DELETE FROM bot_state WHERE key = ANY($1::text[])', [keys]);
  }

  /** The eTag a write must match: the item's own, or for a `'*'` save of an object read here, the one it was read with. */
  private expectedETag(item: StoreItem): unknown {
    if (item === null || typeof item !== 'object') return undefined;
    const eTag = (item as { eTag?: unknown }).eTag;
    return eTag === '*' ? (this.knownETags.get(item) ?? eTag) : eTag;
  }

  private remember(item: StoreItem, etag: string): void {
    if (item !== null && typeof item === 'object') this.knownETags.set(item, etag);
  }
}

/** What one key's compare-and-set writes: the document, its new eTag, and the SQL with $1 key, $2 document, $3 new eTag[, $4 expected]. */
function writePlan(key: string, item: StoreItem, eTag: unknown): { params: string[]; sql: string } {
  if (item === null || typeof item !== 'object') throw new TypeError(`Storage: item "${key}" is not an object`);
  const { eTag: _ignored, ...rest } = item as StoreItem & { eTag?: unknown };
  const document = storableJsonString(rest);
  const etag = randomUUID();
  const unconditional = eTag === undefined || eTag === null || eTag === '' || eTag === '*';
  // INSERT … ON CONFLICT DO UPDATE locks the existing row and evaluates the WHERE against its
  // latest committed version, so of two writers holding the same eTag exactly one matches.
  const sql = unconditional
    ? `INSERT INTO bot_state (key, document, etag, updated_at) VALUES ($1, $2::jsonb, $3, now())
       ON CONFLICT (key) DO UPDATE SET document = EXCLUDED.document, etag = EXCLUDED.etag, updated_at = now()
       RETURNING etag`
    : `INSERT INTO bot_state (key, document, etag, updated_at) VALUES ($1, $2::jsonb, $3, now())
       ON CONFLICT (key) DO UPDATE SET document = EXCLUDED.document, etag = EXCLUDED.etag, updated_at = now()
       WHERE bot_state.etag = $4
       RETURNING etag`;
  return { sql, params: unconditional ? [key, document, etag] : [key, document, etag, String(eTag)] };
}

/** One key's compare-and-set against `eTag`; returns the new eTag or throws ETagConflictError. */
async function writeOne(target: DataSource | QueryRunner, key: string, item: StoreItem, eTag: unknown): Promise<string> {
  const { sql, params } = writePlan(key, item, eTag);
  const { rows } = await execute<{ etag: string }>(target, sql, params);
  if (rows.length === 0) throw new ETagConflictError(key);
  return params[2]!;
}

/**
 * The same compare-and-set, committed together with the release of the turn's conversation lock
 * (turnStateSession.ts); the ordinary write when the turn no longer holds that lock.
 */
async function writeReleasing(session: TurnStateSession, dataSource: DataSource, key: string, item: StoreItem, eTag: unknown): Promise<string> {
  const { sql, params } = writePlan(key, item, eTag);
  // $n → literal in one pass over the SQL: values put in are never scanned again.
  const pending = session.commitAndRelease((literal) => sql.replace(/\$(\d+)/g, (_, n: string) => literal(params[Number(n) - 1]!)));
  if (!pending) return writeOne(dataSource, key, item, eTag);
  const rows = await pending;
  if (rows.length === 0) throw new ETagConflictError(key);
  return params[2]!;
}
