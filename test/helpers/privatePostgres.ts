/**
 * A private PostgreSQL cluster for outage tests: `initdb` + `pg_ctl` from Debian's postgresql
 * package (PG_BIN, default /usr/lib/postgresql/15/bin) in a temporary directory, on a free
 * loopback port, that a test may stop the hard way (`pg_ctl -m immediate`: every backend is
 * killed, crash recovery on the next start) and start again on the same port.
 *
 *   const pg = await startPrivatePostgres();      // skipped when privatePostgresUnavailable() says why
 *   const url = await pg.createDatabase('app');
 *   await pg.stop('immediate'); … await pg.start();
 *   await pg.dispose();                            // in afterAll; also runs on process exit
 *
 * PostgreSQL refuses to run as root: when this process is root, the binaries run as `postgres`
 * through `runuser`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { freePort } from '../../src/util/freePort.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';
const RUN_AS = 'postgres';

export interface PrivatePostgres {
  readonly port: number;
  readonly dataDir: string;
  /** A connection URL for `database` on this cluster. */
  url(database?: string): string;
  /** Creates a database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** `fast` shuts down cleanly; `immediate` kills every backend (crash recovery on the next start). */
  stop(mode?: 'fast' | 'immediate'): void;
  /** Starts the cluster again on the same port; resolves once it accepts connections. */
  start(): void;
  readonly running: boolean;
  /** Stops the cluster (immediately) and deletes its directory. Idempotent. */
  dispose(): void;
}

/** Why a private cluster cannot be made here, or false. */
export function privatePostgresUnavailable(): string | false {
  if (!existsSync(join(PG_BIN, 'initdb')) || !existsSync(join(PG_BIN, 'pg_ctl'))) return `no initdb/pg_ctl in ${PG_BIN}`;
  if (process.getuid?.() === 0 && spawnSync('id', ['-u', RUN_AS]).status !== 0) return `running as root and there is no "${RUN_AS}" user`;
  return false;
}

const live = new Set<PrivatePostgres>();
let exitHookInstalled = false;

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const unavailable = privatePostgresUnavailable();
  if (unavailable) throw new Error(`cannot start a private PostgreSQL: ${unavailable}`);
  const asRoot = process.getuid?.() === 0;
  const root = mkdtempSync(join(tmpdir(), 'rpa-private-pg-'));
  const dataDir = join(root, 'data');
  const socketDir = join(root, 'run');
  const logFile = join(root, 'postgres.log');
  mkdirSync(socketDir);
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', RUN_AS]).toString().trim());
    const gid = Number(execFileSync('id', ['-g', RUN_AS]).toString().trim());
    for (const path of [root, socketDir]) chownSync(path, uid, gid);
  }
  const run = (bin: string, args: string[], timeoutMs = 60_000) => {
    const [cmd, argv] = asRoot ? ['runuser', ['-u', RUN_AS, '--', join(PG_BIN, bin), ...args]] : [join(PG_BIN, bin), args];
    const result = spawnSync(cmd, argv, { timeout: timeoutMs, encoding: 'utf8' });
    if (result.status !== 0) {
      const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : '';
      throw new Error(`${bin} ${args.join(' ')} failed (${result.status ?? result.signal}): ${result.stderr || result.stdout}\n${log}`);
    }
  };
  let port = 0;
  let running = false;
  let disposed = false;
  const cluster: PrivatePostgres = {
    get port() {
      return port;
    },
    dataDir,
    get running() {
      return running;
    },
    url: (database = 'postgres') => `postgres://${RUN_AS}@127.0.0.1:${port}/${database}`,
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
      const client = new pg.Client({ connectionString: cluster.url(), connectionTimeoutMillis: 5_000 });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end().catch(() => {});
      }
      return cluster.url(name);
    },
    stop(mode = 'fast') {
      if (!running) return;
      run('pg_ctl', ['stop', '-D', dataDir, '-m', mode, '-w', '-t', '30']);
      running = false;
    },
    start() {
      if (running) return;
      const options = `-p ${port} -k ${socketDir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=50`;
      run('pg_ctl', ['start', '-D', dataDir, '-l', logFile, '-w', '-t', '60', '-o', options]);
      running = true;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      live.delete(cluster);
      try {
        if (running) run('pg_ctl', ['stop', '-D', dataDir, '-m', 'immediate', '-w', '-t', '30']);
      } catch {
        // already gone
      }
      running = false;
      rmSync(root, { recursive: true, force: true });
    },
  };
  try {
    run('initdb', ['-D', dataDir, '-U', RUN_AS, '-A', 'trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
    port = await freePort();
    cluster.start();
  } catch (err) {
    cluster.dispose();
    throw err;
  }
  live.add(cluster);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // afterAll may never run (a crashed worker, a timeout): never leave a postmaster behind.
    process.on('exit', () => {
      for (const c of [...live]) c.dispose();
    });
  }
  return cluster;
}
