/**
 * `npm run db:seed`: loads the demo suppliers, products, warehouses (bins, stock), purchase orders,
 * shipments and a declaration into the configured database (DATABASE_URL or embedded), after
 * applying pending migrations. Idempotent: a second run adds nothing. With the embedded database
 * the server must not be running (one process per PGlite directory); it also seeds itself on start.
 */
import { ConfigError, loadConfig } from '../config/config.js';
import { openDatabase } from '../db/database.js';
import { createLogger } from '../logger.js';
import { seedDemoData } from '../skills/data/seed.js';

try {
  const config = loadConfig();
  const db = await openDatabase(config.database, { logger: createLogger(config.logLevel) });
  try {
    const report = await seedDemoData(db.dataSource);
    const added = Object.entries(report).filter(([, n]) => n > 0);
    process.stdout.write(
      added.length ? `Demo data loaded: ${added.map(([k, n]) => `${n} ${k}`).join(', ')}.\n` : 'Demo data already present; nothing to add.\n',
    );
  } finally {
    await db.close();
  }
} catch (err) {
  process.stderr.write(`${err instanceof ConfigError ? err.message : `Seeding failed: ${(err as Error).message}`}\n`);
  process.exit(1);
}
