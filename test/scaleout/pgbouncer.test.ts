/**
 * PgBouncer (Debian's, started here as a child process from a temporary config) in TRANSACTION
 * mode in front of the test PostgreSQL: what works through it, what breaks, and the documented
 * setup — pooled traffic through PgBouncer, the session-bound connections on DATABASE_SESSION_URL.
 *
 * Found (PgBouncer 1.18, PostgreSQL 15), each shown below on the real code:
 * - a session-level advisory lock does not exclude: consecutive statements of different clients
 *   run on the same server session, which already holds the lock (the per-conversation turn lock
 *   lets two turns of one conversation in at once);
 * - a lock taken through the pooler outlives its client: the client disconnects, the server
 *   session goes back to the pool still holding it (the migration lock: the next process's
 *   migrator waits for it forever, or re-enters it on the same session);
 * - LISTEN hears nothing: the notification reaches the server session while it is back in the
 *   pool, and PgBouncer drops it ("got packet 'A' from server when not linked");
 * - everything else works: pg-boss send/fetch/complete, transactions, transaction-scoped advisory
 *   locks (pg-boss, trace maintenance), NOTIFY sent inside a transaction.
 * With DATABASE_SESSION_URL pointing at PostgreSQL itself: turns serialised, jobs run, wake-ups
 * arrive, migrations lock and unlock.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../../src/app.js';
import { PostgresConversationLock, TurnLockTimeoutError } from '../../src/bot/state/conversationLock.js';
import { ConnectorReceiver } from '../../src/chat/connectorReceiver.js';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { createDataSource } from '../../src/db/dataSource.js';
import { silentLog } from '../../src/db/log.js';
import { runMigrations } from '../../src/db/migrate.js';
import { sessionClientConfig } from '../../src/db/session.js';
import { NOTIFY_SQL, WakeupListener } from '../../src/jobs/wakeups.js';
import { allText, ChatUser } from '../helpers/chatUser.js';
import { databaseTargets, TEST_POSTGRES_URL, type TestDatabase } from '../helpers/databases.js';
import { startProcurementApp } from '../helpers/procurementFixture.js';
import { freePort } from '../../bench/lib/serverChild.js';

const postgres = (await databaseTargets()).find((t) => t.kind === 'postgres')!;
/** src/db/migrate.ts MIGRATION_LOCK_KEY (not exported: one constant every instance agrees on). */
const MIGRATION_LOCK_KEY = 727_318_001;

interface PgBouncer {
  /** A database alias: `one` has ONE server connection (deterministic sharing), `app` four. */
  url(alias: 'one' | 'app'): string;
  /** What PgBouncer logged so far. */
  log(): string;
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** SHOW CLIENTS on the admin console: application_name of every client connected now. */
  clients(): Promise<string[]>;
  stop(): Promise<void>;
}

