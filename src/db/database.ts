import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import type { AppConfig } from '../config/config.js';
import { createDataSource } from './dataSource.js';
import { EmbeddedPostgres } from './embedded.js';
import { silentLog, type Log } from './log.js';
import { runMigrations } from './migrate.js';
import { DatabaseStartError } from './startupError.js';

export type DatabaseConfig = AppConfig['database'];

export interface OpenDatabaseOptions {
  logger?: Log;
  /** Apply pending migrations before resolving. Default true. */
  migrate?: boolean;
  /** Pool size for an external PostgreSQL (DATABASE_URL). Default 10. Embedded is always 1. */
  poolSize?: number;
  /** Give up connecting after this long (ms). Default 5000. */
  connectTimeoutMs?: number;
}

export interface Database {
  readonly dataSource: DataSource;
  readonly mode: 'embedded' | 'postgres';
  /** Connection string the pool uses (may contain a password: log `displayUrl` instead). */
  readonly url: string;
  /**
   * Connection string for session-bound connections (advisory turn locks, LISTEN, the migration
   * lock): DATABASE_SESSION_URL when the pool's `url` is a transaction-mode pooler, else `url`.
   */
  readonly sessionUrl: string;
  /** `url` with any password replaced by `***`. */
  readonly displayUrl: string;
  /** The in-process server, in embedded mode (tests use it to take the database away). */
  readonly embedded?: EmbeddedPostgres;
  /** True when `SELECT 1` answers within `timeoutMs` (default 2000). Never throws. */
  ping(timeoutMs?: number): Promise<boolean>;
  /** Closes the pool, then (embedded) the socket server and PGlite. Idempotent. */
  close(): Promise<void>;
}

/** Where the embedded database lives inside the app's data directory (DATA_DIR). */
export function embeddedDataDir(dataDir: string): string {
  return join(dataDir, 'pglite');
}

/**
 * Opens the configured database and (by default) applies pending migrations.
 * - `postgres`: a normal pool on DATABASE_URL (PostgreSQL ≥ 15).
 * - `embedded`: PGlite persisted in `<dataDir>/pglite`, served on 127.0.0.1:<free port> in this
 *   process, reached through the same pg driver with a pool of exactly one connection.
 * Whoever opens must call `close()` on shutdown (a killed PGlite can corrupt its WAL).
 */
export async function openDatabase(config: DatabaseConfig, options: OpenDatabaseOptions = {}): Promise<Database> {
  const log = options.logger ?? silentLog;
  let embedded: EmbeddedPostgres | undefined;
  let url: string;
  let poolSize: number;
  let sessionUrl: string;
  if (config.mode === 'embedded') {
    embedded = new EmbeddedPostgres({ dataDir: embeddedDataDir(config.dataDir), logger: log });
    await embedded.start();
    url = embedded.url;
    poolSize = 1;
    sessionUrl = url;
  } else {
    url = config.url;
    poolSize = options.poolSize ?? 10;
    sessionUrl = config.sessionUrl ?? url;
  }

  const dataSource = createDataSource(url, { poolSize, logger: log, connectTimeoutMs: options.connectTimeoutMs });
  try {
    // A server that is not there (or a database that is not) is the operator's to fix: one clear line.
    await dataSource.initialize().catch((err: unknown) => {
      throw config.mode === 'postgres' ? new DatabaseStartError(redactUrl(url), err) : err;
    });
    if (options.migrate ?? true) {
      await runMigrations(dataSource, { logger: log, lockUrl: config.mode === 'postgres' ? sessionUrl : undefined });
    }
  } catch (err) {
    if (dataSource.isInitialized) await dataSource.destroy().catch(() => {});
    await embedded?.stop().catch(() => {});
    throw err;
  }

  const displayUrl = redactUrl(url);
  log.info({ mode: config.mode, url: displayUrl }, 'database open');

  let closing: Promise<void> | undefined;
  return {
    dataSource,
    mode: config.mode,
    url,
    sessionUrl,
    displayUrl,
    embedded,
    ping: (timeoutMs = 2_000) => ping(dataSource, timeoutMs),
    close: () => {
      closing ??= (async () => {
        try {
          if (dataSource.isInitialized) await dataSource.destroy();
        } finally {
          await embedded?.stop();
        }
        log.info({ mode: config.mode }, 'database closed');
      })();
      return closing;
    },
  };
}

async function ping(dataSource: DataSource, timeoutMs: number): Promise<boolean> {
  if (!dataSource.isInitialized) return false;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const query = dataSource.query('SELECT 1').then(
    () => true,
    () => false,
  );
  try {
    return await Promise.race([query, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable database url)';
  }
}
