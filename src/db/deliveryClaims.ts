import type { DataSource } from 'typeorm';
import { execute } from './sql.js';

/**
 * At-most-once processing of re-delivered inbound messages (Slack events, Teams activities), in a
 * Postgres table, so it holds across restarts and replicas. The table has the key columns plus
 * `status` ('processing' | 'done' | 'failed'), `attempts`, `claimed_at`, `finished_at`,
 * `expires_at` and `error` (migrations SlackEvents and Teams).
 *
 * The first delivery *claims* its key in one atomic statement; a re-delivery finds it claimed and
 * is acknowledged without being processed — unless the first processing failed, or was abandoned
 * (still `processing` after the lease: the process died), in which case it is claimed again and
 * processed. Rows expire after the TTL and are deleted in passing.
 */
export interface DeliveryClaimsOptions {
  /** How long a key is remembered. */
  ttlMs: number;
  /** A claim older than this that never finished counts as abandoned. */
  leaseMs: number;
  /** Expired rows are deleted at most this often (default 10 min). */
  pruneEveryMs?: number;
}

export interface DeliveryClaimsTable {
  /** Table name (a constant of the caller, never user input). */
  table: string;
  /** The primary key's columns, in the order `key` values are given. */
  keyColumns: readonly string[];
  /** Informational columns written on the first claim only, in the order `extra` values are given. */
  extraColumns?: readonly string[];
}

export class DeliveryClaims {
  private readonly pruneEveryMs: number;
  private lastPrune = 0;
  private readonly claimSql: string;
  private readonly where: string;

  constructor(
    private readonly db: DataSource,
    private readonly spec: DeliveryClaimsTable,
    private readonly options: DeliveryClaimsOptions,
  ) {
    this.pruneEveryMs = options.pruneEveryMs ?? 10 * 60_000;
    const { table, keyColumns } = spec;
    const extra = spec.extraColumns ?? [];
    const columns = [...keyColumns, ...extra];
    const n = columns.length;
    const values = columns.map((_, i) => `$${i + 1}`).join(', ');
    this.claimSql = `INSERT INTO ${table} (${columns.join(', ')}, status, attempts, claimed_at, expires_at)
       VALUES (${values}, 'processing', 1, now(), now() + $${n + 1} * interval '1 millisecond')
       ON CONFLICT (${keyColumns.join(', ')}) DO UPDATE
         SET status = 'processing', attempts = ${table}.attempts + 1, claimed_at = now(),
             finished_at = NULL, expires_at = EXCLUDED.expires_at
       WHERE ${table}.status = 'failed'
          OR ${table}.expires_at < now()
          OR (${table}.status = 'processing' AND ${table}.claimed_at < now() - $${n + 2} * interval '1 millisecond')
       RETURNING attempts`;
    this.where = keyColumns.map((c, i) => `${c} = $${i + 1}`).join(' AND ');
  }

  /** The attempt number when this delivery should be processed, else undefined (already claimed). */
  async claim(key: readonly string[], extra: readonly (string | null)[] = []): Promise<number | undefined> {
    const { rows } = await execute<{ attempts: number }>(this.db, this.claimSql, [
      ...key,
      ...(this.spec.extraColumns ?? []).map((_, i) => extra[i] ?? null),
      this.options.ttlMs,
      this.options.leaseMs,
    ]);
    this.maybePrune();
    const row = rows[0];
    return row ? Number(row.attempts) : undefined;
  }

  async complete(key: readonly string[]): Promise<void> {
    await execute(this.db, `UPDATE ${this.spec.table} SET status = 'done', finished_at = now(), error = NULL WHERE ${this.where}`, [...key]);
  }

  async fail(key: readonly string[], error: string): Promise<void> {
    const n = this.spec.keyColumns.length;
    await execute(this.db, `UPDATE ${this.spec.table} SET status = 'failed', finished_at = now(), error = $${n + 1} WHERE ${this.where}`, [
      ...key,
      error.slice(0, 1000),
    ]);
  }

  /** Deletes expired rows; returns how many. */
  async prune(): Promise<number> {
    this.lastPrune = Date.now();
    const { rowCount } = await execute(this.db, `DELETE FROM ${this.spec.table} WHERE expires_at < now()`);
    return rowCount;
  }

  private maybePrune(): void {
    if (Date.now() - this.lastPrune < this.pruneEveryMs) return;
    this.lastPrune = Date.now();
    this.prune().catch(() => undefined); // best effort; expired rows are ignored by claim anyway
  }
}
