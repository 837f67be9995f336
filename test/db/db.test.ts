import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrations } from '../../migrations/index.js';
import { openDatabase } from '../../src/db/database.js';
import { isConnectionError, isTransientDbError } from '../../src/db/errors.js';
import { migrate, runMigrations } from '../../src/db/migrate.js';
import { execute } from '../../src/db/sql.js';
import { databaseTargets, type TestDatabase } from '../helpers/databases.js';

const targets = await databaseTargets();
const migrationNames = migrations.map((M) => new M().name);

async function tableNames(t: TestDatabase): Promise<string[]> {
  const { rows } = await execute<{ table_name: string }>(
    t.db.dataSource,
    `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name`,
  );
  return rows.map((r) => r.table_name);
}

async function appliedMigrations(t: TestDatabase): Promise<string[]> {
  const { rows } = await execute<{ name: string }>(t.db.dataSource, 'SELECT name FROM migrations ORDER BY id');
  return rows.map((r) => r.name);
}

describe('database error classification (no database needed)', () => {
  const server = (code: string) => Object.assign(new Error(`server error ${code}`), { code });
  const wrapped = (err: unknown) => Object.assign(new Error('QueryFailedError'), { driverError: err });

  it('treats network failures and connection-class SQLSTATEs as connection errors', () => {
    expect(isConnectionError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isConnectionError(wrapped(new Error('Connection terminated unexpectedly')))).toBe(true);
    expect(isConnectionError(wrapped(server('08006')))).toBe(true);
    expect(isConnectionError(wrapped(server('57P01')))).toBe(true);
    expect(isConnectionError(wrapped(server('23505')))).toBe(false);
  });

  it('treats server-state SQLSTATEs as transient and data errors as not', () => {
    for (const code of ['25006', '40001', '53300', '57014', '42P01']) expect(isTransientDbError(wrapped(server(code)))).toBe(true);
    for (const code of ['22P05', '22007', '23505', '23514', '54000', '42601', 'XX000']) {
      expect(isTransientDbError(wrapped(server(code)))).toBe(false);
    }
    expect(isTransientDbError(new TypeError('Do not know how to serialize a BigInt'))).toBe(false);
  });
});

describe.each(targets)('database on $name', (target) => {
  describe.skipIf(target.skip)('migrations', () => {
    let t: TestDatabase;
    beforeAll(async () => {
      t = await target.create({ migrate: false });
    });
    afterAll(() => t?.dispose());

    it('an unmigrated database has none of our tables', async () => {
      expect(await tableNames(t)).toEqual([]);
    });

    it('applies every migration once, creating the tables and the started_at index', async () => {
      expect(await runMigrations(t.db.dataSource)).toEqual(migrationNames);
      expect(await tableNames(t)).toEqual(expect.arrayContaining(['bot_state', 'migrations', 'turn_traces']));
      const { rows: indexes } = await execute<{ indexdef: string }>(
        t.db.dataSource,
        `SELECT indexdef FROM pg_indexes WHERE tablename = 'turn_traces'`,
      );
      expect(indexes.map((i) => i.indexdef).join('\n')).toMatch(/turn_traces_started_at_idx .*\(started_at\)/);
      const { rows: columns } = await execute<{ column_name: string; data_type: string }>(
        t.db.dataSource,
        `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'turn_traces'`,
      );
      const types = Object.fromEntries(columns.map((c) => [c.column_name, c.data_type]));
      expect(types).toMatchObject({
        started_at: 'timestamp with time zone',
        total_ms: 'double precision',
        stages: 'jsonb',
        attributes: 'jsonb',
      });
    });

    it('a second run is a no-op', async () => {
      expect(await runMigrations(t.db.dataSource)).toEqual([]);
      expect(await appliedMigrations(t)).toEqual(migrationNames);
    });

    it('migrate() (the db:migrate CLI) opens, finds nothing to do, and closes', async () => {
      await t.db.close(); // an embedded directory can only be open once
      expect(await migrate(t.config)).toEqual([]);
      await t.reopen();
      expect(await appliedMigrations(t)).toEqual(migrationNames);
    });
  });

  describe.skipIf(target.skip)('migrate() on a fresh database', () => {
    let t: TestDatabase;
    beforeAll(async () => {
      t = await target.create({ migrate: false });
      await t.db.close();
    });
    afterAll(() => t?.dispose());

    it('applies all migrations and reports their names', async () => {
      expect(await migrate(t.config)).toEqual(migrationNames);
      await t.reopen({ migrate: false });
      expect(await appliedMigrations(t)).toEqual(migrationNames);
    });
  });

  describe.skipIf(target.skip)('connection', () => {
    let t: TestDatabase;
    beforeAll(async () => {
      t = await target.create();
    });
    afterAll(() => t?.dispose());

    it('reports its mode and a url', () => {
      expect(t.db.mode).toBe(target.kind === 'pglite' ? 'embedded' : 'postgres');
      expect(t.db.url).toMatch(/^postgres:\/\/.*@127\.0\.0\.1:\d+\//);
    });

    it('ping follows the database going away and coming back; the pool reconnects', async () => {
      expect(await t.db.ping()).toBe(true);
      await t.goAway();
      expect(await t.db.ping(1_000)).toBe(false);
      let failure: unknown;
      await execute(t.db.dataSource, 'SELECT 1').catch((err: unknown) => (failure = err));
      expect(isConnectionError(failure)).toBe(true);
      expect(isTransientDbError(failure)).toBe(true);
      await t.comeBack();
      expect(await t.db.ping()).toBe(true);
      const { rows } = await execute<{ n: number }>(t.db.dataSource, 'SELECT 41 + 1 AS n');
      expect(rows).toEqual([{ n: 42 }]);
    });

    it('classifies data errors as not transient', async () => {
      let failure: unknown;
      await execute(t.db.dataSource, 'SELECT $1::jsonb', ['{"a":"\\u0000"}']).catch((err: unknown) => (failure = err));
      expect(failure).toBeDefined();
      expect(isTransientDbError(failure)).toBe(false);
    });

    it('close() is idempotent and ping() is false afterwards', async () => {
      const db = await t.reopen();
      await Promise.all([db.close(), db.close()]);
      expect(await db.ping()).toBe(false);
      await t.reopen();
      expect(await t.db.ping()).toBe(true);
    });
  });

  if (target.kind === 'pglite') {
    describe('embedded only', () => {
      let t: TestDatabase;
      beforeAll(async () => {
        t = await target.create();
      });
      afterAll(() => t?.dispose());

      it('refuses to open a data directory that is already open', async () => {
        await expect(openDatabase(t.config)).rejects.toThrow(/already open|in use/);
        // …and the refusal did not disturb the open one.
        expect(await t.db.ping()).toBe(true);
      });

      it('uses a single-connection pool', () => {
        const options = t.db.dataSource.options as { poolSize?: number };
        expect(options.poolSize).toBe(1);
      });
    });
  }

  if (target.kind === 'postgres') {
    describe.skipIf(target.skip)('postgres only', () => {
      let t: TestDatabase;
      beforeAll(async () => {
        t = await target.create({ migrate: false });
      });
      afterAll(() => t?.dispose());

      it('instances starting at once migrate exactly once (advisory lock)', async () => {
        const opened = await Promise.all([t.openAnother({ migrate: true }), t.openAnother({ migrate: true }), t.openAnother({ migrate: true })]);
        expect(opened).toHaveLength(3);
        expect(await appliedMigrations(t)).toEqual(migrationNames);
      });
    });
  }
});
