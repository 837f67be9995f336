/** `npm run db:migrate`: applies pending migrations to the configured database (DATABASE_URL or embedded). */
import { ConfigError, loadConfig } from '../config/config.js';
import { createLogger } from '../logger.js';
import { migrate } from '../db/migrate.js';

try {
  const config = loadConfig();
  const applied = await migrate(config.database, { logger: createLogger(config.logLevel) });
  process.stdout.write(applied.length ? `Applied: ${applied.join(', ')}\n` : 'Database is up to date.\n');
} catch (err) {
  process.stderr.write(`${err instanceof ConfigError ? err.message : `Migration failed: ${(err as Error).message}`}\n`);
  process.exit(1);
}
