/**
 * Database fixtures: every database test runs against both the embedded PGlite server and a real
 * PostgreSQL, each test suite on its own fresh database.
 *
 *   const targets = await databaseTargets();
 *   describe.each(targets)('$name', (target) => {
 *     let t: TestDatabase;
 *     beforeAll(async () => { t = await target.create(); });
 *     afterAll(() => t?.dispose());
 *     …
 *   });
 *
 * PostgreSQL: TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres) must reach
 * a server where that role may CREATE DATABASE. Each suite gets `rpa_test_<random>`, dropped at the
 * end, reached through a loopback TCP proxy so a test can cut it off. If the server is unreachable
 * the Postgres target is skipped (its describe shows as skipped), unless REQUIRE_POSTGRES=1, in
 * which case `databaseTargets()` throws and the suite fails.
 */
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { embeddedDataDir, openDatabase, type Database, type DatabaseConfig, type OpenDatabaseOptions } from '../../src/db/database.js';

export type TargetKind = 'pglite' | 'postgres';

export interface TestDatabase {
  kind: TargetKind;
  /** The configuration that opens this database (for reopening, or `migrate()`). */
  config: DatabaseConfig;
  /** The currently open handle (replaced by `reopen()`). */
  db: Database;
  /** Closes the current handle and opens the same database again (same PGlite directory / same Postgres database). */
  reopen(options?: OpenDatabaseOptions): Promise<Database>;
  /** Opens another handle on the same database; the caller closes it. Postgres only (one PGlite process per directory). */
  openAnother(options?: OpenDatabaseOptions): Promise<Database>;
  /** The database stops answering: new connections are refused and open ones are cut. */
  goAway(): Promise<void>;
  /** The database answers again on the same address. */
  comeBack(): Promise<void>;
  /** Closes everything and deletes the database. */
  dispose(): Promise<void>;
}

export interface DatabaseTarget {
  kind: TargetKind;
  /** Test-name label, e.g. "pglite" or "postgres (skipped: …)". */
  name: string;
  /** Why this target is skipped, or false. Use with `describe.skipIf(target.skip)`. */
  skip: string | false;
  /** A fresh, isolated database; migrated unless `{ migrate: false }`. */
  create(options?: OpenDatabaseOptions): Promise<TestDatabase>;
}

export const TEST_POSTGRES_URL = process.env.TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const REQUIRE_POSTGRES = process.env.REQUIRE_POSTGRES === '1' || process.env.REQUIRE_POSTGRES === 'true';

