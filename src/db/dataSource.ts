import pg from 'pg';
import { DataSource, type Logger as TypeOrmLogger } from 'typeorm';
import { migrations } from '../../migrations/index.js';
import type { Log } from './log.js';

export interface DataSourceOptions {
  /** Connections in the pool. The embedded database must use exactly 1 (see EmbeddedPostgres). */
  poolSize: number;
  logger: Log;
  /** Give up connecting after this long (ms). Default 5000. */
  connectTimeoutMs?: number;
}

/**
 * A TypeORM DataSource on node-postgres for the given URL. No entities: the app talks SQL through
 * the DataSource's query runners; TypeORM provides pooling, transactions and the migrations.
 * Migrations are not run here (see runMigrations).
 */
export function createDataSource(url: string, options: DataSourceOptions): DataSource {
  const log = options.logger;
  return new DataSource({
    type: 'postgres',
    url,
    // Pass the module instead of letting TypeORM require() it (and probe for pg-native).
    driver: pg,
    poolSize: options.poolSize,
    connectTimeoutMS: options.connectTimeoutMs ?? 5_000,
    applicationName: 'rpa-assistant',
    extra: { idleTimeoutMillis: 30_000, keepAlive: true },
    // An idle pooled connection that dies (database restarted, network cut) emits 'error' on the
    // pool; unhandled, that would crash the process. The pool replaces the connection on next use.
    poolErrorHandler: (err: unknown) => log.warn({ err }, 'database connection lost'),
    installExtensions: false,
    synchronize: false,
    migrationsRun: false,
    migrations,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'all',
    logging: ['error', 'warn', 'migration'],
    logger: new TypeOrmLogAdapter(log),
  });
}

/** Routes TypeORM's own log lines to our logger. Query errors go to debug: callers handle them. */
class TypeOrmLogAdapter implements TypeOrmLogger {
  constructor(private readonly out: Log) {}
  logQuery(): void {}
  logQueryError(error: string | Error, query: string): void {
    this.out.debug({ err: error, query }, 'query failed');
  }
  logQuerySlow(time: number, query: string): void {
    this.out.warn({ ms: time, query }, 'slow query');
  }
  logSchemaBuild(message: string): void {
    this.out.debug({ message }, 'schema');
  }
  logMigration(message: string): void {
    this.out.info({ message }, 'migration');
  }
  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') this.out.warn({ message }, 'typeorm');
    else this.out.debug({ message }, 'typeorm');
  }
}