/** Debian's pgbouncer on a free port, transaction pooling, trust auth, in front of `serverUrl`'s server and `database`. */
async function startPgBouncer(serverUrl: string, database: string): Promise<PgBouncer> {
  if (spawnSync('pgbouncer', ['--version']).status !== 0) throw new Error('pgbouncer not found: apt-get install pgbouncer (.ci/run installs it)');
  const server = new URL(serverUrl);
  const user = decodeURIComponent(server.username || 'postgres');
  const password = decodeURIComponent(server.password);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'rpa-pgbouncer-'));
  // PgBouncer refuses to run as root; as root it switches to `user`, which must read this directory.
  chmodSync(dir, 0o755);
  const target = `host=${server.hostname} port=${server.port || 5432} dbname=${database}${password ? ` password=${password}` : ''}`;
  writeFileSync(join(dir, 'users.txt'), `"${user}" "${password}"\n`, { mode: 0o644 });
  writeFileSync(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `one = ${target} pool_size=1`,
      `app = ${target} pool_size=4`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${join(dir, 'users.txt')}`,
      'pool_mode = transaction',
      'max_client_conn = 500',
      `admin_users = ${user}`,
      ...(process.getuid?.() === 0 ? ['user = postgres'] : []),
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  const child: ChildProcess = spawn('pgbouncer', [join(dir, 'pgbouncer.ini')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const credentials = `${encodeURIComponent(user)}${password ? `:${encodeURIComponent(password)}` : ''}`;
  const url = (alias: string) => `postgres://${credentials}@127.0.0.1:${port}/${alias}`;
  const waitForLog = async (pattern: RegExp, timeoutMs = 20_000) => {
    for (const deadline = Date.now() + timeoutMs; !pattern.test(output); ) {
      if (Date.now() > deadline) throw new Error(`pgbouncer never logged ${pattern}: ${output.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await waitForLog(/process up/);
  return {
    url,
    log: () => output,
    waitForLog,
    clients: async () => {
      const admin = new pg.Client({ connectionString: url('pgbouncer') });
      await admin.connect();
      try {
        // The admin console speaks the simple protocol only: no parameters.
        const { rows } = await admin.query<{ application_name: string; database: string }>({ text: 'SHOW CLIENTS', queryMode: 'simple' } as pg.QueryConfig);
        return rows.filter((r) => r.database !== 'pgbouncer').map((r) => r.application_name);
      } finally {
        await admin.end();
      }
    },
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}

const tryLock = async (c: pg.Client, key: number) => (await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [key])).rows[0]!.ok;

describe('DATABASE_SESSION_URL', () => {
  it('sets where the session-bound connections go; unset, they go to DATABASE_URL; alone it is refused', () => {
    const pooled = 'postgres://app@pgbouncer:6432/rpa';
    const session = 'postgres://app@db:5432/rpa';
    expect(loadConfig({ DATABASE_URL: pooled, DATABASE_SESSION_URL: session }).database).toEqual({ mode: 'postgres', url: pooled, sessionUrl: session });
    expect(loadConfig({ DATABASE_URL: pooled }).database).toEqual({ mode: 'postgres', url: pooled });
    expect(() => loadConfig({ DATABASE_SESSION_URL: session, DATA_DIR: '/tmp/unused' })).toThrow(ConfigError);
    // The pool's other settings stay; only where it connects changes.
    expect(sessionClientConfig({ connectionString: pooled, keepAlive: true }, session)).toEqual({ connectionString: session, keepAlive: true });
    expect(sessionClientConfig({ connectionString: pooled }, undefined)).toEqual({ connectionString: pooled });
  });
});

describe.skipIf(postgres.skip)('PgBouncer in transaction mode', () => {
  let db: TestDatabase | undefined;
  let bouncer: PgBouncer | undefined;
  /** The test database on PostgreSQL itself (what DATABASE_SESSION_URL points at). */
  let direct: string;
  const closers: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    db = await postgres.create();
    direct = db.config.mode === 'postgres' ? db.config.url : '';
    bouncer = await startPgBouncer(TEST_POSTGRES_URL, new URL(direct).pathname.slice(1));
  }, 60_000);

  afterAll(async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await bouncer?.stop();
    await db?.dispose();
  }, 30_000);

  describe('through the pooler alone', () => {
    it('a session advisory lock does not exclude: a second client gets the same lock', async () => {
      const [a, b] = [await connect(bouncer!.url('one')), await connect(bouncer!.url('one'))];
      const [c, d] = [await connect(direct), await connect(direct)];
      closers.push(() => a.end(), () => b.end(), () => c.end(), () => d.end());
      expect(await tryLock(a, 11)).toBe(true);
      expect(await tryLock(b, 11)).toBe(true); // PostgreSQL itself says false (below)
      expect(await tryLock(c, 12)).toBe(true);
      expect(await tryLock(d, 12)).toBe(false);
      await a.query('SELECT pg_advisory_unlock_all()');
    });

    it('the turn lock lets two turns of one conversation in at once; on the session URL the second waits', async () => {
      const overlap = async (url: string) => {
        // Two processes' locks: A holds the conversation while B asks for it (B gives up after 300 ms).
        const [lockA, lockB] = [new PostgresConversationLock({ url, timeoutMs: 10_000 }), new PostgresConversationLock({ url, timeoutMs: 300 })];
        try {
          let release!: () => void;
          const held = new Promise<void>((r) => (release = r));
          let entered!: () => void;
          const inA = new Promise<void>((r) => (entered = r));
          const turnA = lockA.run('conversation-1', async () => {
            entered();
            await held;
          });
          await inA;
          const turnB = await lockB.run('conversation-1', async () => 'ran').catch((err: unknown) => err);
          release();
          await turnA;
          return turnB;
        } finally {
          await lockA.close();
          await lockB.close();
        }
      };
      expect(await overlap(bouncer!.url('one'))).toBe('ran');
      expect(await overlap(direct)).toBeInstanceOf(TurnLockTimeoutError);
    });

    it('the migration lock outlives its client; on the session URL it is released', async () => {
      const dataSource: DataSource = createDataSource(bouncer!.url('app'), { poolSize: 2, logger: silentLog });
      await dataSource.initialize();
      closers.push(() => dataSource.destroy());
      const check = await connect(direct);
      closers.push(() => check.end());
      const holders = async () =>
        (
          await check.query<{ pid: number }>(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            [MIGRATION_LOCK_KEY],
          )
        ).rows.map((r) => r.pid);

      expect(await runMigrations(dataSource, { lockUrl: bouncer!.url('one') })).toEqual([]); // schema current: only lock + unlock
      const leaked = await holders();
      expect(leaked).toHaveLength(1); // a pooled server session still holds it
      expect(await tryLock(check, MIGRATION_LOCK_KEY)).toBe(false); // the next migrator would wait forever
      await check.query('SELECT pg_terminate_backend($1)', [leaked[0]]);
      for (let i = 0; i < 100 && (await holders()).length > 0; i++) await new Promise((r) => setTimeout(r, 50));

      expect(await runMigrations(dataSource, { lockUrl: direct })).toEqual([]);
      // Released when the lock session ends (the test database is behind a loopback proxy: a moment later).
      for (let i = 0; i < 100 && (await holders()).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(await holders()).toEqual([]);
    });

    it('LISTEN hears nothing (PgBouncer drops the notification); on the session URL it arrives', async () => {
      const heard = { pooled: [] as (string | undefined)[], session: [] as (string | undefined)[] };
      const pooled = new WakeupListener({ connectionString: bouncer!.url('one') }, (q) => heard.pooled.push(q), silentLog);
      const session = new WakeupListener(sessionClientConfig({ connectionString: bouncer!.url('app') }, direct), (q) => heard.session.push(q), silentLog);
      const sender = await connect(bouncer!.url('app'));
      try {
        await pooled.start();
        await session.start();
        // A send as JobSystem makes it: NOTIFY inside the transaction that queues the job, through the pooler.
        await sender.query('BEGIN');
        await sender.query(NOTIFY_SQL, ['run']);
        await sender.query('COMMIT');
        await bouncer!.waitForLog(/got packet 'A' from server when not linked/);
        for (let i = 0; i < 200 && heard.session.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
        expect(heard.session).toEqual(['run']);
        expect(heard.pooled).toEqual([]);
      } finally {
        await Promise.all([pooled.stop(), session.stop(), sender.end()]);
      }
    });
  });

  describe('pooled traffic through PgBouncer, DATABASE_SESSION_URL to PostgreSQL', () => {
    let receiver: ConnectorReceiver | undefined;
    const apps: RunningApp[] = [];

    beforeAll(async () => {
      receiver = new ConnectorReceiver();
      await receiver.start();
    });
    afterAll(async () => {
      await Promise.allSettled(apps.map((a) => a.close()));
      await receiver?.stop();
    }, 30_000);

    it('web + worker: a confirmed order runs on the worker at once (wake-up), turn locks and LISTEN bypass the pooler', async () => {
      // Workers poll every 60 s: a job that runs sooner was woken by the NOTIFY of its send.
      const env = { DATABASE_SESSION_URL: direct, JOB_POLL_INTERVAL_S: '60', JOB_STILL_WORKING_S: '0' };
      const config = { mode: 'postgres' as const, url: bouncer!.url('app') };
      const worker = await startProcurementApp(config, { ...env, ROLE: 'worker' });
      apps.push(worker);
      const web = await startProcurementApp(config, { ...env, ROLE: 'web' });
      apps.push(web);

      // Both ran their migrations: the migration lock went to PostgreSQL and was released with its session.
      const check = await connect(direct);
      closers.push(() => check.end());
      const migrationLocks = async () =>
        (await check.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = $1", [MIGRATION_LOCK_KEY])).rows[0]!.n;
      for (let i = 0; i < 100 && (await migrationLocks()) > 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(await migrationLocks()).toBe(0);

      const user = new ChatUser(() => web.url, receiver!, 'pgbouncer-buyer', 'Pooled Buyer');
      await user.say('order 20 units of SKU-1001 from Acme Corp');
      expect(allText(await user.click('Confirm'))).toMatch(/^On it/);
      // While the turn lock connection is open (it closes after 10 s idle): nothing session-bound on the pooler.
      const viaPooler = await bouncer!.clients();
      expect(viaPooler).toContain('rpa-assistant'); // the pools (turns, pg-boss) do go through it
      expect(viaPooler).not.toContain('rpa-assistant turn locks');
      expect(viaPooler).not.toContain('rpa-assistant-wakeups');
      const onServer = (await check.query<{ application_name: string; query: string }>('SELECT application_name, query FROM pg_stat_activity WHERE datname = current_database()')).rows;
      expect(onServer.some((r) => r.application_name === 'rpa-assistant turn locks')).toBe(true);
      expect(onServer.some((r) => r.application_name === 'rpa-assistant-wakeups' && /LISTEN rpa_job_wakeup/.test(r.query))).toBe(true);

      await user.waitForNotification(/✅ PO-\d+ is placed/, 20_000);
      const jobs = (await check.query<{ status: string }>('SELECT status FROM automation_jobs WHERE requested_by = $1', ['pgbouncer-buyer'])).rows;
      expect(jobs).toEqual([{ status: 'succeeded' }]);
    }, 90_000);
  });
});
