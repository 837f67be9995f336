import { randomUUID } from 'node:crypto';
import type { Storage, StoreItem, StoreItems } from 'botbuilder';
import type { DataSource, QueryRunner } from 'typeorm';
import { execute } from '../../db/sql.js';
import { storableJson } from '../../db/text.js';

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
 * Items are stored as jsonb after a JSON round trip, like MemoryStorage (Dates become strings,
 * undefined properties vanish). Strings are cleaned for Postgres: NUL characters are removed and
 * lone surrogates replaced, since jsonb rejects both.
 */
export class PostgresStorage implements Storage {
  constructor(private readonly dataSource: DataSource) {}

  async read(keys: string[]): Promise<StoreItems> {
    if (!keys) throw new ReferenceError('Keys are required when reading.');
    const items: StoreItems = {};
    if (keys.length === 0) return items;
    const { rows } = await execute<{ key: string; document: Record<string, unknown>; etag: string }>(
      this.dataSource,
      'SELECT key, document, etag FROM bot_state WHERE key = ANY($1::text[])',
      [keys],
    );
    for (const row of rows) items[row.key] = { ...row.document, eTag: row.etag };
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
      return { [key]: await writeOne(this.dataSource, key, item) };
    }
    const runner = this.dataSource.createQueryRunner();
    try {
      await runner.startTransaction();
      const etags: Record<string, string> = {};
      for (const [key, item] of entries) etags[key] = await writeOne(runner, key, item);
      await runner.commitTransaction();
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
}

/** One key's compare-and-set; returns the new eTag or throws ETagConflictError. */
async function writeOne(target: DataSource | QueryRunner, key: string, item: StoreItem): Promise<string> {
  if (item === null || typeof item !== 'object') throw new TypeError(`Storage: item "${key}" is not an object`);
  const { eTag, ...rest } = item as StoreItem & { eTag?: unknown };
  const document = JSON.stringify(rest, storableJson);
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
  const params = unconditional ? [key, document, etag] : [key, document, etag, String(eTag)];
  const { rows } = await execute<{ etag: string }>(target, sql, params);
  if (rows.length === 0) throw new ETagConflictError(key);
  return etag;
}