/** Both targets; the Postgres one carries a skip reason when the server is unreachable (see file doc). */
export async function databaseTargets(): Promise<DatabaseTarget[]> {
  const unreachable = await postgresUnreachable(TEST_POSTGRES_URL);
  if (unreachable && REQUIRE_POSTGRES) {
    throw new Error(`REQUIRE_POSTGRES=1 but PostgreSQL at ${redact(TEST_POSTGRES_URL)} is unreachable: ${unreachable}`);
  }
  const postgresSkip = unreachable ? `PostgreSQL unreachable at ${redact(TEST_POSTGRES_URL)}: ${unreachable}` : false;
  if (postgresSkip) console.warn(`[databases] skipping the PostgreSQL half of the database tests: ${postgresSkip}`);
  return [
    { kind: 'pglite', name: 'pglite', skip: false, create: createPgliteDatabase },
    {
      kind: 'postgres',
      name: postgresSkip ? `postgres (skipped: ${postgresSkip})` : 'postgres',
      skip: postgresSkip,
      create: createPostgresDatabase,
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// PGlite

/**
 * A new temporary DATA_DIR whose `pglite/` holds a freshly initialised (unmigrated) PGlite
 * database, copied from a per-machine template: initdb takes seconds, a copy well under one.
 */
export async function freshPgliteDataDir(): Promise<string> {
  const template = await pgliteTemplate();
  const dataDir = mkdtempSync(join(tmpdir(), 'rpa-test-data-'));
  cpSync(template, embeddedDataDir(dataDir), { recursive: true });
  return dataDir;
}

let templatePromise: Promise<string> | undefined;

function templateLocation(): string {
  const require = createRequire(import.meta.url);
  const pkgJson = join(dirname(require.resolve('@electric-sql/pglite')), '..', 'package.json');
  const version = (JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string }).version;
  return join(tmpdir(), `rpa-pglite-template-${version}`);
}

/** Builds the template once per machine (atomically: build aside, then rename into place). */
export function pgliteTemplate(): Promise<string> {
  templatePromise ??= (async () => {
    const path = templateLocation();
    if (!existsSync(join(path, 'PG_VERSION'))) {
      const building = `${path}.building-${process.pid}-${randomBytes(4).toString('hex')}`;
      const db = await PGlite.create(building);
      await db.close();
      try {
        renameSync(building, path);
      } catch {
        rmSync(building, { recursive: true, force: true }); // another process won the race
      }
    }
    return path;
  })();
  return templatePromise;
}

async function createPgliteDatabase(options: OpenDatabaseOptions = {}): Promise<TestDatabase> {
  const dataDir = await freshPgliteDataDir();
  const config: DatabaseConfig = { mode: 'embedded', dataDir };
  let db: Database;
  try {
    db = await openDatabase(config, options);
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const embedded = () => {
    if (!db.embedded) throw new Error('not an embedded database');
    return db.embedded;
  };
  return {
    kind: 'pglite',
    config,
    get db() {
      return db;
    },
    async reopen(reopenOptions = options) {
      await db.close();
      db = await openDatabase(config, reopenOptions);
      return db;
    },
    openAnother() {
      return Promise.reject(new Error('PGlite serves one process per directory; use reopen()'));
    },
    goAway: () => embedded().stopServer(),
    comeBack: () => embedded().startServer(),
    async dispose() {
      await db.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

async function postgresUnreachable(url: string): Promise<string | false> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return false;
  } catch (err) {
    return err instanceof Error ? err.message || err.name : String(err);
  } finally {
    await client.end().catch(() => {});
  }
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

async function terminateBackends(database: string): Promise<void> {
  await admin((c) =>
    c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [
      database,
    ]),
  );
}

async function createPostgresDatabase(options: OpenDatabaseOptions = {}): Promise<TestDatabase> {
  const name = `rpa_test_${randomBytes(6).toString('hex')}`;
  // The name is generated above from hex digits only: safe to interpolate as an identifier.
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const upstream = new URL(TEST_POSTGRES_URL);
  const proxy = new TcpProxy(upstream.hostname, Number(upstream.port || 5432));
  const dropDatabase = () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  let db: Database;
  let config: DatabaseConfig;
  try {
    const port = await proxy.start();
    const url = new URL(TEST_POSTGRES_URL);
    url.hostname = '127.0.0.1';
    url.port = String(port);
    url.pathname = `/${name}`;
    config = { mode: 'postgres', url: url.toString() };
    db = await openDatabase(config, options);
  } catch (err) {
    await proxy.stop();
    await dropDatabase().catch(() => {});
    throw err;
  }
  const others = new Set<Database>();
  return {
    kind: 'postgres',
    config,
    get db() {
      return db;
    },
    async reopen(reopenOptions = options) {
      await db.close();
      db = await openDatabase(config, reopenOptions);
      return db;
    },
    async openAnother(anotherOptions = options) {
      const other = await openDatabase(config, anotherOptions);
      others.add(other);
      return other;
    },
    async goAway() {
      await proxy.stop();
      await terminateBackends(name);
    },
    async comeBack() {
      await proxy.start();
    },
    async dispose() {
      await Promise.allSettled([db.close(), ...[...others].map((o) => o.close())]);
      await proxy.stop();
      await dropDatabase();
    },
  };
}

/**
 * Loopback TCP forwarder. `stop()` stops listening and cuts every forwarded connection;
 * `start()` listens again on the same port, so clients' connection strings stay valid.
 */
export class TcpProxy {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<number> {
    if (this.server) return this.port;
    const server = net.createServer((client) => this.forward(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
    return this.port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private forward(client: net.Socket): void {
    const upstream = net.connect(this.targetPort, this.targetHost);
    this.sockets.add(client);
    this.sockets.add(upstream);
    const cut = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('error', cut).on('close', cut);
    upstream.on('error', cut).on('close', cut);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

/** Polls `predicate` every 10 ms until it is true, or throws after `timeoutMs`. */
export async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
