import pg from 'pg';
import type { DataSource } from 'typeorm';
import { openDatabase, type DatabaseConfig } from './database.js';
import { silentLog, type Log } from './log.js';

/** Any constant works; it only has to be the same in every instance of this app. */
const MIGRATION_LOCK_KEY = 727_318_001;

export interface RunMigrationsOptions {
  logger?: Log;
  /**
   * Serialise concurrent migrators (several server instances starting at once) with a Postgres
   * advisory lock held on a separate connection to this URL. Omit for the embedded database,
   * which only one process can open anyway.
   */
  lockUrl?: string;
}

/**
 * Applies pending migrations in one transaction and returns the names applied ([] when the schema
 * is current, so a second run is a no-op).
 */
export async function runMigrations(dataSource: DataSource, options: RunMigrationsOptions = {}): Promise<string[]> {
  const log = options.logger ?? silentLog;
  const lock = options.lockUrl ? new pg.Client({ connectionString: options.lockUrl }) : undefined;
  if (lock) {
    await lock.connect();
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
  }
  try {
    const applied = await dataSource.runMigrations({ transaction: 'all' });
    const names = applied.map((m) => m.name);
    if (names.length > 0) log.info({ migrations: names }, 'database migrations applied');
    else log.debug({}, 'database schema is current');
    return names;
  } finally {
    // Ending the session releases the advisory lock even if the unlock query fails.
    await lock?.end().catch(() => {});
  }
}

/**
 * What `npm run db:migrate` runs: opens the configured database without migrating, applies the
 * pending migrations, closes it, and returns their names. For the embedded database, the server
 * must not be running (one process per PGlite directory; the lock file enforces it).
 */
export async function migrate(config: DatabaseConfig, options: { logger?: Log } = {}): Promise<string[]> {
  const db = await openDatabase(config, { logger: options.logger, migrate: false });
  try {
    return await runMigrations(db.dataSource, {
      logger: options.logger,
      lockUrl: db.mode === 'postgres' ? db.sessionUrl : undefined,
    });
  } finally {
    await db.close();
  }
}
